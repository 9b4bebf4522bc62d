#include "corio/async_generator.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "corio/testing/virtual_time.hpp"
#include "support/counted.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::AsyncGenerator;
using corio::Task;
using corio_test::vrun;

namespace {

AsyncGenerator<int> ticker(int n, corio::Duration every) {
    for (int i = 0; i < n; ++i) {
        co_await corio::sleep(every);
        co_yield i;
    }
}

}  // namespace

TEST(AsyncGenerator, YieldsValuesAcrossAwaitsThenNothing) {
    vrun([]() -> Task<void> {
        auto t0 = corio::get_running_loop().time();
        auto gen = ticker(3, 1s);
        std::vector<int> got;
        while (auto v = co_await gen.next()) {
            got.push_back(*v);
        }
        EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
        EXPECT_EQ(corio::get_running_loop().time() - t0, 3s);
        EXPECT_TRUE(gen.done());
        EXPECT_FALSE(co_await gen.next());
    }());
}

TEST(AsyncGenerator, IsLazy) {
    vrun([]() -> Task<void> {
        bool started = false;
        auto gen = [](bool& s) -> AsyncGenerator<int> {
            s = true;
            co_yield 1;
        }(started);
        co_await corio::sleep(1s);
        EXPECT_FALSE(started);
        EXPECT_EQ(co_await gen.next(), 1);
        EXPECT_TRUE(started);
    }());
}

TEST(AsyncGenerator, ExceptionsReachTheConsumerOnce) {
    vrun([]() -> Task<void> {
        auto gen = []() -> AsyncGenerator<int> {
            co_yield 1;
            throw std::runtime_error("generator failed");
        }();
        EXPECT_EQ(co_await gen.next(), 1);
        EXPECT_THROW(co_await gen.next(), std::runtime_error);
        EXPECT_FALSE(co_await gen.next());
    }());
}

TEST(AsyncGenerator, AcloseRunsACleanupThatAwaits) {
    vrun([]() -> Task<void> {
        std::vector<std::string> log;
        auto gen = [](std::vector<std::string>& l) -> AsyncGenerator<int> {
            bool closing = false;
            try {
                for (int i = 0;; ++i) {
                    co_yield i;
                }
            } catch (const corio::GeneratorExit&) {
                closing = true;
            }
            if (closing) {
                co_await corio::sleep(2s);  // asynchronous cleanup
                l.push_back("cleaned up");
            }
        }(log);
        EXPECT_EQ(co_await gen.next(), 0);
        EXPECT_EQ(co_await gen.next(), 1);
        auto t0 = corio::get_running_loop().time();
        co_await gen.aclose();
        EXPECT_EQ(log, (std::vector<std::string>{"cleaned up"}));
        EXPECT_EQ(corio::get_running_loop().time() - t0, 2s);
        EXPECT_TRUE(gen.done());
        co_await gen.aclose();  // idempotent
    }());
}

TEST(AsyncGenerator, YieldingAfterGeneratorExitIsAnError) {
    vrun([]() -> Task<void> {
        auto gen = []() -> AsyncGenerator<int> {
            for (;;) {
                try {
                    co_yield 1;
                } catch (const corio::GeneratorExit&) {
                }
            }
        }();
        co_await gen.next();
        EXPECT_THROW(co_await gen.aclose(), corio::RuntimeError);
    }());
}

TEST(AsyncGenerator, AcloseOfAnUnstartedGeneratorRunsNothing) {
    vrun([]() -> Task<void> {
        bool ran = false;
        auto gen = [](bool& r) -> AsyncGenerator<int> {
            r = true;
            co_yield 1;
        }(ran);
        co_await gen.aclose();
        EXPECT_FALSE(ran);
        EXPECT_TRUE(gen.done());
    }());
}

TEST(AsyncGenerator, CancellationSurfacesInsideTheGenerator) {
    vrun([]() -> Task<void> {
        bool saw = false;
        auto consumer = corio::create_task([](bool& s) -> Task<int> {
            auto gen = [](bool& s2) -> AsyncGenerator<int> {
                try {
                    co_await corio::sleep(1h);
                } catch (const corio::CancelledError&) {
                    s2 = true;
                    throw;
                }
                co_yield 1;
            }(s);
            auto v = co_await gen.next();
            co_return v.value_or(0);
        }(saw));
        co_await corio::sleep(1s);
        consumer.cancel();
        EXPECT_THROW(co_await consumer, corio::CancelledError);
        EXPECT_TRUE(saw);
    }());
}

