// ProcessPoolExecutor: the queue, and one feeding thread per worker process.
//
// Invariants (all under mu_): a job is in queue_ or owned by exactly one
// thread; threads_.size() <= max_workers_; pids_[slot] is the pid of the
// process slot's thread runs now, or 0. A thread spawns its process when it
// first has a job, replaces it after a crash or after max_tasks_per_child
// calls, and closes and reaps it before it exits, so once shutdown(true)
// returns no worker process is left, zombie or alive.
#include "corio/process/executor.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "child.hpp"

namespace corio::process {

namespace {

std::size_t default_workers(long n) {
    if (n < 0) {
        throw std::invalid_argument("corio::process: max_workers must be >= 0 (0: one per core)");
    }
    if (n > 0) {
        return static_cast<std::size_t>(n);
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

ProcessPoolExecutor::ProcessPoolExecutor(ProcessPoolOptions options)
    : options_(std::move(options)), max_workers_(default_workers(options_.max_workers)) {}

ProcessPoolExecutor::~ProcessPoolExecutor() {
    shutdown(true);
}

void ProcessPoolExecutor::enqueue(std::vector<std::unique_ptr<detail::Job>> jobs) {
    std::lock_guard lock(mu_);
    if (shutdown_) {
        throw RuntimeError("cannot schedule new futures after shutdown");
    }
    if (broken_) {
        throw BrokenProcessPool(*broken_);
    }
    for (auto& j : jobs) {
        queue_.push_back(std::move(j));
    }
    while (queue_.size() > idle_ && threads_.size() < max_workers_) {
        pids_.push_back(0);
        threads_.emplace_back([this, slot = threads_.size()] { worker_main(slot); });
        ++idle_;  // counted idle until it takes its first job
    }
    cv_.notify_all();
}

std::vector<std::unique_ptr<detail::Job>> ProcessPoolExecutor::take(std::size_t limit) {
    std::vector<std::unique_ptr<detail::Job>> batch;
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || shutdown_ || broken_; });
    --idle_;
    if (broken_ || queue_.empty()) {
        return batch;
    }
    // This thread's share of the queue (at least one job, at most
    // kMaxBatch), so that many small calls cost one round trip per batch
    // while every worker still gets work.
    std::size_t n =
        std::max<std::size_t>(1, queue_.size() / std::max<std::size_t>(1, threads_.size()));
    n = std::min({n, kMaxBatch, std::max<std::size_t>(1, limit)});
    // AsyncPool's jobs go one at a time: a job taken counts as started, and a
    // cancelled map must find the rest still queued.
    for (; n > 0 && !queue_.empty(); --n) {
        if (!batch.empty() && (batch.front()->request.kind != detail::Request::call ||
                               queue_.front()->request.kind != detail::Request::call)) {
            break;
        }
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    return batch;
}

void ProcessPoolExecutor::set_pid(std::size_t slot, pid_t pid) {
    std::lock_guard lock(mu_);
    pids_[slot] = pid;
}

void ProcessPoolExecutor::break_pool(const std::string& reason) {
    std::deque<std::unique_ptr<detail::Job>> dropped;
    {
        std::lock_guard lock(mu_);
        broken_ = reason;
        dropped.swap(queue_);
    }
    cv_.notify_all();
    auto e = std::make_exception_ptr(BrokenProcessPool(reason));
    for (auto& j : dropped) {
        if (j->start()) {
            j->fail(e);
        }
    }
}

namespace {

void fail_all(std::vector<std::unique_ptr<detail::Job>>& batch, std::exception_ptr e) {
    for (auto& j : batch) {
        j->fail(e);
    }
}

// Starts a worker and runs the initializer in it; throws BrokenProcessPool
// if the initializer fails, std::system_error if the worker cannot start.
detail::Child start_worker(const ProcessPoolOptions& options) {
    detail::Child child = detail::Child::spawn(detail::Mode::pool);
    if (!options.initializer) {
        return child;
    }
    std::vector<detail::Request> init{
        {detail::Request::init, options.initializer->name, {options.initializer->args}}};
    std::string frame;
    std::vector<std::vector<detail::Outcome>> out;
    if (child.send(encode(init)) && child.recv(frame)) {
        out = decode<std::vector<std::vector<detail::Outcome>>>(frame);
    }
    if (out.empty() || out.front().empty() || !out.front().front().ok) {
        std::string why = out.empty() || out.front().empty()
                              ? "the worker died"
                              : out.front().front().error_type + ": " + out.front().front().value;
        throw BrokenProcessPool("corio::process: the pool's initializer failed (" + why +
                                "); the pool is broken");
    }
    return child;
}

// The batch as one frame: a vector of Requests, encoded in place (a large
// argument is copied once, into the frame).
std::string encode_batch(const std::vector<std::unique_ptr<detail::Job>>& batch) {
    std::string out;
    Writer w(out);
    w.varint(batch.size());
    for (const auto& j : batch) {
        Codec<detail::Request>::encode(w, j->request);
    }
    return out;
}

}  // namespace

void ProcessPoolExecutor::worker_main(std::size_t slot) {
    detail::Child child;
    std::size_t calls = 0;  // run by this process
    std::string frame;
    for (;;) {
        std::size_t limit =
            options_.max_tasks_per_child
                ? options_.max_tasks_per_child - std::min(calls, options_.max_tasks_per_child)
                : kMaxBatch;
        auto batch = take(limit);
        if (batch.empty()) {
            break;
        }
        std::erase_if(batch, [](const auto& j) { return !j->start(); });
        if (!batch.empty() && !child.started()) {
            try {
                child = start_worker(options_);
                set_pid(slot, child.pid());
                calls = 0;
            } catch (const BrokenProcessPool& e) {
                child = {};
                set_pid(slot, 0);
                // Broken before the futures fail: who sees the error and
                // submits again must get BrokenProcessPool.
                break_pool(e.what());
                fail_all(batch, std::current_exception());
                break;
            } catch (...) {
                child = {};
                set_pid(slot, 0);
                fail_all(batch, std::current_exception());
                batch.clear();
            }
        }
        if (batch.empty()) {
        } else if (!child.send(encode_batch(batch)) || !child.recv(frame)) {
            child.close_channel();
            int status = child.wait();
            fail_all(
                batch,
                std::make_exception_ptr(BrokenProcessPool(
                    "corio::process: a worker process (pid " + std::to_string(child.pid()) + ") " +
                    detail::Child::describe(status) + " while running '" +
                    batch.front()->request.name + "'; the pool starts a new one for later work")));
            child = {};
            set_pid(slot, 0);
        } else {
            try {
                auto replies = decode<std::vector<std::vector<detail::Outcome>>>(frame);
                for (std::size_t i = 0; i < batch.size(); ++i) {
                    std::vector<detail::Outcome> none;
                    batch[i]->finish(i < replies.size() ? replies[i] : none);
                    calls += batch[i]->request.args.size();
                }
            } catch (...) {
                fail_all(batch, std::current_exception());
            }
            if (options_.max_tasks_per_child && calls >= options_.max_tasks_per_child) {
                child.close_channel();
                child.wait();
                child = {};
                set_pid(slot, 0);
            }
        }
        batch.clear();  // settle before counting idle (a waiter may then shut down)
        std::lock_guard lock(mu_);
        ++idle_;
    }
    child.close_channel();
    child.wait();
    set_pid(slot, 0);
}

void ProcessPoolExecutor::shutdown(bool wait, bool cancel_futures) {
    std::deque<std::unique_ptr<detail::Job>> dropped;
    {
        std::lock_guard lock(mu_);
        shutdown_ = true;
        if (cancel_futures) {
            dropped.swap(queue_);
        }
    }
    cv_.notify_all();
    for (auto& j : dropped) {
        j->cancel();
    }
    if (!wait) {
        return;
    }
    std::lock_guard join_lock(join_mu_);
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mu_);
        threads.swap(threads_);
    }
    for (auto& t : threads) {
        if (t.joinable()) {
            t.join();
        }
    }
}

bool ProcessPoolExecutor::is_shutdown() const {
    std::lock_guard lock(mu_);
    return shutdown_;
}

std::vector<pid_t> ProcessPoolExecutor::pids() const {
    std::lock_guard lock(mu_);
    std::vector<pid_t> out;
    for (pid_t p : pids_) {
        if (p > 0) {
            out.push_back(p);
        }
    }
    return out;
}

}  // namespace corio::process
