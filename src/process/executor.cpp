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

std::unique_ptr<detail::Job> ProcessPoolExecutor::take() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !queue_.empty() || shutdown_ || broken_; });
    --idle_;
    if (broken_ || queue_.empty()) {
        return nullptr;
    }
    auto job = std::move(queue_.front());
    queue_.pop_front();
    return job;
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

void ProcessPoolExecutor::worker_main(std::size_t slot) {
    detail::Child child;
    std::size_t calls = 0;  // run by this process
    std::string frame;
    for (;;) {
        std::unique_ptr<detail::Job> job = take();
        if (!job) {
            break;
        }
        if (!job->start()) {
            std::lock_guard lock(mu_);
            ++idle_;
            continue;
        }
        if (!child.started()) {
            try {
                child = detail::Child::spawn(detail::Mode::pool);
                set_pid(slot, child.pid());
                calls = 0;
                if (options_.initializer) {
                    detail::Request init{detail::Request::init,
                                         options_.initializer->name,
                                         {options_.initializer->args}};
                    std::vector<detail::Outcome> out;
                    if (!child.send(encode(init)) || !child.recv(frame) ||
                        (out = decode<std::vector<detail::Outcome>>(frame)).empty() ||
                        !out.front().ok) {
                        std::string why = out.empty()
                                              ? "the worker died"
                                              : out.front().error_type + ": " + out.front().value;
                        throw BrokenProcessPool("corio::process: the pool's initializer failed (" +
                                                why + "); the pool is broken");
                    }
                }
            } catch (const BrokenProcessPool& e) {
                child = {};
                set_pid(slot, 0);
                job->fail(std::current_exception());
                break_pool(e.what());
                break;
            } catch (...) {
                child = {};
                set_pid(slot, 0);
                job->fail(std::current_exception());
                std::lock_guard lock(mu_);
                ++idle_;
                continue;
            }
        }
        if (!child.send(encode(job->request)) || !child.recv(frame)) {
            child.close_channel();
            int status = child.wait();
            job->fail(std::make_exception_ptr(BrokenProcessPool(
                "corio::process: a worker process (pid " + std::to_string(child.pid()) + ") " +
                detail::Child::describe(status) + " while running '" + job->request.name +
                "'; the pool starts a new one for later work")));
            child = {};
            set_pid(slot, 0);
        } else {
            std::vector<detail::Outcome> outcomes;
            try {
                outcomes = decode<std::vector<detail::Outcome>>(frame);
                calls += job->request.args.size();
                job->finish(outcomes);
            } catch (...) {
                job->fail(std::current_exception());
            }
            if (options_.max_tasks_per_child && calls >= options_.max_tasks_per_child) {
                child.close_channel();
                child.wait();
                child = {};
                set_pid(slot, 0);
            }
        }
        job.reset();  // settle before counting idle (a waiter may then shut down)
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
