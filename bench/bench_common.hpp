// bench/bench_common.hpp - helpers shared by corio's benchmark programs.
#pragma once

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

namespace bench {

using clock = std::chrono::steady_clock;

inline double seconds_between(clock::time_point a, clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

/// VmRSS of this process in KiB.
inline long rss_kb() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("VmRSS:", 0) == 0) {
            return std::strtol(line.c_str() + 6, nullptr, 10);
        }
    }
    return -1;
}

/// "--name value" flags; they only shrink runs for smoke tests.
inline long flag(int argc, char** argv, std::string_view name, long def) {
    for (int i = 1; i + 1 < argc; ++i) {
        if (name == argv[i]) {
            return std::strtol(argv[i + 1], nullptr, 10);
        }
    }
    return def;
}

}  // namespace bench
