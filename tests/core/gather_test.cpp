#include "corio/gather.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::TaskHandle;
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
Task<void> quiet(corio::Duration d) {
    co_await corio::sleep(d);
}

}  // namespace

TEST(Gather, ResultsComeInArgumentOrderNotCompletionOrder) {
    vrun([]() -> Task<void> {
        auto t0 = corio::get_running_loop().time();
        auto [a, b, c] = co_await corio::gather(after(30ms, 1), after(10ms, 2), after(20ms, 3));
        EXPECT_EQ(a, 1);
        EXPECT_EQ(b, 2);
        EXPECT_EQ(c, 3);
        EXPECT_EQ(corio::get_running_loop().time() - t0, 30ms);  // concurrently
    }());
}

TEST(Gather, VoidChildrenGiveUnitAndHandlesAndFuturesMix) {
    vrun([]() -> Task<void> {
        corio::Future<std::string> fut;
        corio::get_running_loop().call_later(5ms, [fut]() mutable { fut.set_result("f"); });
        auto h = corio::create_task(after(1ms, 4));
        auto [u, s, n] = co_await corio::gather(quiet(2ms), fut, h);
        static_assert(std::is_same_v<decltype(u), corio::Unit>);
        EXPECT_EQ(s, "f");
        EXPECT_EQ(n, 4);
    }());
}

TEST(Gather, ARangeGivesAVectorInOrder) {
    vrun([]() -> Task<void> {
        std::vector<Task<int>> coros;
        for (int i = 0; i < 5; ++i) {
            coros.push_back(after(std::chrono::milliseconds(10 - i), i));
        }
        std::vector<int> out = co_await corio::gather(std::move(coros));
        EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4}));
        std::vector<TaskHandle<int>> handles;
        handles.push_back(corio::create_task(after(1ms, 7)));
        std::vector<int> again = co_await corio::gather(handles);  // handles are copied
        EXPECT_EQ(again, (std::vector<int>{7}));
        EXPECT_EQ(handles[0].result(), 7);
        auto empty = co_await corio::gather(std::vector<Task<int>>{});
        EXPECT_TRUE(empty.empty());
        auto none = co_await corio::gather();
        static_assert(std::tuple_size_v<decltype(none)> == 0);
    }());
}

TEST(Gather, ChildrenStartWhenGatherIsCalled) {
    vrun([]() -> Task<void> {
        bool started = false;
        auto g = corio::gather([](bool& s) -> Task<void> {
            s = true;
            co_return;
        }(started));
        co_await corio::sleep(0s);
        EXPECT_TRUE(started);  // before the gather itself is awaited
        co_await std::move(g);
    }());
}

TEST(Gather, FirstErrorPropagatesWhileTheOthersKeepRunning) {
    vrun([]() -> Task<void> {
        auto slow = corio::create_task(after(20ms, 1));
        auto t0 = corio::get_running_loop().time();
        try {
            co_await corio::gather(fail_after(10ms, "first"), slow, fail_after(15ms, "second"));
            ADD_FAILURE();
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "first");
        }
        EXPECT_EQ(corio::get_running_loop().time() - t0, 10ms);
        EXPECT_FALSE(slow.done());
        EXPECT_EQ(co_await slow, 1);  // not cancelled
        co_await corio::sleep(10ms);  // "second" fails too; gather already retrieved it
    }());
}

TEST(Gather, SettledReturnsEveryValueAndEveryException) {
    vrun([]() -> Task<void> {
        auto doomed = corio::create_task(after(1h, 0));
        corio::get_running_loop().call_later(5ms, [doomed]() mutable { doomed.cancel(); });
        auto [a, b, c] =
            co_await corio::gather_settled(after(1ms, 1), fail_after(2ms, "bad"), doomed);
        CO_ASSERT_TRUE(a.has_value());
        EXPECT_EQ(a.value(), 1);
        CO_ASSERT_FALSE(b.has_value());
        EXPECT_EQ(corio::describe_exception(b.error()), "std::runtime_error: bad");
        EXPECT_THROW(b.value(), std::runtime_error);
        EXPECT_TRUE(c.cancelled());
        EXPECT_THROW(c.value(), corio::CancelledError);
        std::vector<Task<int>> v;
        v.push_back(after(1ms, 5));
        v.push_back(fail_after(1ms, "x"));
        auto outs = co_await corio::gather_settled(std::move(v));
        CO_ASSERT_EQ(outs.size(), 2u);
        EXPECT_EQ(outs[0].value(), 5);
        EXPECT_FALSE(outs[1]);
    }());
}

TEST(Gather, CancellingTheGatherCancelsEveryChild) {
    vrun([]() -> Task<void> {
        auto a = corio::create_task(after(1h, 1));
        auto b = corio::create_task(after(2h, 2));
        auto g = corio::gather(a, b);
        co_await corio::sleep(1s);
        EXPECT_TRUE(g.cancel("stop"));
        EXPECT_THROW(co_await g, corio::CancelledError);
        EXPECT_TRUE(g.cancelled());
        EXPECT_TRUE(a.cancelled());
        EXPECT_TRUE(b.cancelled());
        EXPECT_FALSE(g.cancel());  // done: nothing to cancel
    }());
}

