// run()'s one-off children, and AsyncPool.
#include "corio/process/aio.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include "child.hpp"

namespace corio::process {

namespace detail {

std::string describe_status(int status) {
    return Child::describe(status);
}

std::shared_ptr<OnceRun> OnceRun::start(Call call, Done done) {
    auto self = std::make_shared<OnceRun>();
    // Spawn here, so that a failure to start throws to the caller.
    auto child = std::make_shared<Child>(Child::spawn(Mode::once));
    self->pid_ = child->pid();
    // The thread owns the child; it ends when the child does, and it holds
    // `self` only until then (cancel() after that finds pid_ == -1).
    std::thread([self, child, call = std::move(call), done = std::move(done)]() mutable {
        Request req{Request::call, std::move(call.name), {std::move(call.args)}};
        std::string frame;
        std::vector<Outcome> reply;
        if (child->send(encode(req)) && child->recv(frame)) {
            try {
                reply = decode<std::vector<Outcome>>(frame);
            } catch (...) {
                reply.clear();
            }
        }
        child->close_channel();
        // Wait without reaping first: until it is reaped the pid cannot be
        // reused, so a cancel() meanwhile can only signal our own child.
        siginfo_t info;
        while (::waitid(P_PID, static_cast<id_t>(child->pid()), &info, WEXITED | WNOWAIT) < 0 &&
               errno == EINTR) {
        }
        {
            std::lock_guard lock(self->mu_);
            self->pid_ = -1;
        }
        int status = child->wait();
        done(reply, status);
    }).detach();
    return self;
}

void OnceRun::cancel() noexcept {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
    }
}

}  // namespace detail

namespace {

std::size_t worker_count(const AsyncPoolOptions& o) {
    if (o.childconcurrency == 0) {
        throw std::invalid_argument("corio::process::AsyncPool: childconcurrency must be >= 1");
    }
    if (o.processes < 0) {
        throw std::invalid_argument("corio::process::AsyncPool: processes must be >= 0");
    }
    std::size_t n = o.processes > 0 ? static_cast<std::size_t>(o.processes)
                                    : std::max(1u, std::thread::hardware_concurrency());
    if (o.queuecount == 0 || o.queuecount > n) {
        throw std::invalid_argument(
            "corio::process::AsyncPool: queuecount must be between 1 and the processes (" +
            std::to_string(n) + ")");
    }
    return n;
}

}  // namespace

AsyncPool::AsyncPool(AsyncPoolOptions options)
    : workers_(worker_count(options)), childconcurrency_(options.childconcurrency) {
    // The workers split as evenly as they can: 5 over 2 queues is 3 + 2.
    for (std::size_t q = 0; q < options.queuecount; ++q) {
        std::size_t share = workers_ / options.queuecount + (q < workers_ % options.queuecount);
        queues_.push_back(std::make_unique<ProcessPoolExecutor>(ProcessPoolOptions{
            static_cast<long>(share), options.initializer, options.maxtasksperchild}));
    }
}

std::vector<pid_t> AsyncPool::pids() const {
    std::vector<pid_t> all;
    for (const auto& q : queues_) {
        auto p = q->pids();
        all.insert(all.end(), p.begin(), p.end());
    }
    return all;
}

Task<> AsyncPool::join() {
    co_await corio::to_thread([this] {
        for (auto& q : queues_) {
            q->shutdown(true);
        }
    });
}

}  // namespace corio::process
