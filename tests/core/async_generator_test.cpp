#include "corio/async_generator.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "corio/corio.hpp"
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

TEST(AsyncGenerator, DestroyingAnUnfinishedGeneratorRunsItsDestructors) {
    Counted::reset();
    vrun([]() -> Task<void> {
        {
            auto gen = []() -> AsyncGenerator<int> {
                Counted guard(1);
                co_yield 1;
                co_yield 2;
            }();
            EXPECT_EQ(co_await gen.next(), 1);
            EXPECT_EQ(Counted::alive(), 1);
        }
        EXPECT_EQ(Counted::alive(), 0);
    }());
}
