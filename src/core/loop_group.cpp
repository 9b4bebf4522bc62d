// src/core/loop_group.cpp - LoopGroup: N loops on N threads, their mains,
// signals, and a shutdown that leaks nothing.
//
// Threads and ownership. Each Shard's thread makes its EventLoop, runs it
// until asked to exit, then closes and destroys it on that same thread
// (loops are registered per thread). Everything the group does on a loop
// goes through call_soon_threadsafe and runs on that loop's thread; fields
// marked "loop thread" are touched there only. Impl's other state is
// guarded by Impl::mu, and the thread calling run() / join() waits on
// Impl::cv for the loops' answers.
//
// Shutdown protocol (drain_all, then exit_all):
//   1. every loop cancels all its tasks and waits for them, round after round
//      while new ones appear, and answers whether it had any;
//   2. this repeats, all loops at a time, until one pass finds no task on any
//      loop (or after kMaxDrainPasses), so a task unwinding on loop A may
//      still call loop B (submit_to) and be answered;
//   3. only then does each loop leave run_forever(), cancel stragglers,
//      close and end its thread; join() then shuts the executor down once.
#include "corio/loop_group.hpp"

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>

#include "corio/errors.hpp"
#include "shutdown.hpp"

namespace corio {

namespace {

constexpr int kMaxDrainRounds = 16;  // per loop and pass, as cancel_all_tasks
constexpr int kMaxDrainPasses = 16;

void name_thread(std::size_t i) {
    std::string name = "corio-loop-" + std::to_string(i);
    ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
}

// Pins the calling thread to the i-th CPU it may run on (modulo their number).
void pin_thread(std::size_t i) {
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    if (::sched_getaffinity(0, sizeof allowed, &allowed) != 0) {
        throw std::system_error(errno, std::generic_category(), "LoopGroup: sched_getaffinity");
    }
    std::vector<int> cpus;
    for (int c = 0; c < CPU_SETSIZE; ++c) {
        if (CPU_ISSET(c, &allowed)) {
            cpus.push_back(c);
        }
    }
    if (cpus.empty()) {
        return;
    }
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpus[i % cpus.size()], &one);
    if (int err = ::pthread_setaffinity_np(::pthread_self(), sizeof one, &one); err != 0) {
        throw std::system_error(err, std::generic_category(), "LoopGroup: pthread_setaffinity_np");
    }
}

bool default_action(int sig) {
    struct sigaction current {};
    return ::sigaction(sig, nullptr, &current) == 0 && current.sa_handler == SIG_DFL &&
           (current.sa_flags & SA_SIGINFO) == 0;
}

const char* signal_name(int sig) {
    return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

}  // namespace

struct LoopGroup::Shard {
    explicit Shard(std::size_t i) : index(i) {}
    std::size_t index;
    EventLoop* loop = nullptr;  // set by its thread before the constructor returns
    std::thread thread;
    // Loop thread only.
    bool exit_requested = false;
    TaskHandle<void> main;
    int signals_seen = 0;
};

// One run() call; lives on the caller's stack, reached through Impl::run.
struct LoopGroup::RunState {
    MainFactory make_main;
    // Under Impl::mu.
    std::size_t remaining = 0;
    std::exception_ptr first_error;   // the first main that failed
    std::exception_ptr first_cancel;  // the first main that ended cancelled
    bool cancelling = false;          // the group cancels its mains (new ones too)
    std::string cancel_message;
    int signal = 0;  // the first signal that stopped the group
    bool sigint = false, sigterm = false;
};

struct LoopGroup::Impl {
    LoopGroupOptions options;
    std::shared_ptr<Executor> executor;
    std::vector<std::unique_ptr<Shard>> shards;

    std::mutex mu;
    std::condition_variable cv;
    // Under mu.
    std::size_t started = 0;
    std::exception_ptr start_error;
    bool stop_requested = false;
    bool joining = false;
    bool joined = false;
    RunState* run = nullptr;
    std::size_t drain_replies = 0;
    bool drain_found_tasks = false;

    void thread_main(Shard& sh);
    bool start_loop(Shard& sh, std::optional<EventLoop>& loop);
    void on_each(detail::Function<void(Shard&)> fn);
    void post(Shard& sh, detail::Callback cb) noexcept;

