// corio/queues.hpp - Queue, PriorityQueue and LifoQueue for tasks of one loop.
//
// Mirrors asyncio's queues.py (Python 3.13, shutdown included). Like
// asyncio, a put() or get() that finds room or an item completes without
// suspending. When one side waits, the other hands it its turn: an item
// appended for the first waiting getter, or a slot freed for the first
// waiting putter, is reserved for that waiter, so nobody overtakes it.
// Cancellation is safe at any moment: a getter cancelled after its item was
// reserved leaves the item in the queue and passes the turn on (no item is
// lost); a putter cancelled after its slot was reserved puts nothing and
// passes the slot on (no item is duplicated).
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

/// Why a queue waiter was woken.
enum class QueueWake : std::uint8_t { none, turn, shutdown };

struct QueueWaiter : ListWaiter {
    QueueWake why = QueueWake::none;
    std::uint32_t epoch = 0;  // the queue's drain epoch when woken
};

/// Everything in a queue that does not depend on the item type: the wait
/// lists, the reservations, task accounting and shutdown.
class QueueCore {
public:
    explicit QueueCore(std::size_t maxsize) noexcept : maxsize_(maxsize) { finished_.set(); }
    QueueCore(const QueueCore&) = delete;
    QueueCore& operator=(const QueueCore&) = delete;

    std::size_t maxsize() const noexcept { return maxsize_; }
    void task_done();
    bool is_shutdown() const noexcept { return shutdown_; }

protected:
    using WaitList = IntrusiveList<ListWaiter>;

    // Items in storage not promised to a woken getter.
    std::size_t available(std::size_t stored) const noexcept { return stored - reserved_items_; }
    // Slots a put may take now.
    bool has_room(std::size_t stored) const noexcept {
        return maxsize_ == 0 || stored + reserved_slots_ < maxsize_;
    }
    // After an item went in: count it for join(), hand it to a waiting getter.
    void on_pushed(std::size_t stored) noexcept {
        ++unfinished_;
        finished_.clear();
        if (!getters_.empty()) {
            wake_getter(stored);
        }
    }
    // After an item came out: hand the free slot to a waiting putter.
    void on_popped(std::size_t stored) noexcept {
        if (!putters_.empty()) {
            wake_putter(stored);
        }
    }
    void wake_getter(std::size_t stored) noexcept;
    void wake_putter(std::size_t stored) noexcept;
    // Wakes every waiter with QueueWake::shutdown; `drained` bumps the epoch.
    void shut(bool drained) noexcept;

    static bool unlink_and_cancel(Waiter* w) noexcept { return ListWaiter::unlink_and_cancel(w); }

    std::size_t maxsize_;
    std::size_t unfinished_ = 0;
    std::size_t reserved_items_ = 0;
    std::size_t reserved_slots_ = 0;
    std::uint32_t epoch_ = 0;
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

    /// Adds `item` without waiting. Throws QueueFull when there is no room
    /// (free slots promised to waiting putters count as taken), QueueShutDown
    /// after shutdown(). asyncio: `put_nowait`.
    void put_nowait(T item) {
        if (shutdown_) {
            throw QueueShutDown();
        }
        if (!has_room(store_.size())) {
            throw QueueFull();
        }
        push(std::move(item));
    }

    /// Removes and returns an item without waiting. Throws QueueEmpty when
    /// no item is free (items promised to woken getters are not), QueueShutDown
    /// when the queue is shut down and empty. asyncio: `get_nowait`.
    T get_nowait() {
        if (available(store_.size()) == 0) {
            if (shutdown_) {
                throw QueueShutDown();
            }
            throw QueueEmpty();
        }
        return pop();
    }

