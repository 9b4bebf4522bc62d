// src/core/run.cpp - Runner (and so run()): making the loop, and shutting
// it down as asyncio.Runner.close() does.
#include "corio/run.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "corio/executor.hpp"
#include "shutdown.hpp"

namespace corio {
namespace detail {

void cancel_all_tasks(EventLoop& loop, const char* who) {
    for (int round = 0; round < 16; ++round) {
        std::vector<TaskHandle<void>> tasks;
        for (TaskState* t = LoopAccess::first_task(loop); t; t = t->next_task) {
            t->add_ref();
            tasks.emplace_back(t);
        }
        if (tasks.empty()) {
            return;
        }
        auto remaining = std::make_shared<std::size_t>(tasks.size());
        for (auto& t : tasks) {
            t.cancel();
            t.add_done_callback([&loop, remaining](TaskHandle<void>) {
                if (--*remaining == 0) {
                    loop.stop();
                }
            });
        }
        loop.run_forever();
        for (auto& t : tasks) {
            if (t.done() && !t.cancelled() && t.exception()) {
                loop.call_exception_handler(
                    ExceptionContext{std::string("unhandled exception during ") + who + " shutdown",
                                     t.exception(), t.get_name(), t.state()->task_source()});
            }
        }
    }
}

void finish_run(EventLoop& loop, const char* who) noexcept {
    try {
        cancel_all_tasks(loop, who);
        loop.run_until_complete(loop.shutdown_asyncgens());
        // asyncio's shutdown_default_executor(): wait for its threads.
        if (std::shared_ptr<Executor> ex = std::move(LoopAccess::default_executor(loop))) {
            ex->shutdown(true);
        }
    } catch (...) {
        loop.call_exception_handler(ExceptionContext{
            std::string("error while finishing ") + who, std::current_exception(), {}, {}});
    }
    try {
        loop.close();
    } catch (...) {
        loop.call_exception_handler(
            ExceptionContext{std::string("error while closing the loop of ") + who,
                             std::current_exception(),
                             {},
                             {}});
    }
}

SigintCancelsMain::SigintCancelsMain(EventLoop& loop, TaskHandle<void> main)
    : loop_(loop), main_(std::move(main)) {
    if (::getpid() != static_cast<pid_t>(::syscall(SYS_gettid))) {
        return;  // not the main thread
    }
    struct sigaction current {};
    if (::sigaction(SIGINT, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) {
        return;  // the program handles SIGINT itself
    }
    loop_.add_signal_handler(SIGINT, [this] {
        if (++count_ == 1 && !main_.done()) {
            main_.cancel();
            return;
        }
        ::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the program
        ::raise(SIGINT);
    });
    installed_ = true;
}

SigintCancelsMain::~SigintCancelsMain() {
    if (installed_) {
        loop_.remove_signal_handler(SIGINT);
    }
}

void SigintCancelsMain::rethrow_as_interrupt() {
    if (count_ > 0 && main_.uncancel() == 0) {
        throw KeyboardInterrupt();
    }
}

}  // namespace detail

Runner::~Runner() {
    if (loop_ && loop_->is_running()) {
        return;  // destroyed from inside its own loop: EventLoop's destructor reports it
    }
    close();
}

void Runner::check_can_run_impl(bool reused, const char* call) const {
    std::string name = who_ != nullptr ? std::string(who_) : std::string("Runner::") + call;
    if (detail::tls_running_loop != nullptr) {
        throw RuntimeError(name + " cannot be called from a running event loop");
    }
    if (closed_) {
        throw RuntimeError(name + ": the Runner is closed");
    }
    if (reused) {
        throw RuntimeError("cannot reuse already awaited coroutine (" + name +
                           ": the Task is empty or was already awaited)");
    }
}

EventLoop& Runner::get_loop() {
    if (closed_) {
        throw RuntimeError(std::string(who_ != nullptr ? who_ : "Runner::get_loop()") +
                           ": the Runner is closed");
    }
    if (!loop_) {
        loop_ = std::make_unique<EventLoop>(options_);
        context_ = copy_context().ref();
    }
    return *loop_;
}

void Runner::close() {
    if (closed_) {
        return;
    }
    if (loop_ && loop_->is_running()) {
        throw RuntimeError("Runner::close() cannot be called while its loop is running");
    }
    closed_ = true;
    if (loop_) {
        detail::finish_run(*loop_, who_ != nullptr ? who_ : "Runner::close()");
    }
}

}  // namespace corio