    void start_main(Shard& sh, RunState& rs);
    void main_done(Shard& sh, TaskHandle<void>& t);
    void cancel_mains_locked(std::string msg);
    void on_signal(Shard& sh, int sig);
    void install_signals(bool sigint, bool sigterm);
    void remove_signals(bool sigint, bool sigterm);

    void drain_all();
    void drain_loop(Shard& sh, int round, bool had_tasks);
    void exit_all();
    bool on_own_loop() const noexcept;
};

// -- Threads ----------------------------------------------------------------

bool LoopGroup::Impl::start_loop(Shard& sh, std::optional<EventLoop>& loop) {
    try {
        name_thread(sh.index);
        if (options.pin_threads) {
            pin_thread(sh.index);
        }
        loop.emplace(options.loop);
        loop->set_default_executor(executor);
        if (options.on_thread_start) {
            options.on_thread_start(*loop, sh.index);
        }
        return true;
    } catch (...) {
        std::lock_guard lock(mu);
        if (!start_error) {
            start_error = std::current_exception();
        }
    }
    if (loop) {
        detail::LoopAccess::default_executor(*loop).reset();
        loop->close();
    }
    return false;
}

void LoopGroup::Impl::thread_main(Shard& sh) {
    std::optional<EventLoop> loop;
    bool ok = start_loop(sh, loop);
    {
        std::lock_guard lock(mu);
        sh.loop = ok ? &*loop : nullptr;
        ++started;
    }
    cv.notify_all();
    if (!ok) {
        return;
    }
    while (!sh.exit_requested) {
        try {
            loop->run_forever();  // returns early if somebody else calls loop.stop()
        } catch (...) {
            loop->call_exception_handler(ExceptionContext{
                "LoopGroup: the loop's run_forever() failed", std::current_exception(), {}, {}});
        }
    }
    try {
        detail::cancel_all_tasks(*loop, "LoopGroup");  // tasks that arrived after the drain
    } catch (...) {
        loop->call_exception_handler(
            ExceptionContext{"LoopGroup: error while cancelling the loop's tasks",
                             std::current_exception(),
                             {},
                             {}});
    }
    if (options.on_thread_stop) {
        try {
            options.on_thread_stop(*loop, sh.index);
        } catch (...) {
            loop->call_exception_handler(ExceptionContext{
                "LoopGroup: on_thread_stop failed", std::current_exception(), {}, {}});
        }
    }
    // The group shuts its executor down once, after every loop closed.
    detail::LoopAccess::default_executor(*loop).reset();
    loop->close();
}

void LoopGroup::Impl::post(Shard& sh, detail::Callback cb) noexcept {
    try {
        sh.loop->call_soon_threadsafe(std::move(cb));
    } catch (...) {
        // Only a closed loop refuses, and loops close after the group's last post.
    }
}

// Runs fn(shard) on every loop (concurrently) and waits for all of them.
void LoopGroup::Impl::on_each(detail::Function<void(Shard&)> fn) {
    struct Pending {
        std::mutex mu;
        std::condition_variable cv;
        std::size_t left;
        std::exception_ptr error;
    } pending;
    pending.left = shards.size();
    for (auto& sh : shards) {
        post(*sh, [&pending, &fn, s = sh.get()] {
            std::exception_ptr e;
            try {
                fn(*s);
            } catch (...) {
                e = std::current_exception();
            }
            std::lock_guard lock(pending.mu);
            if (e && !pending.error) {
                pending.error = e;
            }
            if (--pending.left == 0) {
                pending.cv.notify_all();
            }
        });
    }
    std::unique_lock lock(pending.mu);
    pending.cv.wait(lock, [&] { return pending.left == 0; });
    if (pending.error) {
        std::rethrow_exception(pending.error);
    }
}

bool LoopGroup::Impl::on_own_loop() const noexcept {
    EventLoop* running = detail::tls_running_loop;
    return std::any_of(shards.begin(), shards.end(),
                       [&](const auto& sh) { return running != nullptr && sh->loop == running; });
}

LoopGroup::LoopGroup(LoopGroupOptions options) : impl_(std::make_unique<Impl>()) {
    Impl& im = *impl_;
    std::size_t n = options.threads != 0 ? options.threads : std::thread::hardware_concurrency();
    n = std::max<std::size_t>(n, 1);
    im.executor = options.default_executor ? options.default_executor
                                           : std::make_shared<ThreadPoolExecutor>(0, "asyncio");
    im.options = std::move(options);
    for (std::size_t i = 0; i < n; ++i) {
        im.shards.push_back(std::make_unique<Shard>(i));
    }
    std::size_t launched = 0;
    std::exception_ptr launch_error;
    try {
        for (; launched < n; ++launched) {
            Shard& sh = *im.shards[launched];
            sh.thread = std::thread([&im, &sh] { im.thread_main(sh); });
        }
    } catch (...) {
        launch_error = std::current_exception();
    }
    std::unique_lock lock(im.mu);
    im.cv.wait(lock, [&] { return im.started == launched; });
    if (!launch_error && !im.start_error) {
        return;
    }
    // Undo: stop the loops that did start, then report why.
    lock.unlock();
    for (std::size_t i = 0; i < launched; ++i) {
        Shard& sh = *im.shards[i];
        if (sh.loop != nullptr) {
            im.post(sh, [&sh] {
                sh.exit_requested = true;
                sh.loop->stop();
            });
        }
        sh.thread.join();
    }
    im.executor->shutdown(true);
    im.joined = true;
    std::rethrow_exception(launch_error ? launch_error : im.start_error);
}

LoopGroup::~LoopGroup() {
    if (impl_->on_own_loop()) {
        std::fputs("corio: fatal: a LoopGroup was destroyed on one of its own loops\n", stderr);
        std::abort();
    }
    try {
        join();
    } catch (...) {
        std::fprintf(stderr, "corio: LoopGroup::join() failed in the destructor: %s\n",
                     describe_exception(std::current_exception()).c_str());
    }
}

std::size_t LoopGroup::size() const noexcept {
    return impl_->shards.size();
}

EventLoop& LoopGroup::loop(std::size_t i) const {
    if (i >= impl_->shards.size()) {
        throw std::out_of_range("LoopGroup::loop: index " + std::to_string(i) +
                                " out of range (size " + std::to_string(size()) + ")");
    }
    std::lock_guard lock(impl_->mu);
    if (impl_->joined) {
        throw RuntimeError("LoopGroup::loop: the group was joined; its loops are closed");
    }
    return *impl_->shards[i]->loop;
}

std::vector<EventLoop*> LoopGroup::loops() const {
    std::vector<EventLoop*> out;
    for (std::size_t i = 0; i < size(); ++i) {
        out.push_back(&loop(i));
    }
    return out;
}

std::optional<std::size_t> LoopGroup::index_of(const EventLoop& loop) const noexcept {
    for (const auto& sh : impl_->shards) {
        if (sh->loop == &loop) {
            return sh->index;
        }
    }
    return std::nullopt;
}

Executor& LoopGroup::executor() const noexcept {
    return *impl_->executor;
}

// -- Mains ------------------------------------------------------------------

void LoopGroup::run_mains(MainFactory make_main) {
    Impl& im = *impl_;
    if (detail::tls_running_loop != nullptr) {
        throw RuntimeError("LoopGroup::run() cannot be called from a running event loop");
    }
    RunState rs;
    rs.make_main = std::move(make_main);
    rs.remaining = im.shards.size();
    {
        std::lock_guard lock(im.mu);
        if (im.stop_requested || im.joining || im.joined) {
            throw RuntimeError("LoopGroup::run(): the group was stopped");
        }
        if (im.run != nullptr) {
            throw RuntimeError("LoopGroup::run(): a run() is already in progress");
        }
        im.run = &rs;
    }
    struct Leave {
        Impl& im;
        ~Leave() {
            std::lock_guard lock(im.mu);
            im.run = nullptr;
            im.cv.notify_all();
        }
    } leave{im};

    if (im.options.handle_signals) {
        rs.sigint = default_action(SIGINT);
        rs.sigterm = default_action(SIGTERM);
    }
    try {
        im.install_signals(rs.sigint, rs.sigterm);
    } catch (...) {
        im.remove_signals(rs.sigint, rs.sigterm);
        throw;
    }
    for (auto& sh : im.shards) {
        im.post(*sh, [&im, &rs, s = sh.get()] { im.start_main(*s, rs); });
    }
    {
        std::unique_lock lock(im.mu);
        im.cv.wait(lock, [&] { return rs.remaining == 0; });
    }
    im.remove_signals(rs.sigint, rs.sigterm);
    im.drain_all();

    if (rs.first_error) {
        std::rethrow_exception(rs.first_error);
    }
    if (rs.first_cancel) {
        if (rs.signal == SIGINT) {
            throw KeyboardInterrupt();
        }
        std::rethrow_exception(rs.first_cancel);
    }
}

// Loop thread.
void LoopGroup::Impl::start_main(Shard& sh, RunState& rs) {
    EventLoop& loop = *sh.loop;
    try {
        Task<void> main = rs.make_main(loop, sh.index);
        sh.main = loop.create_task(std::move(main), "main-" + std::to_string(sh.index));
    } catch (...) {
        // make_main threw: that main failed before it ran.
        std::exception_ptr e = std::current_exception();
        std::lock_guard lock(mu);
        if (!rs.first_error) {
            rs.first_error = e;
            cancel_mains_locked("LoopGroup: the main of loop " + std::to_string(sh.index) +
                                " failed");
        }
        if (--rs.remaining == 0) {
            cv.notify_all();
        }
        return;
    }
    {
        std::lock_guard lock(mu);
        if (rs.cancelling) {
            sh.main.cancel(rs.cancel_message);
        }
    }
    sh.main.add_done_callback([this, &sh](TaskHandle<void> t) { main_done(sh, t); });
}

// Loop thread: the main of `sh` finished.
void LoopGroup::Impl::main_done(Shard& sh, TaskHandle<void>& t) {
    sh.main = {};
    const bool cancelled = t.cancelled();
    std::exception_ptr e = t.state()->error_ptr();  // marks a failure retrieved
    bool report = false;
    {
        std::lock_guard lock(mu);
        RunState& rs = *run;
        std::string why = "LoopGroup: the main of loop " + std::to_string(sh.index);
        if (e && !cancelled) {
            if (!rs.first_error) {
                rs.first_error = e;
                cancel_mains_locked(why + " failed");
            } else {
                report = true;  // run() rethrows only the first
            }
        } else if (cancelled) {
            if (!rs.first_cancel) {
                rs.first_cancel = e;
            }
            cancel_mains_locked(why + " was cancelled");
        }
        if (--rs.remaining == 0) {
            cv.notify_all();
        }
    }
    if (report) {
        sh.loop->call_exception_handler(
            ExceptionContext{"LoopGroup: the main of loop " + std::to_string(sh.index) +
                                 " failed after another main had failed",
                             e, t.get_name(), t.state()->task_source()});
    }
}

// Cancels every main of the run in progress, once; mains that start later
// are cancelled as they start.
void LoopGroup::Impl::cancel_mains_locked(std::string msg) {
    if (run == nullptr || run->cancelling) {
        return;
    }
    run->cancelling = true;
    run->cancel_message = msg;
    for (auto& sh : shards) {
        post(*sh, [s = sh.get(), msg] {
            if (s->main) {
                s->main.cancel(msg);
            }
        });
    }
}

void LoopGroup::stop() noexcept {
    std::lock_guard lock(impl_->mu);
    impl_->stop_requested = true;
    try {
        impl_->cancel_mains_locked("LoopGroup.stop()");
    } catch (...) {
        // Out of memory building the message: the mains run on; join() still ends them.
    }
}

// -- Signals ----------------------------------------------------------------

// Loop thread: SIGINT or SIGTERM reached this loop (each loop gets every
// delivery). The first cancels this loop's main and makes the group cancel
// mains that start later; a second one ends the process.
void LoopGroup::Impl::on_signal(Shard& sh, int sig) {
    if (++sh.signals_seen > 1) {
        ::signal(sig, SIG_DFL);
        ::raise(sig);
        return;
    }
    std::string msg = std::string("LoopGroup: ") + signal_name(sig);
    {
        std::lock_guard lock(mu);
        if (run != nullptr) {
            if (run->signal == 0) {
                run->signal = sig;
            }
            if (!run->cancelling) {
                run->cancelling = true;
                run->cancel_message = msg;
            }
        }
    }
    if (sh.main) {
        sh.main.cancel(msg);
    }
}

void LoopGroup::Impl::install_signals(bool sigint, bool sigterm) {
    if (!sigint && !sigterm) {
        return;
    }
    on_each([this, sigint, sigterm](Shard& sh) {
        sh.signals_seen = 0;
        if (sigint) {
            sh.loop->add_signal_handler(SIGINT, [this, &sh] { on_signal(sh, SIGINT); });
        }
        if (sigterm) {
            sh.loop->add_signal_handler(SIGTERM, [this, &sh] { on_signal(sh, SIGTERM); });
        }
    });
}

void LoopGroup::Impl::remove_signals(bool sigint, bool sigterm) {
    if (!sigint && !sigterm) {
        return;
    }
    on_each([sigint, sigterm](Shard& sh) {
        if (sigint) {
            sh.loop->remove_signal_handler(SIGINT);
        }
        if (sigterm) {
            sh.loop->remove_signal_handler(SIGTERM);
        }
    });
}

// -- Shutdown ---------------------------------------------------------------

void LoopGroup::Impl::drain_all() {
    for (int pass = 0; pass < kMaxDrainPasses; ++pass) {
        {
            std::lock_guard lock(mu);
            drain_replies = shards.size();
            drain_found_tasks = false;
        }
        for (auto& sh : shards) {
            post(*sh, [this, s = sh.get()] { drain_loop(*s, 0, false); });
        }
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return drain_replies == 0; });
        if (!drain_found_tasks) {
            return;
        }
    }
}

