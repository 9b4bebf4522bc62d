// examples/support/clock.hpp - time for the examples' synchronous parts.
//
// The asyncio examples time themselves with the loop's clock (loop.time()),
// which tests run on virtual time (CORIO_VIRTUAL_TIME=1). Synchronous code
// (the "4.00 seconds" baselines, time.sleep in plain functions, the hand-made
// event loops) has no corio loop: it uses blocking_sleep(), SyncClock and
// Stopwatch from here, which on virtual time advance a process-wide counter
// instead of sleeping, so the examples' tests see exactly the times a quiet
// machine would print.
//
// Not for examples whose concurrency comes from threads (examples/threads/):
// one counter cannot add up sleeps that overlap in several threads. Those
// sleep with std::this_thread::sleep_for and are tested on real time
// (manifest.hpp's Timing::real_time).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace example {

inline bool virtual_time() {
    static const bool on = [] {
        const char* v = std::getenv("CORIO_VIRTUAL_TIME");
        return v != nullptr && v[0] != '\0' && std::strcmp(v, "0") != 0;
    }();
    return on;
}

inline std::atomic<long long>& virtual_ns() {
    static std::atomic<long long> ns{0};
    return ns;
}

/// Python's time.sleep(): blocks the calling thread.
template <class Rep, class Period>
void blocking_sleep(std::chrono::duration<Rep, Period> d) {
    if (virtual_time()) {
        virtual_ns() += std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    } else {
        std::this_thread::sleep_for(d);
    }
}

/// Python's time.monotonic() / datetime.now() for synchronous code, as a
/// std::chrono clock: real steady time, or the virtual counter that
/// blocking_sleep() advances. For the hand-made event loops of the examples.
struct SyncClock {
    using duration = std::chrono::nanoseconds;
    using rep = duration::rep;
    using period = duration::period;
    using time_point = std::chrono::time_point<SyncClock>;
    static constexpr bool is_steady = true;

    static time_point now() noexcept {
        if (virtual_time()) {
            return time_point(duration(virtual_ns().load()));
        }
        return time_point(std::chrono::duration_cast<duration>(
            std::chrono::steady_clock::now().time_since_epoch()));
    }
};

/// Python's time.perf_counter() pair: seconds since construction.
class Stopwatch {
public:
    Stopwatch() : start_(SyncClock::now()) {}
    double seconds() const {
        return std::chrono::duration<double>(SyncClock::now() - start_).count();
    }

private:
    SyncClock::time_point start_;
};

}  // namespace example
