#include "corio/locks.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio_test::vrun;

TEST(Event, SetWakesEveryWaiterInOrder) {
    vrun([]() -> Task<void> {
        corio::Event ev;
        std::vector<int> order;
        std::vector<corio::TaskHandle<void>> tasks;
        for (int i = 0; i < 3; ++i) {
            tasks.push_back(
                corio::create_task([](corio::Event& e, std::vector<int>& o, int id) -> Task<void> {
                    EXPECT_TRUE(co_await e.wait());
                    o.push_back(id);
                }(ev, order, i)));
        }
        co_await corio::sleep(1s);
        EXPECT_TRUE(order.empty());
        ev.set();
        EXPECT_TRUE(ev.is_set());
        co_await corio::gather(tasks);
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
    }());
}

TEST(Event, WaitOnASetEventReturnsAtOnceAndClearResets) {
    vrun([]() -> Task<void> {
        corio::Event ev;
        ev.set();
        auto t0 = corio::get_running_loop().time();
        co_await ev.wait();
        EXPECT_EQ(corio::get_running_loop().time(), t0);
        ev.clear();
        EXPECT_FALSE(ev.is_set());
        auto h = corio::create_task([](corio::Event& e) -> Task<void> { co_await e.wait(); }(ev));
        co_await corio::sleep(1s);
        EXPECT_FALSE(h.done());
        ev.set();
        co_await h;
    }());
}

TEST(Event, CancelledWaiterLeavesTheEvent) {
    vrun([]() -> Task<void> {
        corio::Event ev;
        auto h = corio::create_task([](corio::Event& e) -> Task<void> { co_await e.wait(); }(ev));
        auto other =
            corio::create_task([](corio::Event& e) -> Task<void> { co_await e.wait(); }(ev));
        co_await corio::sleep(0s);
        h.cancel();
        EXPECT_THROW(co_await h, corio::CancelledError);
        ev.set();
        co_await other;  // the remaining waiter is still woken
    }());
}