TEST(Gather, CancellingTheAwaitingTaskCancelsTheGatherAndSoTheChildren) {
    vrun([]() -> Task<void> {
        auto a = corio::create_task(after(1h, 1));
        auto waiter = corio::create_task(
            [](TaskHandle<int> t) -> Task<void> { co_await corio::gather(t, after(2h, 2)); }(a));
        co_await corio::sleep(1s);
        waiter.cancel();
        EXPECT_THROW(co_await waiter, corio::CancelledError);
        EXPECT_TRUE(a.cancelled());
    }());
}

// asyncio's gather() returns a future at once: inspect it, await it twice.
TEST(Gather, ReturnsAFutureAtOnceThatCanBeInspectedAndAwaitedTwice) {
    vrun([]() -> Task<void> {
        auto g = corio::gather(after(1s, 1), after(2s, 2));
        EXPECT_FALSE(g.done());
        EXPECT_THROW((void)g.result(), corio::InvalidStateError);
        co_await corio::sleep(3s);
        EXPECT_TRUE(g.done());  // nobody awaited it: the children ran anyway
        auto& first = co_await g;
        auto& second = co_await g;
        EXPECT_EQ(&first, &second);
        EXPECT_EQ(first, std::make_tuple(1, 2));
        EXPECT_EQ(g.result(), std::make_tuple(1, 2));
        auto none = corio::gather();
        EXPECT_TRUE(none.done());  // asyncio: gather() of nothing is done at once
    }());
}

TEST(Gather, OutsideARunningLoopRaisesNamingGatherAndStartsNothing) {
    bool ran = false;
    try {
        (void)corio::gather([](bool& r) -> Task<void> {
            r = true;
            co_return;
        }(ran));
        ADD_FAILURE();
    } catch (const corio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "gather(): no running event loop");
    }
    EXPECT_FALSE(ran);
    EXPECT_THROW((void)corio::shield(quiet(1s)), corio::RuntimeError);
}

TEST(Gather, SettledGatherCancelledWaitsForChildrenThenRaises) {
    vrun([]() -> Task<void> {
        bool cleaned = false;
        auto child = corio::create_task([](bool& c) -> Task<int> {
            std::exception_ptr cancelled;
            try {
                co_await corio::sleep(1h);
            } catch (const corio::CancelledError&) {
                cancelled = std::current_exception();
            }
            co_await corio::sleep(5s);  // slow cleanup (C++ cannot co_await in a handler)
            c = true;
            std::rethrow_exception(cancelled);
        }(cleaned));
        auto g = corio::gather_settled(child);
        co_await corio::sleep(1s);
        EXPECT_TRUE(g.cancel());
        EXPECT_FALSE(g.done());  // waits for the child's cleanup
        EXPECT_THROW(co_await g, corio::CancelledError);
        EXPECT_TRUE(cleaned);
    }());
}

TEST(Gather, ChildCancelledElsewhereMakesGatherRaiseCancelledError) {
    vrun([]() -> Task<void> {
        auto a = corio::create_task(after(1h, 1));
        corio::get_running_loop().call_later(1s, [a]() mutable { a.cancel(); });
        EXPECT_THROW(co_await corio::gather(a, after(2h, 2)), corio::CancelledError);
        for (auto& t : corio::all_tasks()) {
            if (t != corio::current_task()) {
                t.cancel();
            }
        }
        co_await corio::sleep(0s);
    }());
}

TEST(Gather, AlreadyFinishedChildrenAreCollectedWithoutWaiting) {
    vrun([]() -> Task<void> {
        auto a = corio::create_task(after(0s, 1));
        auto b = corio::create_task(after(0s, 2));
        co_await corio::sleep(1ms);
        auto [x, y] = co_await corio::gather(a, b);
        EXPECT_EQ(x + y, 3);
    }());
}

namespace {
Task<std::string> word(std::string w) {
    co_await corio::sleep(1ms);
    co_return w;
}
}  // namespace

// asyncio's gather, shield and wait_for leave the awaited tasks and futures
// alone: the caller's handle still has the value afterwards, and gather of
// one task twice gives it twice. A handle nobody else shares still moves.
TEST(Gather, CombinatorsLeaveTheValueInSharedHandles) {
    vrun([]() -> Task<void> {
        auto h = corio::create_task(word("hello"));
        auto [a, b] = co_await corio::gather(h, h);
        EXPECT_EQ(a, "hello");
        EXPECT_EQ(b, "hello");
        EXPECT_EQ(h.result(), "hello");

        corio::Future<std::string> f;
        corio::get_running_loop().call_soon([f]() mutable { f.set_result("v"); });
        auto [r] = co_await corio::gather(f);
        EXPECT_EQ(r, "v");
        EXPECT_EQ(f.result(), "v");

        auto s = corio::create_task(word("shielded"));
        EXPECT_EQ(co_await corio::shield(s), "shielded");
        EXPECT_EQ(s.result(), "shielded");

        auto w = corio::create_task(word("waited"));
        EXPECT_EQ(co_await corio::wait_for(w, 1s), "waited");
        EXPECT_EQ(w.result(), "waited");

        auto only = corio::create_task(
            []() -> Task<std::unique_ptr<int>> { co_return std::make_unique<int>(7); }());
        std::unique_ptr<int> p = co_await corio::wait_for(std::move(only), 1s);
        EXPECT_EQ(*p, 7);  // move-only values still move
    }());
}
