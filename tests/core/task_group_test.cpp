#include "corio/task_group.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::TaskGroup;
using corio_test::Reports;
using corio_test::vrun;

namespace {

Task<int> after(corio::Duration d, int v) {
    co_await corio::sleep(d);
    co_return v;
}
Task<int> fail_after(corio::Duration d, std::string msg) {
    co_await corio::sleep(d);
    throw std::runtime_error(msg);
}
Task<void> mark_cancel(corio::Duration d, std::vector<std::string>& log, std::string name) {
    try {
        co_await corio::sleep(d);
        log.push_back(name + " finished");
    } catch (const corio::CancelledError&) {
        log.push_back(name + " cancelled");
        throw;
    }
}

std::vector<std::string> messages(const corio::ExceptionGroup& g) {
    std::vector<std::string> out;
    for (const auto& e : g.exceptions()) {
        out.push_back(corio::describe_exception(e));
    }
    return out;
}

}  // namespace

TEST(TaskGroup, WaitsForEveryChildAndReturnsTheBodysValue) {
    vrun([]() -> Task<void> {
        auto t0 = corio::get_running_loop().time();
        corio::TaskHandle<int> a, b;
        int v = co_await corio::task_group([&](TaskGroup& tg) -> Task<int> {
            a = tg.create_task(after(20ms, 1));
            b = tg.create_task(after(10ms, 2));
            EXPECT_EQ(tg.size(), 2u);
            co_return 5;
        });
        EXPECT_EQ(v, 5);
        EXPECT_EQ(a.result() + b.result(), 3);
        EXPECT_EQ(corio::get_running_loop().time() - t0, 20ms);
    }());
}

TEST(TaskGroup, FirstFailureCancelsSiblingsAndAllErrorsSurfaceTogether) {
    vrun([]() -> Task<void> {
        std::vector<std::string> log;
        try {
            co_await corio::task_group([&](TaskGroup& tg) -> Task<void> {
                tg.create_task(fail_after(10ms, "one"));
                tg.create_task(fail_after(10ms, "two"));
                tg.create_task(mark_cancel(1h, log, "sibling"));
                co_return;
            });
            ADD_FAILURE() << "no ExceptionGroup";
        } catch (const corio::ExceptionGroup& g) {
            EXPECT_EQ(messages(g), (std::vector<std::string>{"std::runtime_error: one",
                                                             "std::runtime_error: two"}));
            EXPECT_NE(
                std::string(g.what()).find("unhandled errors in a TaskGroup (2 sub-exceptions)"),
                std::string::npos)
                << g.what();
        }
        EXPECT_EQ(log, (std::vector<std::string>{"sibling cancelled"}));
        EXPECT_EQ(corio::current_task().cancelling(), 0);
    }());
}

TEST(TaskGroup, AFailingChildInterruptsTheBodyAtItsAwait) {
    vrun([]() -> Task<void> {
        std::vector<std::string> log;
        try {
            co_await corio::task_group([&](TaskGroup& tg) -> Task<void> {
                tg.create_task(fail_after(10ms, "child"));
                co_await mark_cancel(1h, log, "body");
            });
            ADD_FAILURE();
        } catch (const corio::ExceptionGroup& g) {
            EXPECT_EQ(messages(g), (std::vector<std::string>{"std::runtime_error: child"}));
        }
        EXPECT_EQ(log, (std::vector<std::string>{"body cancelled"}));
        // The group took its cancellation of the parent back: we keep running.
        co_await corio::sleep(1s);
    }());
}

TEST(TaskGroup, TheBodysErrorCancelsChildrenAndJoinsTheGroupLast) {
    vrun([]() -> Task<void> {
        std::vector<std::string> log;
        try {
            co_await corio::task_group([&](TaskGroup& tg) -> Task<void> {
                tg.create_task(mark_cancel(1h, log, "child"));
                co_await corio::sleep(1ms);
                throw std::logic_error("body");
            });
            ADD_FAILURE();
        } catch (const corio::ExceptionGroup& g) {
            EXPECT_EQ(messages(g), (std::vector<std::string>{"std::logic_error: body"}));
        }
        EXPECT_EQ(log, (std::vector<std::string>{"child cancelled"}));
    }());
}

TEST(TaskGroup, CancelledChildrenAreNotErrors) {
    // asyncio: a child cancelled on its own does not cancel its siblings or
    // make the group raise; the group ends when the rest are done.
    vrun([]() -> Task<void> {
        corio::TaskHandle<int> cancelled;
        corio::TaskHandle<int> sibling;
        auto start = corio::get_running_loop().time();
        co_await corio::task_group([&](TaskGroup& tg) -> Task<void> {
            cancelled = tg.create_task(after(1h, 1));
            sibling = tg.create_task(after(5ms, 2));
            co_await corio::sleep(1ms);
            cancelled.cancel();
        });  // no exception: would be an ExceptionGroup or CancelledError
        EXPECT_TRUE(cancelled.cancelled());
        EXPECT_FALSE(sibling.cancelled());
        EXPECT_EQ(co_await sibling, 2);
        EXPECT_EQ(corio::get_running_loop().time() - start, 5ms);  // waited for the sibling
    }());
}

