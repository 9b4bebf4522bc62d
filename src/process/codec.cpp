// The codec's out-of-line parts: LEB128 lengths and the error messages.
#include "corio/process/codec.hpp"

#include <string>

namespace corio::process {

std::uint64_t Reader::varint(const char* what) {
    std::uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        unsigned char b = 0;
        raw(&b, 1, what);
        if (shift == 63 && b > 1) {
            fail(std::string(what) + " does not fit in 64 bits");
        }
        v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (b == 0 && shift != 0) {
                fail(std::string(what) + " is encoded with a redundant zero byte");
            }
            return v;
        }
    }
    fail(std::string(what) + " is longer than 10 bytes");
}

std::size_t Reader::count(const char* what) {
    std::size_t at = pos_;
    std::uint64_t n = varint(what);
    if (n > remaining()) {
        std::size_t left = remaining();
        pos_ = at;
        fail(std::string(what) + " " + std::to_string(n) + " exceeds the " + std::to_string(left) +
             " bytes left");
    }
    return static_cast<std::size_t>(n);
}

void Reader::enter() {
    if (++depth_ > limits_.max_depth) {
        --depth_;
        fail("nesting deeper than max_depth " + std::to_string(limits_.max_depth));
    }
}

void Reader::fail(const std::string& why) const {
    throw CodecError("corio::process codec: " + why + " (at byte " + std::to_string(pos_) + " of " +
                     std::to_string(in_.size()) + ")");
}

void Reader::truncated(std::size_t n, const char* what) const {
    fail("truncated input: a " + std::string(what) + " needs " + std::to_string(n) + " bytes, " +
         std::to_string(remaining()) + " left");
}

}  // namespace corio::process