    struct PutAwaiter : detail::QueueWaiter {
        BasicQueue* q;
        T item;
        PutAwaiter(BasicQueue* queue, T&& v) : q(queue), item(std::move(v)) {}
        PutAwaiter(const PutAwaiter&) = delete;
        ~PutAwaiter() {
            if (linked()) {
                unlink();
            } else if (why == detail::QueueWake::turn) {
                q->give_back_slot();  // the frame died between wake-up and resumption
            }
        }
        bool await_ready() {
            if (q->shutdown_) {
                throw QueueShutDown();
            }
            if (q->has_room(q->store_.size())) {
                q->push(std::move(item));
                return true;
            }
            return false;
        }
        void await_suspend(std::coroutine_handle<> h) {
            detail::TaskState& t = current_task();
            on_cancel = &unlink_and_cancel;
            q->putters_.push_back(*this);
            suspend(t, h);
        }
        void await_resume() {
            if (task == nullptr) {
                return;
            }
            detail::QueueWake w = std::exchange(why, detail::QueueWake::none);
            if (w == detail::QueueWake::turn) {
                if (cancel_pending() || q->shutdown_) {
                    q->give_back_slot();
                    check_cancelled();
                    throw QueueShutDown();
                }
                --q->reserved_slots_;
                q->push(std::move(item));
                return;
            }
            check_cancelled();
            throw QueueShutDown();  // woken by shutdown()
        }
    };

    struct GetAwaiter : detail::QueueWaiter {
        BasicQueue* q;
        explicit GetAwaiter(BasicQueue* queue) noexcept : q(queue) {}
        GetAwaiter(const GetAwaiter&) = delete;
        ~GetAwaiter() {
            if (linked()) {
                unlink();
            } else if (why == detail::QueueWake::turn) {
                q->give_back_item(epoch);
            }
        }
        bool await_ready() {
            if (q->available(q->store_.size()) > 0) {
                return true;
            }
            if (q->shutdown_) {
                throw QueueShutDown();
            }
            return false;
        }
        void await_suspend(std::coroutine_handle<> h) {
            detail::TaskState& t = current_task();
            on_cancel = &unlink_and_cancel;
            q->getters_.push_back(*this);
            suspend(t, h);
        }
        T await_resume() {
            if (task == nullptr) {
                return q->pop();
            }
            detail::QueueWake w = std::exchange(why, detail::QueueWake::none);
            if (w == detail::QueueWake::turn) {
                if (epoch != q->epoch_) {
                    check_cancelled();
                    throw QueueShutDown();  // shutdown(immediate) dropped our item
                }
                if (cancel_pending()) {
                    q->give_back_item(epoch);  // the item stays; the next getter gets it
                    check_cancelled();
                }
                --q->reserved_items_;
                return q->pop();
            }
            check_cancelled();
            throw QueueShutDown();
        }
    };

    /// Adds `item`, suspending while the queue is full. Throws QueueShutDown
    /// after shutdown() (also when it happens while waiting). Cancellation
    /// before the item went in puts nothing (and passes a reserved slot on).
    /// asyncio: `Queue.put`.
    PutAwaiter put(T item) { return PutAwaiter(this, std::move(item)); }
    /// Removes and returns an item, suspending while none is free. Throws
    /// QueueShutDown once the queue is shut down and empty. Cancellation never
    /// loses an item: a reserved one stays for the next getter.
    /// asyncio: `Queue.get`.
    GetAwaiter get() noexcept { return GetAwaiter(this); }

    /// Suspends until every item put has been marked with task_done().
    /// asyncio: `Queue.join`.
    Event::WaitAwaiter join() noexcept { return finished_.wait(); }

    /// Shuts the queue down (Python 3.13): put() and put_nowait() throw
    /// QueueShutDown from now on, and so do get() calls once the queue is
    /// empty; waiting putters and getters are woken to throw it. With
    /// `immediate`, the items are dropped (and counted as done for join()).
    /// asyncio: `Queue.shutdown`.
    void shutdown(bool immediate = false) {
        shutdown_ = true;
        if (immediate) {
            std::size_t n = store_.size();
            store_.clear();
            unfinished_ -= std::min(unfinished_, n);
            reserved_items_ = 0;
            if (unfinished_ == 0) {
                finished_.set();
            }
        }
        shut(immediate);
    }

private:
    void push(T&& item) {
        store_.push(std::move(item));
        on_pushed(store_.size());
    }
    T pop() {
        T item = store_.pop();
        on_popped(store_.size());
        return item;
    }
    void give_back_slot() noexcept {
        --reserved_slots_;
        wake_putter(store_.size());
    }
    void give_back_item(std::uint32_t epoch) noexcept {
        if (epoch == epoch_) {
            --reserved_items_;
            wake_getter(store_.size());
        }
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