// Loop thread: one round of cancelling every task of the loop; the next
// round starts when they are all done, until a round finds none.
void LoopGroup::Impl::drain_loop(Shard& sh, int round, bool had_tasks) {
    EventLoop& loop = *sh.loop;
    std::vector<TaskHandle<void>> tasks;
    for (detail::TaskState* t = detail::LoopAccess::first_task(loop); t; t = t->next_task) {
        t->add_ref();
        tasks.emplace_back(t);
    }
    if (tasks.empty() || round >= kMaxDrainRounds) {
        std::lock_guard lock(mu);
        drain_found_tasks = drain_found_tasks || had_tasks || !tasks.empty();
        if (--drain_replies == 0) {
            cv.notify_all();
        }
        return;
    }
    auto remaining = std::make_shared<std::size_t>(tasks.size());
    for (TaskHandle<void>& t : tasks) {
        t.cancel();
        t.add_done_callback([this, &sh, remaining, round](TaskHandle<void> done) {
            if (!done.cancelled() && done.exception()) {
                sh.loop->call_exception_handler(ExceptionContext{
                    "unhandled exception during LoopGroup shutdown", done.exception(),
                    done.get_name(), done.state()->task_source()});
            }
            if (--*remaining == 0) {
                drain_loop(sh, round + 1, true);
            }
        });
    }
}

void LoopGroup::Impl::exit_all() {
    for (auto& sh : shards) {
        post(*sh, [s = sh.get()] {
            s->exit_requested = true;
            s->loop->stop();
        });
    }
    for (auto& sh : shards) {
        sh->thread.join();
    }
}

void LoopGroup::join() {
    Impl& im = *impl_;
    if (im.on_own_loop()) {
        throw RuntimeError("LoopGroup::join() called from one of the group's loops");
    }
    {
        std::unique_lock lock(im.mu);
        if (im.joined) {
            return;
        }
        im.stop_requested = true;
        im.cancel_mains_locked("LoopGroup.stop()");
        if (im.joining) {
            im.cv.wait(lock, [&] { return im.joined; });
            return;
        }
        im.joining = true;
        im.cv.wait(lock, [&] { return im.run == nullptr; });
    }
    im.drain_all();
    im.exit_all();
    im.executor->shutdown(true);
    std::lock_guard lock(im.mu);
    im.joined = true;
    im.cv.notify_all();
}

}  // namespace corio
