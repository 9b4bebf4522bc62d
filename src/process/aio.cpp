// run()'s one-off children, and AsyncPool.
#include "corio/process/aio.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
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

ProcessPoolOptions pool_options(const AsyncPoolOptions& o) {
    if (o.childconcurrency == 0) {
        throw std::invalid_argument("corio::process::AsyncPool: childconcurrency must be >= 1");
    }
    return ProcessPoolOptions{o.processes, o.initializer, o.maxtasksperchild};
}

}  // namespace

AsyncPool::AsyncPool(AsyncPoolOptions options)
    : workers_(0), childconcurrency_(options.childconcurrency), pool_(pool_options(options)) {
    workers_ = pool_.max_workers();
}

Task<> AsyncPool::join() {
    co_await corio::to_thread([this] { pool_.shutdown(true); });
}

}  // namespace corio::process
