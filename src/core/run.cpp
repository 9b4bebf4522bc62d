// src/core/run.cpp - the end of corio::run().
#include "corio/run.hpp"

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "corio/executor.hpp"
#include "shutdown.hpp"

namespace corio::detail {

void cancel_all_tasks(EventLoop& loop, const char* what) {
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
                loop.call_exception_handler(ExceptionContext{
                    std::string("unhandled exception during ") + what + " shutdown", t.exception(),
                    t.get_name(), t.state()->task_source()});
            }
        }
    }
}

void finish_run(EventLoop& loop) noexcept {
    try {
        cancel_all_tasks(loop, "corio::run()");
        // asyncio's shutdown_default_executor(): wait for its threads.
        if (std::shared_ptr<Executor> ex = std::move(LoopAccess::default_executor(loop))) {
            ex->shutdown(true);
        }
    } catch (...) {
        loop.call_exception_handler(ExceptionContext{
            "error while finishing corio::run()", std::current_exception(), {}, {}});
    }
    try {
        loop.close();
    } catch (...) {
        loop.call_exception_handler(
            ExceptionContext{"error while closing the loop", std::current_exception(), {}, {}});
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

}  // namespace corio::detail