TEST(AsyncGenerator, NextFromTwoTasksAtOnceIsAnError) {
    vrun([]() -> Task<void> {
        auto gen = ticker(2, 1s);
        auto first = corio::create_task(
            [](AsyncGenerator<int>& g) -> Task<int> { co_return *co_await g.next(); }(gen));
        co_await corio::sleep(1ms);  // first is inside the generator's sleep
        EXPECT_THROW(co_await gen.next(), corio::RuntimeError);
        EXPECT_EQ(co_await first, 0);
    }());
}

// Python 3.8+: aclose() of a running generator raises RuntimeError and
// leaves it alone; the task iterating it goes on to the end.
TEST(AsyncGenerator, AcloseWhileAnotherTaskIsInsideNextLeavesItRunning) {
    vrun([]() -> Task<void> {
        auto gen = ticker(3, 1s);
        std::vector<int> got;
        auto consumer =
            corio::create_task([](AsyncGenerator<int>& g, std::vector<int>& out) -> Task<void> {
                while (auto v = co_await g.next()) {
                    out.push_back(*v);
                }
            }(gen, got));
        co_await corio::sleep(500ms);  // the consumer is inside the generator's sleep
        EXPECT_THROW(co_await gen.aclose(), corio::RuntimeError);
        co_await consumer;  // no GeneratorExit reached it
        EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
        EXPECT_TRUE(gen.done());
    }());
}

TEST(AsyncGenerator, MoveOnlyValuesAndForEach) {
    vrun([]() -> Task<void> {
        auto gen = []() -> AsyncGenerator<std::unique_ptr<int>> {
            for (int i = 1; i <= 3; ++i) {
                co_yield std::make_unique<int>(i);
            }
        }();
        int sum = 0;
        co_await corio::for_each(gen, [&](std::unique_ptr<int> p) { sum += *p; });
        EXPECT_EQ(sum, 6);

        auto gen2 = ticker(3, 1s);
        std::vector<int> seen;
        co_await corio::for_each(gen2, [&](int v) -> Task<void> {
            co_await corio::sleep(1s);
            seen.push_back(v);
        });
        EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));

        auto gen3 = ticker(10, 1s);
        EXPECT_THROW(co_await corio::for_each(gen3,
                                              [](int v) {
                                                  if (v == 2) {
                                                      throw std::logic_error("stop");
                                                  }
                                              }),
                     std::logic_error);
        EXPECT_TRUE(gen3.done());  // closed
    }());
}

namespace {

// Yields 0, 1, 2, ... until closed; its cleanup awaits 1 s, then logs.
AsyncGenerator<int> counting(std::vector<std::string>& log) {
    Counted guard(1);
    bool closing = false;
    try {
        for (int i = 0;; ++i) {
            co_yield i;
        }
    } catch (const corio::GeneratorExit&) {
        closing = true;
    }
    if (closing) {
        co_await corio::sleep(1s);
        log.push_back("cleaned up");
    }
}

}  // namespace

// asyncio's finalizer hook: a suspended generator that is garbage-collected
// is closed by a task of its loop (aclose()), so a cleanup that awaits runs.
TEST(AsyncGenerator, DroppedWhileSuspendedItIsClosedByATaskOfItsLoop) {
    Counted::reset();
    std::vector<std::string> log;
    vrun([](std::vector<std::string>& l) -> Task<void> {
        {
            auto gen = counting(l);
            EXPECT_EQ(co_await gen.next(), 0);
        }
        EXPECT_EQ(Counted::alive(), 1);  // not destroyed in place: handed to the loop
        EXPECT_TRUE(l.empty());
        co_await corio::sleep(2s);
        EXPECT_EQ(l, (std::vector<std::string>{"cleaned up"}));
        EXPECT_EQ(Counted::alive(), 0);
    }(log));
}

