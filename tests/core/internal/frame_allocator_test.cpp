#include "corio/detail/frame_allocator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>
#include <unordered_set>
#include <vector>

using corio::detail::frame_allocate;
using corio::detail::frame_deallocate;

TEST(FrameAllocator, FreedBlocksAreReusedBySizeClass) {
    void* a = frame_allocate(100);
    std::memset(a, 0xab, 100);
    frame_deallocate(a, 100);
    void* b = frame_allocate(112);  // same 16-byte class as 100
    EXPECT_EQ(a, b);
    void* c = frame_allocate(100);
    EXPECT_NE(b, c);
    frame_deallocate(b, 112);
    frame_deallocate(c, 100);
}

TEST(FrameAllocator, LargeBlocksBypassTheCache) {
    using corio::detail::FrameCache;
    using corio::detail::tls_frame_cache;
    // Past kMaxPooled a block comes from and goes back to malloc: no class
    // list of this thread's cache grows, and a small request is not served
    // from the large block's memory.
    void* warm = frame_allocate(10);  // registers this thread's cache
    frame_deallocate(warm, 10);
    std::uint32_t before[FrameCache::kClasses];
    std::memcpy(before, tls_frame_cache.counts, sizeof before);
    void* a = frame_allocate(64 * 1024);
    ASSERT_NE(a, nullptr);
    std::memset(a, 1, 64 * 1024);  // all of it is usable (ASan checks the bounds)
    frame_deallocate(a, 64 * 1024);
    EXPECT_EQ(std::memcmp(before, tls_frame_cache.counts, sizeof before), 0)
        << "a large block entered a size class";
    void* b = frame_allocate(FrameCache::kMaxPooled);
    EXPECT_NE(b, a);
    frame_deallocate(b, FrameCache::kMaxPooled);
}

TEST(FrameAllocator, BlocksMayBeFreedOnAnotherThread) {
    // Blocks carved by this thread and freed by another one become that
    // thread's to reuse; nothing is lost or handed out twice.
    constexpr std::size_t kSize = 48;
    std::vector<void*> blocks;
    for (int i = 0; i < 1000; ++i) {
        blocks.push_back(frame_allocate(kSize));
        std::memset(blocks.back(), i & 0xff, kSize);
    }
    bool reused_one = false;
    std::thread t([&] {
        for (void* p : blocks) {
            frame_deallocate(p, kSize);
        }
        // This thread's cache now owns them: its next block is one of them.
        void* q = frame_allocate(kSize);
        reused_one = std::find(blocks.begin(), blocks.end(), q) != blocks.end();
        frame_deallocate(q, kSize);
    });
    t.join();
#if defined(CORIO_ASAN)
    (void)reused_one;  // under ASan every block is its own malloc
#else
    EXPECT_TRUE(reused_one);
#endif
    // This thread's own blocks are still distinct from each other.
    std::vector<void*> mine;
    for (int i = 0; i < 100; ++i) {
        mine.push_back(frame_allocate(kSize));
        std::memset(mine.back(), 0x5a, kSize);
    }
    std::unordered_set<void*> distinct(mine.begin(), mine.end());
    EXPECT_EQ(distinct.size(), mine.size());
    for (void* p : mine) {
        frame_deallocate(p, kSize);
    }
}

TEST(FrameAllocator, BlocksBeyondAThreadsShareGoToTheDepotForOtherThreads) {
    constexpr std::size_t kSize = 208;  // a class nothing else in this test uses
    constexpr int kCount = 3 * corio::detail::FrameCache::kMaxCachedPerClass;
    std::vector<void*> freed;
    std::thread producer([&] {
        for (int i = 0; i < kCount; ++i) {
            freed.push_back(frame_allocate(kSize));
        }
        for (void* p : freed) {
            frame_deallocate(p, kSize);
        }
    });  // exiting hands this thread's cache to the depot as well
    producer.join();
    std::size_t reused = 0;
    std::vector<void*> mine;
    std::thread consumer([&] {
        for (int i = 0; i < kCount; ++i) {
            mine.push_back(frame_allocate(kSize));
        }
        std::unordered_set<void*> earlier(freed.begin(), freed.end());
        for (void* p : mine) {
            reused += earlier.count(p);
        }
        for (void* p : mine) {
            frame_deallocate(p, kSize);
        }
    });
    consumer.join();
#if defined(CORIO_ASAN)
    (void)reused;  // under ASan every block is its own malloc: no depot
#else
    EXPECT_EQ(reused, static_cast<std::size_t>(kCount));  // all served from the depot
#endif
}

TEST(FrameAllocator, AThreadCarvingMegabytesGetsDistinctBlocksAndReusesThemAll) {
    // 64K blocks of 160 bytes: 10 MiB, past the switch to 2 MiB slabs, and
    // eight times a thread's list, so most frees go through spilled batches.
    constexpr std::size_t kSize = 160;  // a class nothing else in this test uses
    constexpr int kCount = 8 * corio::detail::FrameCache::kMaxCachedPerClass;
    std::size_t distinct = 0;
    std::size_t reused = 0;
    std::thread t([&] {
        std::vector<void*> first;
        for (int i = 0; i < kCount; ++i) {
            void* p = frame_allocate(kSize);
            std::memset(p, i & 0xff, kSize);
            first.push_back(p);
        }
        std::unordered_set<void*> seen(first.begin(), first.end());
        distinct = seen.size();
        for (int i = 0; i < kCount; ++i) {
            ASSERT_EQ(static_cast<unsigned char*>(first[i])[kSize - 1], i & 0xff);
            frame_deallocate(first[i], kSize);
        }
        std::vector<void*> second;
        for (int i = 0; i < kCount; ++i) {
            second.push_back(frame_allocate(kSize));
            reused += seen.count(second.back());
        }
        for (void* p : second) {
            frame_deallocate(p, kSize);
        }
    });
    t.join();
    EXPECT_EQ(distinct, static_cast<std::size_t>(kCount));
#if defined(CORIO_ASAN)
    (void)reused;
#else
    EXPECT_EQ(reused, static_cast<std::size_t>(kCount));  // list, own spill and depot batches
#endif
}
