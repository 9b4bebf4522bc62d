// corio/queues.hpp - Queue, PriorityQueue and LifoQueue for tasks of one loop.
//
// Mirrors asyncio's queues.py (Python 3.13, shutdown included), step by
// step. A put() or get() that finds room or an item completes at once,
// without suspending or allocating. Otherwise the task waits in FIFO order;
// a put wakes the first getter and a get the first putter, which then check
// the queue again - as in asyncio, a task that runs first may take the item
// or slot, and the woken one waits again. Cancellation is safe at any moment:
// a cancelled get takes no item and a cancelled put adds none, and one that
// had been woken passes its turn on, so no item is lost or duplicated.
#pragma once

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include "corio/errors.hpp"
#include "corio/locks.hpp"

namespace corio {

namespace detail {

/// A growable FIFO ring buffer (power-of-two capacity).
template <class T>
class Ring {
public:
    Ring() = default;
    Ring(const Ring&) = delete;
    Ring& operator=(const Ring&) = delete;
    ~Ring() {
        clear();
        ::operator delete(buf_);
    }

    std::size_t size() const noexcept { return tail_ - head_; }
    bool empty() const noexcept { return head_ == tail_; }
    void reserve(std::size_t n) {
        if (n > cap_) {
            grow(n);
        }
    }
    void push(T&& v) {
        if (size() == cap_) {
            grow(cap_ ? cap_ * 2 : 16);
        }
        ::new (static_cast<void*>(buf_ + (tail_ & (cap_ - 1)))) T(std::move(v));
        ++tail_;
    }
    T pop() {
        T* p = buf_ + (head_ & (cap_ - 1));
        T v(std::move(*p));
        p->~T();
        ++head_;
        return v;
    }
    void clear() noexcept {
        while (!empty()) {
            (buf_ + (head_ & (cap_ - 1)))->~T();
            ++head_;
        }
    }

private:
    void grow(std::size_t want) {
        std::size_t cap = 16;
        while (cap < want) {
            cap *= 2;
        }
        T* nb = static_cast<T*>(::operator new(cap * sizeof(T)));
        std::size_t n = size();
        for (std::size_t i = 0; i < n; ++i) {
            T* p = buf_ + ((head_ + i) & (cap_ - 1));
            ::new (static_cast<void*>(nb + i)) T(std::move(*p));
            p->~T();
        }
        ::operator delete(buf_);
        buf_ = nb;
        cap_ = cap;
        head_ = 0;
        tail_ = n;
    }

    T* buf_ = nullptr;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
};

/// Everything in a queue that does not depend on the item type: the wait
/// lists, task accounting and shutdown.
class QueueCore {
public:
    explicit QueueCore(std::size_t maxsize) noexcept : maxsize_(maxsize) { finished_.set(); }
    QueueCore(const QueueCore&) = delete;
    QueueCore& operator=(const QueueCore&) = delete;

    std::size_t maxsize() const noexcept { return maxsize_; }
    /// Marks one item taken with get() as processed; throws
    /// std::invalid_argument (asyncio's ValueError) when called more often
    /// than items were put. asyncio: `Queue.task_done`.
    void task_done();
    bool is_shutdown() const noexcept { return shutdown_; }

protected:
    using WaitList = IntrusiveList<ListWaiter>;

    // asyncio's _wakeup_next: wakes the first waiter of `list`, which then
    // checks the queue again (and may find that another task was faster).
    static void wake_next(WaitList& list) noexcept {
        if (!list.empty()) {
            ListWaiter& w = list.pop_front();
            w.woken = true;
            w.wake();
        }
    }
    // After an item went in: count it for join(), wake a getter.
    void on_pushed() noexcept {
        ++unfinished_;
        finished_.clear();
        wake_next(getters_);
    }
    // Waits in `list` until woken (by a put, a get or shutdown). A waiter
    // woken and then cancelled passes its turn on if the queue state still
    // allows it (`still_ok`), as asyncio's get() and put() do.
    struct Wait : ListWaiter {
        WaitList* list;
        explicit Wait(WaitList& l) noexcept : list(&l) {}
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) {
            TaskState& t = current_task();
            on_cancel = &unlink_and_cancel;
            list->push_back(*this);
            suspend(t, h);
        }
        void await_resume() { check_cancelled(); }
    };

