// Built with -fsanitize=address against a corio::core built without it (the
// dev preset), as a user's program may be: frames and task records then
// cross between instrumented code (this file's inline frame_allocate and
// coroutines) and plain code (the library's coroutines and its deletes of
// task records). Regression: the header poisoned cached blocks per
// translation unit, so blocks freed here and reused by the library stayed
// poisoned, and ASan reported a false "use-after-poison" at the first
// access. The test fails by ASan's report (the process aborts).
#include <gtest/gtest.h>

#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;

namespace {

Task<int> leaf(int i) {
    co_await corio::sleep(1ms);
    co_return i;
}

// Frees one block of every size class here, so that whatever the library
// allocates next comes from a block this file gave back.
void recycle_every_class() {
    for (std::size_t size = 16; size <= corio::detail::FrameCache::kMaxPooled; size += 16) {
        corio::detail::frame_deallocate(corio::detail::frame_allocate(size), size);
    }
}

Task<void> waiter(corio::Condition& c) {
    auto held = co_await c.scoped();
    co_await c.wait();  // Condition::wait's frame comes from the library
}

}  // namespace

TEST(FramePoisoning, AFrameTheLibraryMakesFromABlockFreedHereIsNotPoisoned) {
    corio::Condition cond;
    for (int i = 0; i < 16; ++i) {
        recycle_every_class();
        Task<bool> w = cond.wait();  // a lazy frame, allocated by the library
        // Read by instrumented code: ASan reported use-after-poison here.
        volatile char first = *static_cast<char*>(w.handle().address());
        (void)first;
    }
}

TEST(FramePoisoning, AnInstrumentedProgramAndAPlainLibraryShareFramesWithoutFalseReports) {
    int sum = corio_test::vrun([]() -> Task<int> {
        corio::Condition cond;
        int total = 0;
        for (int round = 0; round < 64; ++round) {
            auto t = corio::create_task(leaf(round));  // record made here, freed by the library
            std::vector<corio::TaskHandle<void>> ws;
            for (int i = 0; i < 4; ++i) {
                ws.push_back(corio::create_task(waiter(cond)));
            }
            co_await corio::sleep(1ms);
            recycle_every_class();
            {
                auto held = co_await cond.scoped();
                cond.notify_all();
            }
            co_await corio::gather(ws);
            recycle_every_class();
            total += co_await corio::wait_for(leaf(1), 1s);  // Timeout::run: library code
            total += co_await t;
        }
        co_return total;
    }());
    EXPECT_EQ(sum, 64 + 63 * 64 / 2);
}
