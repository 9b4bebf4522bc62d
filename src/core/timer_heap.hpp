// src/core/timer_heap.hpp - the loop's timers, a 4-ary min-heap ordered by
// (when, seq): the earliest deadline first, FIFO among equal deadlines.
//
// Each TimerNode records its slot, so removing a cancelled timer is
// O(log n) and immediate: the heap never holds dead entries to skip. Entries
// cache `when` and `seq` so comparisons never touch the nodes.
#pragma once

#include <cstdint>
#include <vector>

#include "corio/event_loop.hpp"

namespace corio::detail {

class TimerHeap {
public:
    bool empty() const noexcept { return heap_.empty(); }
    std::size_t size() const noexcept { return heap_.size(); }
    TimerNode& top() const noexcept { return *heap_.front().node; }
    std::int64_t next_when() const noexcept { return heap_.front().when; }

    void push(TimerNode& n) {
        heap_.push_back(Entry{n.when, n.seq, &n});
        sift_up(heap_.size() - 1);
    }

    void remove(TimerNode& n) noexcept {
        std::uint32_t i = n.index;
        n.index = TimerNode::kNotQueued;
        std::size_t last = heap_.size() - 1;
        if (i != last) {
            heap_[i] = heap_[last];
            heap_[i].node->index = i;
            heap_.pop_back();
            if (i > 0 && less(heap_[i], heap_[parent(i)])) {
                sift_up(i);
            } else {
                sift_down(i);
            }
        } else {
            heap_.pop_back();
        }
    }

    void pop() noexcept { remove(top()); }

private:
    struct Entry {
        std::int64_t when;
        std::uint64_t seq;
        TimerNode* node;
    };
    static constexpr std::size_t kArity = 4;

    static bool less(const Entry& a, const Entry& b) noexcept {
        return a.when < b.when || (a.when == b.when && a.seq < b.seq);
    }
    static std::size_t parent(std::size_t i) noexcept { return (i - 1) / kArity; }

    void sift_up(std::size_t i) noexcept {
        Entry e = heap_[i];
        while (i > 0) {
            std::size_t p = parent(i);
            if (!less(e, heap_[p])) {
                break;
            }
            heap_[i] = heap_[p];
            heap_[i].node->index = static_cast<std::uint32_t>(i);
            i = p;
        }
        heap_[i] = e;
        e.node->index = static_cast<std::uint32_t>(i);
    }

    void sift_down(std::size_t i) noexcept {
        Entry e = heap_[i];
        std::size_t n = heap_.size();
        for (;;) {
            std::size_t first = i * kArity + 1;
            if (first >= n) {
                break;
            }
            std::size_t best = first;
            std::size_t end = first + kArity < n ? first + kArity : n;
            for (std::size_t c = first + 1; c < end; ++c) {
                if (less(heap_[c], heap_[best])) {
                    best = c;
                }
            }
            if (!less(heap_[best], e)) {
                break;
            }
            heap_[i] = heap_[best];
            heap_[i].node->index = static_cast<std::uint32_t>(i);
            i = best;
        }
        heap_[i] = e;
        e.node->index = static_cast<std::uint32_t>(i);
    }

    std::vector<Entry> heap_;
};

}  // namespace corio::detail
