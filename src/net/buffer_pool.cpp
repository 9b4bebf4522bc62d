// src/net/buffer_pool.cpp - per-thread byte buffers by size class.
#include "buffer_pool.hpp"

#include <array>
#include <vector>

namespace corio::net::detail {

namespace {

constexpr std::size_t kMinShift = 14;  // 16 KiB
constexpr std::size_t kClasses = 7;    // ... 1 MiB
constexpr std::size_t kBytesPerClass = std::size_t{4} << 20;

struct Pool {
    std::array<std::vector<char*>, kClasses> free;
    ~Pool() {
        for (auto& v : free) {
            for (char* p : v) {
                delete[] p;
            }
        }
    }
};

Pool& pool() {
    thread_local Pool p;
    return p;
}

// The class of `size`, or kClasses when it has none.
std::size_t class_of(std::size_t size) noexcept {
    for (std::size_t c = 0; c < kClasses; ++c) {
        if (size == std::size_t{1} << (kMinShift + c)) {
            return c;
        }
    }
    return kClasses;
}

}  // namespace

char* take_buffer(std::size_t size) {
    std::size_t c = class_of(size);
    if (c < kClasses) {
        auto& v = pool().free[c];
        if (!v.empty()) {
            char* p = v.back();
            v.pop_back();
            return p;
        }
    }
    return new char[size];
}

void give_buffer(char* p, std::size_t size) noexcept {
    if (p == nullptr) {
        return;
    }
    std::size_t c = class_of(size);
    if (c < kClasses) {
        auto& v = pool().free[c];
        if ((v.size() + 1) * size <= kBytesPerClass) {
            try {
                v.push_back(p);
                return;
            } catch (...) {
            }
        }
    }
    delete[] p;
}

}  // namespace corio::net::detail
