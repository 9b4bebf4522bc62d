// fuzz/fuzz_support.hpp - what the codec fuzzers share: a deterministic
// random source seeded from the input, cutting an input into pieces, and
// placing each piece in its own exact-size heap block, so that AddressSanitizer
// catches a codec that reads past a piece or keeps a view into an old one.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace corio::fuzz {

/// SplitMix64: small, fast, good enough to pick split points.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    /// Uniform-ish in [0, n), n > 0.
    std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }

private:
    std::uint64_t state_;
};

/// FNV-1a of the input: the seed of its splits.
inline std::uint64_t hash(std::string_view s) {
    std::uint64_t h = 1469598103934665603ULL;
    for (unsigned char c : s) {
        h = (h ^ c) * 1099511628211ULL;
    }
    return h;
}

/// `s` cut at up to `max_cuts` random points (sorted, distinct, inside).
inline std::vector<std::string_view> random_pieces(std::string_view s, Rng& rng,
                                                   std::size_t max_cuts) {
    std::vector<std::size_t> cuts;
    if (s.size() > 1) {
        std::size_t n = rng.below(max_cuts + 1);
        for (std::size_t i = 0; i < n; ++i) {
            cuts.push_back(1 + rng.below(s.size() - 1));
        }
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<std::string_view> out;
    std::size_t at = 0;
    for (std::size_t c : cuts) {
        out.push_back(s.substr(at, c - at));
        at = c;
    }
    out.push_back(s.substr(at));
    return out;
}

/// Copies each placed piece into a fresh heap block of exactly its size
/// and frees the previous one.
class Placer {
public:
    std::string_view operator()(std::string_view s) {
        block_ = std::make_unique<char[]>(s.size() == 0 ? 1 : s.size());
        std::memcpy(block_.get(), s.data(), s.size());
        return std::string_view(block_.get(), s.size());
    }

private:
    std::unique_ptr<char[]> block_;
};

template <class T>
void check_same(const T& whole, const T& other, const char* what) {
    if (whole == other) {
        return;
    }
    std::fprintf(stderr, "%s: transcripts differ\n-- whole:\n", what);
    for (const auto& line : whole) {
        std::fprintf(stderr, "  %s\n", std::string(line).c_str());
    }
    std::fprintf(stderr, "-- other:\n");
    for (const auto& line : other) {
        std::fprintf(stderr, "  %s\n", std::string(line).c_str());
    }
    std::abort();
}

}  // namespace corio::fuzz
