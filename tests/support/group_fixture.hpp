// tests/support/group_fixture.hpp - teardown checks for a LoopGroup: the
// loop fixture's leak census and unexpected-report check, on every loop.
//
//   corio_test::GroupChecks checks;
//   {
//       corio::LoopGroup group(checks.options(2));
//       ...
//   }                              // join: each loop takes its census
//   checks.expect_clean();         // no task, timer or fd left; no report
//
// Reports are collected from every loop's thread; expect_clean() fails the
// test for any report not accepted with allow().
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "corio/event_loop.hpp"
#include "corio/loop_group.hpp"

namespace corio_test {

class GroupChecks {
public:
    /// Group options (plus `base`) whose thread hooks install a recorder as
    /// every loop's exception handler and take every loop's census at its end.
    corio::LoopGroupOptions options(std::size_t threads, corio::LoopGroupOptions base = {}) {
        base.threads = threads;
        base.on_thread_start = [this](corio::EventLoop& loop, std::size_t) {
            loop.set_exception_handler([this](corio::EventLoop&, const corio::ExceptionContext& c) {
                std::lock_guard lock(mu_);
                reports_.push_back(c.message + (c.exception
                                                    ? " / " + corio::describe_exception(c.exception)
                                                    : std::string()));
            });
        };
        base.on_thread_stop = [this](corio::EventLoop& loop, std::size_t i) {
            auto c = corio::detail::LoopAccess::census(loop);
            std::lock_guard lock(mu_);
            if (c.tasks != 0 || c.timers != 0 || c.watched_fds != 0) {
                leaks_.push_back("loop " + std::to_string(i) + ": " + std::to_string(c.tasks) +
                                 " tasks, " + std::to_string(c.timers) + " timers, " +
                                 std::to_string(c.watched_fds) + " watched fds at teardown");
            }
            ++stopped_;
        };
        return base;
    }

    /// How many reports so far contain `part`; such reports are then
    /// expected, not failures.
    std::size_t allow(std::string_view part) {
        std::lock_guard lock(mu_);
        allowed_.emplace_back(part);
        std::size_t n = 0;
        for (const auto& r : reports_) {
            n += r.find(part) != std::string::npos;
        }
        return n;
    }

    /// Every loop ended (`loops` of them) with nothing left and nothing
    /// reported that was not allowed.
    void expect_clean(std::size_t loops) {
        std::lock_guard lock(mu_);
        EXPECT_EQ(stopped_, loops) << "loops that took their census";
        for (const auto& l : leaks_) {
            ADD_FAILURE() << l;
        }
        for (const auto& r : reports_) {
            bool ok = false;
            for (const auto& a : allowed_) {
                ok = ok || r.find(a) != std::string::npos;
            }
            if (!ok) {
                ADD_FAILURE() << "unexpected report: " << r;
            }
        }
    }

private:
    std::mutex mu_;
    std::vector<std::string> reports_;
    std::vector<std::string> leaks_;
    std::vector<std::string> allowed_;
    std::size_t stopped_ = 0;
};

}  // namespace corio_test
