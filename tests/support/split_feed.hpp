// tests/support/split_feed.hpp - the codec test rule: every input is fed
// whole, then cut in two at every split point, then one byte at a time,
// each piece placed against a guard page, and every way must give the same
// transcript of events.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "support/guard_page.hpp"

namespace corio::testing {

/// A codec's events, one line each, in a form that does not depend on how
/// the input was cut (body bytes of one message joined, for instance).
using Transcript = std::vector<std::string>;

/// Inputs up to this size are split at every point; longer ones (tens of
/// KiB, for length encodings) at every point of their first and last KiB and
/// at a stride in between, which keeps the quadratic cost bounded.
inline constexpr std::size_t kSplitEveryPointUpTo = 4096;

/// Runs `drive(pieces, place)` on `input` whole, split in two at every
/// point, and byte by byte; `place` puts a piece against a guard page (the
/// driver calls it on each piece, or on its buffer of unconsumed bytes,
/// right before feeding). Fails the test at the first way that differs from
/// the whole feed and returns the whole feed's transcript.
template <class Drive>
Transcript feed_all_ways(std::string_view input, Drive drive) {
    GuardPage guard(input.size() + 1);
    auto place = [&guard](std::string_view s) { return guard.place(s); };
    const Transcript whole = drive(std::vector<std::string_view>{input}, place);
    const std::size_t n = input.size();
    for (std::size_t i = 1; i < n; ++i) {
        if (n > kSplitEveryPointUpTo && i > 1024 && i < n - 1024 && i % 97 != 0) {
            continue;
        }
        const Transcript t =
            drive(std::vector<std::string_view>{input.substr(0, i), input.substr(i)}, place);
        if (t != whole) {
            ADD_FAILURE() << "split at " << i << " of " << input.size() << " differs:\n"
                          << ::testing::PrintToString(t) << "\nwhole:\n"
                          << ::testing::PrintToString(whole);
            return whole;
        }
    }
    std::vector<std::string_view> bytes;
    for (std::size_t i = 0; i < input.size(); ++i) {
        bytes.push_back(input.substr(i, 1));
    }
    const Transcript t = drive(bytes, place);
    EXPECT_EQ(t, whole) << "byte by byte differs";
    return whole;
}

}  // namespace corio::testing