    std::size_t maxsize_;
    std::size_t unfinished_ = 0;
    bool shutdown_ = false;
    WaitList getters_;
    WaitList putters_;
    Event finished_;
};

template <class T>
struct FifoStorage {
    Ring<T> items;
    std::size_t size() const noexcept { return items.size(); }
    void push(T&& v) { items.push(std::move(v)); }
    T pop() { return items.pop(); }
    void clear() noexcept { items.clear(); }
    void reserve(std::size_t n) { items.reserve(n); }
};

template <class T>
struct LifoStorage {
    std::vector<T> items;
    std::size_t size() const noexcept { return items.size(); }
    void push(T&& v) { items.push_back(std::move(v)); }
    T pop() {
        T v(std::move(items.back()));
        items.pop_back();
        return v;
    }
    void clear() noexcept { items.clear(); }
    void reserve(std::size_t n) { items.reserve(n); }
};

// A min-heap under Compare: pop() gives the smallest item, like heapq.
template <class T, class Compare>
struct PriorityStorage {
    std::vector<T> items;
    Compare less;
    bool greater(const T& a, const T& b) { return less(b, a); }
    std::size_t size() const noexcept { return items.size(); }
    void push(T&& v) {
        items.push_back(std::move(v));
        std::push_heap(items.begin(), items.end(),
                       [this](const T& a, const T& b) { return greater(a, b); });
    }
    T pop() {
        std::pop_heap(items.begin(), items.end(),
                      [this](const T& a, const T& b) { return greater(a, b); });
        T v(std::move(items.back()));
        items.pop_back();
        return v;
    }
    void clear() noexcept { items.clear(); }
    void reserve(std::size_t n) { items.reserve(n); }
};

}  // namespace detail

/// A queue of T between tasks; the order comes from Storage (FIFO, LIFO or
/// priority). Use the aliases Queue, LifoQueue and PriorityQueue.
template <class T, class Storage>
class BasicQueue : public detail::QueueCore {
public:
    /// maxsize 0 means unbounded. asyncio: `Queue(maxsize)`.
    explicit BasicQueue(std::size_t maxsize = 0) : QueueCore(maxsize) {
        if (maxsize > 0 && maxsize <= 4096) {
            store_.reserve(maxsize);
        }
    }

    /// Items in the queue. asyncio: `qsize`.
    std::size_t qsize() const noexcept { return store_.size(); }
    bool empty() const noexcept { return store_.size() == 0; }
    /// True when maxsize > 0 and qsize() >= maxsize. asyncio: `full`.
    bool full() const noexcept { return maxsize_ > 0 && store_.size() >= maxsize_; }

    /// Adds `item` without waiting. Throws QueueFull when full, QueueShutDown
    /// after shutdown(). asyncio: `put_nowait`.
    void put_nowait(T item) {
        if (shutdown_) {
            throw QueueShutDown();
        }
        if (full()) {
            throw QueueFull();
        }
        store_.push(std::move(item));
        on_pushed();
    }

    /// Removes and returns an item without waiting. Throws QueueEmpty when
    /// empty, QueueShutDown when shut down and empty. asyncio: `get_nowait`.
    T get_nowait() {
        if (empty()) {
            if (shutdown_) {
                throw QueueShutDown();
            }
            throw QueueEmpty();
        }
        T item = store_.pop();
        wake_next(putters_);
        return item;
    }

