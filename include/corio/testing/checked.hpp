// corio/testing/checked.hpp - run a test's main coroutine and check that it
// left nothing behind: the fixture corio's own suite uses, for yours.
//
//   TEST(Fetch, RetriesThreeTimes) {
//       corio::testing::run_checked(fetch_with_retries());  // virtual time
//   }
//
// run_checked() runs `main` on a fresh loop (virtual time by default, see
// virtual_time.hpp), then lets the callbacks already scheduled run, then
// counts what the loop still holds - tasks, timers, watched file
// descriptors, ready callbacks (the census) - and throws LeftBehind if any
// is left. Anything that reached the loop's exception handler (an exception
// nobody retrieved, a callback that threw) is unexpected unless the test
// passes a Reports to collect it: then the test asserts on it itself. A
// test whose tasks all wait on each other fails with RuntimeError
// ("deadlock ...") instead of hanging. Framework-neutral: failures are
// exceptions, which GoogleTest, Catch2 and doctest all report.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/event_loop.hpp"
#include "corio/run.hpp"
#include "corio/task.hpp"

namespace corio::testing {

/// What a loop still holds. All zero once a well-behaved program is done.
struct Census {
    std::size_t tasks = 0;        // tasks not finished (pending or suspended)
    std::size_t timers = 0;       // timers scheduled: sleeps, call_later, timeouts
    std::size_t watched_fds = 0;  // file descriptors registered with the backend
    std::size_t ready = 0;        // callbacks queued to run

    bool clean() const noexcept { return tasks + timers + watched_fds + ready == 0; }
    /// "2 tasks, 1 timer" - what is left, for messages.
    std::string describe() const {
        std::string out;
        auto add = [&](std::size_t n, const char* what) {
            if (n != 0) {
                out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + what +
                       (n == 1 ? "" : "s");
            }
        };
        add(tasks, "task");
        add(timers, "timer");
        add(watched_fds, "watched fd");
        add(ready, "ready callback");
        return out.empty() ? "nothing" : out;
    }
};

/// Counts what `loop` holds now. Call it on the loop's own thread.
inline Census census(const EventLoop& loop) noexcept {
    auto c = detail::LoopAccess::census(loop);
    return Census{c.tasks, c.timers, c.watched_fds, c.ready};
}

/// What reached a loop's exception handler (asyncio's call_exception_handler
/// contexts), collected instead of failing the test.
struct Reports {
    std::vector<ExceptionContext> items;

    /// How many reports have `message_part` in their message.
    std::size_t count(std::string_view message_part) const {
        std::size_t n = 0;
        for (const auto& c : items) {
            n += c.message.find(message_part) != std::string::npos;
        }
        return n;
    }
    bool contains(std::string_view message_part) const { return count(message_part) > 0; }
};

/// Thrown by run_checked() when the loop still holds something at the end.
class LeftBehind : public std::runtime_error {
public:
    LeftBehind(const Census& c)
        : std::runtime_error("left behind when the test's main coroutine was done: " +
                             c.describe()),
          census(c) {}
    Census census;
};

/// Thrown by run_checked() when something reached the exception handler and
/// the test passed no Reports to collect it. what() quotes every report.
class UnexpectedReport : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct CheckedOptions {
    bool virtual_time = true;
    /// Collects reports; null makes any report an UnexpectedReport.
    Reports* reports = nullptr;
    /// Fail with RuntimeError("deadlock ...") when nothing can ever wake the
    /// program (virtual time only).
    bool fail_on_deadlock = true;
    bool debug = false;
};

/// Runs `main` to completion on a fresh loop and returns its result or
/// rethrows its exception; then checks the census and the reports (above).
/// A failure of `main` wins over a failed check. The loop is closed as
/// corio::run() closes it (leftover tasks cancelled, executors shut down).
template <class T>
T run_checked(Task<T> main, CheckedOptions opts = {}) {
    EventLoop loop(LoopOptions{.virtual_time = opts.virtual_time, .debug = opts.debug});
    std::vector<std::string> unexpected;
    Reports* reports = opts.reports;
    loop.set_exception_handler([&unexpected, reports](EventLoop&, const ExceptionContext& ctx) {
        if (reports != nullptr) {
            reports->items.push_back(ctx);
        } else {
            unexpected.push_back(ctx.message + (ctx.exception
                                                    ? " / " + describe_exception(ctx.exception)
                                                    : std::string()));
        }
    });
    if (opts.virtual_time) {
        detail::LoopAccess::fail_on_deadlock(loop, opts.fail_on_deadlock);
    }
    auto handle = loop.create_task(std::move(main), "main");
    Census left;
    auto check = [&] {
        // Let the callbacks already scheduled (done callbacks, wake-ups) run.
        for (int i = 0; i < 4; ++i) {
            loop.run_once(false);
        }
        left = census(loop);
        detail::finish_run(loop, "corio::testing::run_checked()");
    };
    auto verdict = [&] {
        if (!left.clean()) {
            throw LeftBehind(left);
        }
        if (!unexpected.empty()) {
            std::string what = "unexpected report";
            for (const auto& u : unexpected) {
                what += "\n  " + u;
            }
            throw UnexpectedReport(what);
        }
    };
    if constexpr (std::is_void_v<T>) {
        try {
            loop.run_until_complete(std::move(handle));
        } catch (...) {
            check();
            throw;
        }
        check();
        verdict();
    } else {
        std::optional<T> out;
        try {
            out.emplace(loop.run_until_complete(std::move(handle)));
        } catch (...) {
            check();
            throw;
        }
        check();
        verdict();
        return std::move(*out);
    }
}

}  // namespace corio::testing
