// examples/support/clock.hpp - time for the examples' synchronous parts.
//
// The asyncio examples time themselves with the loop's clock (loop.time()),
// which tests run on virtual time (CORIO_VIRTUAL_TIME=1). Synchronous code
// (the "4.00 seconds" baselines, time.sleep in plain functions) has no loop:
// it uses blocking_sleep() and Stopwatch from here, which on virtual time
// advance a process-wide counter instead of sleeping, so the examples' tests
// see exactly the times a quiet machine would print.
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

/// Python's time.perf_counter() pair: seconds since construction.
class Stopwatch {
public:
    Stopwatch() : start_(now()) {}
    double seconds() const { return static_cast<double>(now() - start_) / 1e9; }

private:
    static long long now() {
        if (virtual_time()) {
            return virtual_ns().load();
        }
        return std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
    long long start_;
};

}  // namespace example