TEST(AsyncGenerator, DroppedBeforeItStartedOrAfterItFinishedIsDestroyedAtOnce) {
    Counted::reset();
    vrun([]() -> Task<void> {
        std::vector<std::string> log;
        { auto unstarted = counting(log); }
        EXPECT_EQ(Counted::alive(), 0);
        {
            auto gen = []() -> AsyncGenerator<int> {
                Counted guard(2);
                co_yield 1;
            }();
            while (co_await gen.next()) {
            }
        }
        EXPECT_EQ(Counted::alive(), 0);
    }());
}

// asyncio.run's shutdown_asyncgens(): after the leftover tasks are cancelled,
// every generator started and not finished is closed before run() returns.
TEST(AsyncGenerator, RunClosesEveryUnfinishedGeneratorBeforeReturning) {
    Counted::reset();
    std::vector<std::string> log;
    std::unique_ptr<AsyncGenerator<int>> kept;  // outlives the loop, as a global would
    corio::testing::run_virtual(
        [](std::vector<std::string>& l, std::unique_ptr<AsyncGenerator<int>>& k) -> Task<void> {
            k = std::make_unique<AsyncGenerator<int>>(counting(l));
            EXPECT_EQ(co_await k->next(), 0);
        }(log, kept));
    EXPECT_EQ(log, (std::vector<std::string>{"cleaned up"}));  // its awaiting cleanup ran
    EXPECT_TRUE(kept->done());
    kept.reset();
    EXPECT_EQ(Counted::alive(), 0);
}

TEST(AsyncGenerator, ShutdownAsyncgensReportsAGeneratorThatYieldsAgain) {
    corio::EventLoop loop(corio::LoopOptions{.virtual_time = true, .debug = false});
    corio_test::Reports reports;
    corio_test::install_recorder(loop, &reports);
    auto stubborn = []() -> AsyncGenerator<int> {
        for (;;) {
            try {
                co_yield 1;
            } catch (const corio::GeneratorExit&) {
            }
        }
    }();
    loop.run_until_complete(
        [](AsyncGenerator<int>& g) -> Task<void> { co_await g.next(); }(stubborn));
    loop.run_until_complete(loop.shutdown_asyncgens());
    EXPECT_EQ(reports.count("an error occurred during closing of asynchronous generator"), 1u);
    loop.close();
}

// Outside a running loop nothing can run an awaiting cleanup: debug mode
// says so (asyncio's debug mode reports such generators too).
TEST(AsyncGenerator, DroppedWhileSuspendedWithNoRunningLoopIsReportedInDebugMode) {
    Counted::reset();
    corio::EventLoop loop(corio::LoopOptions{.virtual_time = true, .debug = true});
    corio_test::Reports reports;
    corio_test::install_recorder(loop, &reports);
    std::vector<std::string> log;
    auto gen = counting(log);
    loop.run_until_complete([](AsyncGenerator<int>& g) -> Task<void> { co_await g.next(); }(gen));
    gen = AsyncGenerator<int>();  // the loop is not running: destroyed in place
    EXPECT_EQ(Counted::alive(), 0);
    EXPECT_TRUE(log.empty());
    EXPECT_EQ(reports.count("was destroyed while suspended at a co_yield"), 1u);
    loop.close();
}

// Regression (ASan): the loop closed while the finalizer task was inside the
// generator's cleanup (in a sleep); the generator's frame, destroyed after the
// task, reached the task's freed record to take its timer out.
TEST(AsyncGenerator, AFinalizerTaskCutShortByCloseLeavesNothingBehind) {
    Counted::reset();
    std::vector<std::string> log;
    {
        corio::EventLoop loop(corio::LoopOptions{.virtual_time = true, .debug = false});
        corio_test::Reports reports;
        corio_test::install_recorder(loop, &reports);
        loop.run_until_complete([](std::vector<std::string>& l) -> Task<void> {
            auto gen = counting(l);
            co_await gen.next();
        }(log));  // the finalizer task starts the cleanup (a 1 s sleep); then the loop stops
        loop.close();
        EXPECT_EQ(reports.count("Task was destroyed but it is pending"), 1u);
    }
    EXPECT_EQ(Counted::alive(), 0);
    EXPECT_TRUE(log.empty());
}

// -- athrow -------------------------------------------------------------------

