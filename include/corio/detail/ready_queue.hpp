// corio/detail/ready_queue.hpp - the loop's FIFO of ready work.
//
// A ring buffer of {function, argument} pairs: resuming a task is one push of
// {task_step, task} with no allocation; a call_soon() handle is one push of
// {run_handle, handle}. The function receives `run == false` when the loop is
// closed with the item still queued and must then only release what it owns.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace corio::detail {

struct ReadyItem {
    void (*fn)(void* arg, bool run);
    void* arg;
};

class ReadyQueue {
public:
    ReadyQueue() = default;
    ReadyQueue(const ReadyQueue&) = delete;
    ReadyQueue& operator=(const ReadyQueue&) = delete;
    ~ReadyQueue() { std::free(buf_); }

    bool empty() const noexcept { return head_ == tail_; }
    std::size_t size() const noexcept { return tail_ - head_; }

    void push(void (*fn)(void*, bool), void* arg) {
        if (tail_ - head_ == capacity_) {
            grow();
        }
        buf_[tail_++ & (capacity_ - 1)] = ReadyItem{fn, arg};
    }

    ReadyItem pop() noexcept { return buf_[head_++ & (capacity_ - 1)]; }

private:
    void grow() {
        std::size_t cap = capacity_ ? capacity_ * 2 : 1024;
        auto* nb = static_cast<ReadyItem*>(std::malloc(cap * sizeof(ReadyItem)));
        if (!nb) {
            throw std::bad_alloc();
        }
        std::size_t n = tail_ - head_;
        for (std::size_t i = 0; i < n; ++i) {
            nb[i] = buf_[(head_ + i) & (capacity_ - 1)];
        }
        std::free(buf_);
        buf_ = nb;
        capacity_ = cap;
        head_ = 0;
        tail_ = n;
    }

    ReadyItem* buf_ = nullptr;
    std::size_t capacity_ = 0;  // a power of two
    std::size_t head_ = 0;      // next item to pop (monotonic, masked on use)
    std::size_t tail_ = 0;      // next free slot (monotonic, masked on use)
};

}  // namespace corio::detail