TEST(TaskGroup, CancellingTheParentCancelsEveryChildAndRaisesCancelledError) {
    vrun([]() -> Task<void> {
        std::vector<std::string> log;
        auto parent = corio::create_task(corio::task_group([&](TaskGroup& tg) -> Task<void> {
            tg.create_task(mark_cancel(1h, log, "a"));
            tg.create_task(mark_cancel(2h, log, "b"));
            co_return;  // now blocked in the group's join
        }));
        co_await corio::sleep(1s);
        parent.cancel();
        EXPECT_THROW(co_await parent, corio::CancelledError);
        EXPECT_EQ(log, (std::vector<std::string>{"a cancelled", "b cancelled"}));
    }());
}

// Python 3.13: a child that fails while the parent is being cancelled from
// outside gives an ExceptionGroup, and the outside cancellation is kept:
// the parent's next await raises CancelledError, with cancelling() still 1.
TEST(TaskGroup, ErrorsWinButAnOutsideCancellationOfTheParentStays) {
    vrun([]() -> Task<void> {
        bool got_group = false;
        int cancelling_after = -1;
        auto parent = corio::create_task([](bool& group, int& cancelling) -> Task<void> {
            try {
                co_await corio::task_group([](TaskGroup& tg) -> Task<void> {
                    tg.create_task([]() -> Task<void> {
                        try {
                            co_await corio::sleep(10s);
                        } catch (const corio::CancelledError&) {
                            throw std::runtime_error("failed while cancelled");
                        }
                    }());
                    co_return;
                });
            } catch (const corio::ExceptionGroup& eg) {
                group = eg.exceptions().size() == 1;
            }
            cancelling = corio::current_task().cancelling();
            co_await corio::sleep(1s);  // raises CancelledError
            ADD_FAILURE() << "the outside cancellation was lost";
        }(got_group, cancelling_after));
        co_await corio::sleep(1s);
        parent.cancel();
        EXPECT_THROW(co_await parent, corio::CancelledError);
        EXPECT_TRUE(got_group);
        EXPECT_EQ(cancelling_after, 1);
        EXPECT_TRUE(parent.cancelled());
    }());
}

TEST(TaskGroup, CreateTaskAfterAbortIsRefused) {
    vrun([]() -> Task<void> {
        bool refused = false;
        try {
            co_await corio::task_group([&](TaskGroup& tg) -> Task<void> {
                tg.create_task(fail_after(1ms, "x"));
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::CancelledError&) {
                    try {
                        tg.create_task(after(1ms, 1));
                    } catch (const corio::RuntimeError& e) {
                        refused = std::string(e.what()) == "TaskGroup is shutting down";
                    }
                    throw;
                }
            });
        } catch (const corio::ExceptionGroup&) {
        }
        EXPECT_TRUE(refused);
    }());
}

TEST(TaskGroup, ExplicitJoinWorksLikeTheScopedForm) {
    vrun([]() -> Task<void> {
        TaskGroup tg;
        auto a = tg.create_task(after(5ms, 1));
        co_await tg.join();
        EXPECT_EQ(a.result(), 1);
        EXPECT_THROW(tg.create_task(after(1ms, 1)), corio::RuntimeError);  // finished
    }());
}

TEST(TaskGroup, DestroyedWithoutJoinCancelsChildrenAndReports) {
    Reports reports;
    vrun(
        []() -> Task<void> {
            corio::TaskHandle<int> child;
            {
                TaskGroup tg;
                child = tg.create_task(after(1h, 1));
            }
            EXPECT_THROW(co_await child, corio::CancelledError);
        }(),
        &reports);
    EXPECT_EQ(reports.count("TaskGroup destroyed before join() finished"), 1u);
}

TEST(TaskGroup, NeedsATask) {
    EXPECT_THROW(TaskGroup{}, corio::RuntimeError);
}

TEST(TaskGroup, MadeOutsideATaskRaisesRuntimeErrorNamingTaskGroup) {
    try {
        corio::TaskGroup tg;
        ADD_FAILURE();
    } catch (const corio::RuntimeError& e) {
        EXPECT_NE(std::string(e.what()).find("TaskGroup(): cannot determine the parent task"),
                  std::string::npos)
            << e.what();
    }
}