TEST(AsyncGenerator, AthrowRaisesAtTheYieldAndReturnsWhatItYieldsNext) {
    vrun([]() -> Task<void> {
        auto gen = []() -> AsyncGenerator<std::string> {
            for (int i = 0;; ++i) {
                std::string caught;
                try {
                    co_yield "value " + std::to_string(i);
                } catch (const std::runtime_error& e) {
                    caught = e.what();
                }
                if (!caught.empty()) {
                    co_await corio::sleep(1s);  // may await while handling it
                    co_yield "caught " + caught;
                }
            }
        }();
        EXPECT_EQ(co_await gen.next(), "value 0");
        EXPECT_EQ(co_await gen.athrow(std::runtime_error("oops")), "caught oops");
        EXPECT_EQ(co_await gen.next(), "value 1");
        EXPECT_FALSE(gen.done());
        co_await gen.aclose();
    }());
}

TEST(AsyncGenerator, AthrowPropagatesWhatTheGeneratorDoesNotCatchAndFinishesIt) {
    vrun([]() -> Task<void> {
        bool cleanup = false;
        auto gen = [](bool& c) -> AsyncGenerator<int> {
            Counted guard(3);
            try {
                co_yield 1;
                co_yield 2;
            } catch (const std::logic_error&) {
                c = true;
                throw;
            }
        }(cleanup);
        EXPECT_EQ(co_await gen.next(), 1);
        EXPECT_THROW(co_await gen.athrow(std::logic_error("bad")), std::logic_error);
        EXPECT_TRUE(cleanup);
        EXPECT_TRUE(gen.done());
        // Python: athrow() of a finished generator raises StopAsyncIteration.
        EXPECT_FALSE(co_await gen.athrow(std::logic_error("again")));
    }());
}

TEST(AsyncGenerator, AthrowIntoAGeneratorThatReturnsGivesNothing) {
    vrun([]() -> Task<void> {
        auto gen = []() -> AsyncGenerator<int> {
            try {
                co_yield 1;
            } catch (const std::runtime_error&) {
                co_return;
            }
        }();
        co_await gen.next();
        EXPECT_FALSE(co_await gen.athrow(std::runtime_error("stop")));  // StopAsyncIteration
        EXPECT_TRUE(gen.done());
    }());
}

TEST(AsyncGenerator, AthrowIntoAnUnstartedGeneratorRaisesBeforeItsBodyRuns) {
    vrun([]() -> Task<void> {
        bool ran = false;
        auto gen = [](bool& r) -> AsyncGenerator<int> {
            r = true;
            co_yield 1;
        }(ran);
        EXPECT_THROW(co_await gen.athrow(std::runtime_error("early")), std::runtime_error);
        EXPECT_FALSE(ran);
        EXPECT_TRUE(gen.done());
    }());
}

TEST(AsyncGenerator, AthrowWhileAnotherTaskIsInsideNextIsAnError) {
    vrun([]() -> Task<void> {
        auto gen = ticker(2, 1s);
        auto reader = corio::create_task([](AsyncGenerator<int>& g) -> Task<std::optional<int>> {
            co_return co_await g.next();
        }(gen));
        co_await corio::sleep(0s);
        try {
            co_await gen.athrow(std::runtime_error("x"));
            ADD_FAILURE();
        } catch (const corio::RuntimeError& e) {
            EXPECT_NE(std::string(e.what()).find("athrow()"), std::string::npos);
        }
        EXPECT_EQ(co_await reader, 0);
        EXPECT_THROW(gen.athrow(std::exception_ptr()), std::invalid_argument);
        co_await gen.aclose();
    }());
}

// The generator's frame outlives the task it was suspended in (its owner is
// elsewhere): destroying it later must not reach the task's freed record.
TEST(AsyncGenerator, AGeneratorOwnedElsewhereOutlivesATaskDestroyedInsideIt) {
    auto gen = std::make_unique<AsyncGenerator<int>>(ticker(3, 1h));
    {
        corio::EventLoop loop(corio::LoopOptions{.virtual_time = true, .debug = false});
        corio_test::Reports reports;
        corio_test::install_recorder(loop, &reports);
        auto t = loop.create_task([](AsyncGenerator<int>& g) -> Task<void> {
            co_await g.next();  // the generator sleeps an hour inside this task
        }(*gen));
        loop.run_once(false);
        EXPECT_FALSE(t.done());
        loop.close();  // the task is destroyed, the generator is not
        EXPECT_EQ(reports.count("Task was destroyed but it is pending"), 1u);
    }
    gen.reset();
}
