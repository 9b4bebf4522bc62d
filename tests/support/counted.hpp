// tests/support/counted.hpp - a value type that counts its lifetimes, to
// check that awaits neither copy nor leak values (cppcoro's `counted`).
#pragma once

struct Counted {
    static inline int constructed = 0;
    static inline int destroyed = 0;
    static inline int copies = 0;
    static inline int moves = 0;

    static void reset() { constructed = destroyed = copies = moves = 0; }
    static int alive() { return constructed - destroyed; }

    int value = 0;
    explicit Counted(int v = 0) : value(v) { ++constructed; }
    Counted(const Counted& o) : value(o.value) {
        ++constructed;
        ++copies;
    }
    Counted(Counted&& o) noexcept : value(o.value) {
        ++constructed;
        ++moves;
    }
    Counted& operator=(const Counted&) = default;
    Counted& operator=(Counted&&) = default;
    ~Counted() { ++destroyed; }
};
