// Mirrors the tutorial 《Python中线程、进程与异步的介绍和实现》, "六、异步编程 › 将 async/await
// 看做异步编程的 API": an event loop is just a scheduler that resumes coroutines (with send) in
// wake-up-time order; async/await works without asyncio.
//
//   @types.coroutine
//   def sleep(seconds):
//       now = datetime.datetime.now()
//       wait_until = now + datetime.timedelta(seconds=seconds)
//       actual = yield wait_until
//       return actual - now
//   async def countdown(label, length, *, delay=0):
//       print(label, 'waiting', delay, ...); delta = await sleep(delay); ...
//   class SleepingLoop:  # run_until_complete(): print(coro) and coro.send(None) each;
//       # then pop the earliest from a heapq; if not due yet: time.sleep(delta),
//       # print(task.coro, delta.total_seconds()); coro.send(now); push it back
//       # unless it raised StopIteration
//   loop = SleepingLoop(countdown('A', 5), countdown('B', 3, delay=2),
//                       countdown('C', 4, delay=1))
//
// The coroutines are example::Generators (support/generator.hpp) that yield
// their wake-up time and receive the current time; `co_await sleep(d)` is
// Python's `await` of a generator-based coroutine, i.e. yield from. Python's
// <coroutine object countdown at 0x...> is printed as <coroutine object #N>,
// N its place in the loop. The "<coroutine> seconds" lines appear only when the
// loop really had to sleep, so a run on a loaded machine prints more of them
// (the seed's own run did); the test runs on exact (virtual) time. Equal
// wake-up times go first-in first-out, which is what real clocks, never
// exactly equal, give.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "support/clock.hpp"
#include "support/generator.hpp"
#include "support/repr.hpp"

using namespace std::chrono_literals;

namespace {

// datetime.datetime.now(): microsecond resolution.
using Time = std::chrono::time_point<example::SyncClock, std::chrono::microseconds>;
Time now() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(example::SyncClock::now());
}

template <class R = void>
using Coroutine = example::Generator<Time, Time, R>;

// Pauses a coroutine for `seconds`; think of it as asyncio.sleep().
Coroutine<std::chrono::microseconds> sleep(std::chrono::microseconds seconds) {
    Time start = now();
    Time wait_until = start + seconds;
    Time actual = co_yield wait_until;
    co_return actual - start;
}

Coroutine<> countdown(std::string label, int length, std::chrono::seconds delay = 0s) {
    std::printf("%s waiting %lld seconds before starting countdown\n", label.c_str(),
                static_cast<long long>(delay.count()));
    auto delta = co_await sleep(delay);
    std::printf("%s starting after waiting %s\n", label.c_str(),
                example::py_timedelta(delta).c_str());
    while (length) {
        std::printf("%s T-minus %d\n", label.c_str(), length);
        co_await sleep(1s);
        length -= 1;
    }
    std::printf("%s lift-off!\n", label.c_str());
}

// Runs the coroutine that is due first; sleeps (blocking) until it is due.
class SleepingLoop {
public:
    template <class... Coros>
    explicit SleepingLoop(Coros... coros) {
        (new_.push_back(std::move(coros)), ...);
    }

    void run_until_complete() {
        for (std::size_t i = 0; i < new_.size(); ++i) {
            std::printf("%s\n", repr(i).c_str());
            Time wait_for = *new_[i].send(Time{});  // coro.send(None) starts it
            push(wait_for, i);
        }
        while (!waiting_.empty()) {
            Time now_ = now();
            std::pop_heap(waiting_.begin(), waiting_.end(), Later{});
            Task task = waiting_.back();
            waiting_.pop_back();
            Coroutine<>& coro = new_[task.coro];
            if (now_ < task.waiting_until) {
                auto delta = task.waiting_until - now_;
                example::blocking_sleep(delta);
                std::printf("%s %s\n", repr(task.coro).c_str(),
                            example::py_float(static_cast<double>(delta.count()) / 1e6).c_str());
                now_ = now();
            }
            if (auto wait_until = coro.send(now_)) {
                push(*wait_until, task.coro);
            }  // else: the coroutine returned (Python's StopIteration)
        }
    }

private:
    // Python prints the coroutine object; here, its place in the loop.
    static std::string repr(std::size_t coro) {
        return "<coroutine object #" + std::to_string(coro + 1) + ">";
    }

    struct Task {
        Time waiting_until;
        std::uint64_t seq;
        std::size_t coro;
    };
    struct Later {
        bool operator()(const Task& a, const Task& b) const {
            return a.waiting_until != b.waiting_until ? a.waiting_until > b.waiting_until
                                                      : a.seq > b.seq;
        }
    };
    void push(Time when, std::size_t coro) {
        waiting_.push_back(Task{when, seq_++, coro});
        std::push_heap(waiting_.begin(), waiting_.end(), Later{});
    }

    std::vector<Coroutine<>> new_;
    std::vector<Task> waiting_;  // a heap: earliest first
    std::uint64_t seq_ = 0;
};

}  // namespace

int main() {
    SleepingLoop loop{countdown("A", 5), countdown("B", 3, 2s), countdown("C", 4, 1s)};
    Time start = now();
    loop.run_until_complete();
    std::printf("Total elapsed time is %s\n", example::py_timedelta(now() - start).c_str());
}
