// fuzz/dapr_duration_fuzz.cpp - libFuzzer target for the duration parser of
// Dapr's actor API (corio/actors/http.hpp: Go durations and ISO 8601).
//
// Every input either throws std::invalid_argument or gives a duration of
// zero or more; that duration, written as Go writes it, parses back to
// itself, and written in Dapr's "0h0m9s0ms" form parses back to itself
// truncated to milliseconds - exactly up to 2^53 ns (104 days), to a double's
// precision beyond (the parser sums in doubles, as Go's fractions allow).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "corio/actors/http.hpp"

namespace actors = corio::actors;

namespace {

bool close_enough(actors::Duration a, actors::Duration b) {
    const double x = static_cast<double>(a.count()), y = static_cast<double>(b.count());
    const double diff = x > y ? x - y : y - x;
    return diff <= 1 || diff <= (x > y ? x : y) * 4e-16;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    actors::Duration d{};
    try {
        d = actors::parse_dapr_duration(text);
    } catch (const std::invalid_argument&) {
        return 0;
    }
    if (d < actors::Duration::zero()) {
        std::fprintf(stderr, "negative duration from '%s'\n", text.c_str());
        std::abort();
    }
    const std::string go = actors::format_go_duration(d);
    if (!close_enough(actors::parse_dapr_duration(go), d)) {
        std::fprintf(stderr, "'%s' -> %lld ns -> '%s' does not parse back\n", text.c_str(),
                     static_cast<long long>(d.count()), go.c_str());
        std::abort();
    }
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d);
    if (!close_enough(actors::parse_dapr_duration(actors::format_dapr_duration(d)), ms)) {
        std::fprintf(stderr, "'%s': Dapr's form does not parse back\n", text.c_str());
        std::abort();
    }
    return 0;
}