    // put() and get() complete without a coroutine frame when they need not
    // wait; otherwise they continue in put_slow()/get_slow(), which loop as
    // asyncio's put() and get() do.
    struct PutAwaiter {
        BasicQueue* q;
        T item;
        Task<void> slow;
        bool await_ready() {
            if (q->shutdown_) {
                throw QueueShutDown();
            }
            if (!q->full()) {
                q->store_.push(std::move(item));
                q->on_pushed();
                return true;
            }
            return false;
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
            slow = q->put_slow(std::move(item));
            return typename Task<void>::Awaiter{slow.handle()}.await_suspend(h);
        }
        void await_resume() {
            if (slow) {
                slow.handle().promise().take();
            }
        }
    };

    struct GetAwaiter {
        BasicQueue* q;
        Task<T> slow;
        bool await_ready() {
            if (!q->empty()) {
                return true;
            }
            if (q->shutdown_) {
                throw QueueShutDown();
            }
            return false;
        }
        std::coroutine_handle<> await_suspend(std::coroutine_handle<> h) {
            slow = q->get_slow();
            return typename Task<T>::Awaiter{slow.handle()}.await_suspend(h);
        }
        T await_resume() {
            if (slow) {
                return slow.handle().promise().take();
            }
            return q->get_nowait();
        }
    };

    /// Adds `item`, suspending while the queue is full. Throws QueueShutDown
    /// after shutdown() (also when it happens while waiting). Cancellation
    /// puts nothing; a woken putter that is cancelled passes its turn on.
    /// asyncio: `Queue.put`.
    PutAwaiter put(T item) { return PutAwaiter{this, std::move(item), {}}; }
    /// Removes and returns an item, suspending while the queue is empty.
    /// Throws QueueShutDown once the queue is shut down and empty.
    /// Cancellation takes nothing (an item stays for the next getter, which
    /// is woken if this one had been). asyncio: `Queue.get`.
    GetAwaiter get() noexcept { return GetAwaiter{this, {}}; }

    /// Suspends until every item put has been marked with task_done().
    /// asyncio: `Queue.join`.
    Event::WaitAwaiter join() noexcept { return finished_.wait(); }

    /// Shuts the queue down (Python 3.13): put() and put_nowait() throw
    /// QueueShutDown from now on, and so do get() calls once the queue is
    /// empty; waiting putters and getters are woken to check. With
    /// `immediate`, the items are dropped (and counted as done for join()).
    /// asyncio: `Queue.shutdown`.
    void shutdown(bool immediate = false) {
        shutdown_ = true;
        if (immediate) {
            std::size_t n = store_.size();
            store_.clear();
            unfinished_ -= std::min(unfinished_, n);
            if (unfinished_ == 0) {
                finished_.set();
            }
        }
        while (!getters_.empty()) {
            wake_next(getters_);
        }
        while (!putters_.empty()) {
            wake_next(putters_);
        }
    }

private:
    Task<void> put_slow(T item) {
        while (full()) {
            if (shutdown_) {
                throw QueueShutDown();
            }
            Wait w(putters_);
            try {
                co_await w;
            } catch (...) {
                if (w.woken && !full()) {
                    wake_next(putters_);  // we cannot take the slot: the next one may
                }
                throw;
            }
        }
        put_nowait(std::move(item));
    }

    Task<T> get_slow() {
        while (empty()) {
            if (shutdown_) {
                throw QueueShutDown();
            }
            Wait w(getters_);
            try {
                co_await w;
            } catch (...) {
                if (w.woken && !empty()) {
                    wake_next(getters_);  // the item stays: the next getter may have it
                }
                throw;
            }
        }
        co_return get_nowait();
    }

    Storage store_;
};

/// FIFO queue. asyncio: `asyncio.Queue`.
template <class T>
using Queue = BasicQueue<T, detail::FifoStorage<T>>;
/// Last in, first out. asyncio: `asyncio.LifoQueue`.
template <class T>
using LifoQueue = BasicQueue<T, detail::LifoStorage<T>>;
/// Smallest item first under Compare (like heapq; e.g. std::pair<int,
/// std::string> entries sort by priority). asyncio: `asyncio.PriorityQueue`.
template <class T, class Compare = std::less<T>>
using PriorityQueue = BasicQueue<T, detail::PriorityStorage<T, Compare>>;

}  // namespace corio
