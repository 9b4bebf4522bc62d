#include "core/timer_heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

using corio::detail::TimerHeap;
using corio::detail::TimerNode;

TEST(TimerHeap, PopsByDeadlineThenSequence) {
    TimerHeap heap;
    std::vector<TimerNode> nodes(6);
    std::int64_t whens[] = {50, 10, 30, 10, 20, 50};
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        nodes[i].when = whens[i];
        nodes[i].seq = i;
        heap.push(nodes[i]);
    }
    std::vector<std::size_t> order;
    while (!heap.empty()) {
        TimerNode& n = heap.top();
        heap.pop();
        EXPECT_FALSE(n.queued());
        order.push_back(n.seq);
    }
    EXPECT_EQ(order, (std::vector<std::size_t>{1, 3, 4, 2, 0, 5}));
}

TEST(TimerHeap, RandomPushesAndRemovalsKeepOrderAndIndexes) {
    std::mt19937 rng(7);
    TimerHeap heap;
    std::vector<std::unique_ptr<TimerNode>> nodes;
    for (int i = 0; i < 5000; ++i) {
        auto n = std::make_unique<TimerNode>();
        n->when = static_cast<std::int64_t>(rng() % 1000);
        n->seq = static_cast<std::uint64_t>(i);
        heap.push(*n);
        nodes.push_back(std::move(n));
    }
    // Remove a third of them from arbitrary positions.
    for (std::size_t i = 0; i < nodes.size(); i += 3) {
        heap.remove(*nodes[i]);
        EXPECT_FALSE(nodes[i]->queued());
    }
    std::vector<std::pair<std::int64_t, std::uint64_t>> expected;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (i % 3 != 0) {
            expected.emplace_back(nodes[i]->when, nodes[i]->seq);
        }
    }
    std::sort(expected.begin(), expected.end());
    ASSERT_EQ(heap.size(), expected.size());
    for (const auto& e : expected) {
        TimerNode& n = heap.top();
        ASSERT_EQ(n.when, e.first);
        ASSERT_EQ(n.seq, e.second);
        heap.pop();
    }
    EXPECT_TRUE(heap.empty());
}
