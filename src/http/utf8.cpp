// UTF-8 validation: a small state machine, with an 8-bytes-at-a-time skip
// over ASCII runs.
#include "utf8.hpp"

#include <cstring>

namespace corio::http::detail {

// The state switch is Unicode's table 3-7, one case per row; kept whole.
bool Utf8Validator::feed(const char* p, std::size_t n) noexcept {
    std::uint8_t s = state_;
    std::size_t i = 0;
    while (i < n) {
        if (s == kAccept) {
            // ASCII fast path.
            while (i + 8 <= n) {
                std::uint64_t w;
                std::memcpy(&w, p + i, 8);
                if ((w & 0x8080808080808080ULL) != 0) {
                    break;
                }
                i += 8;
            }
            if (i == n) {
                break;
            }
        }
        const auto c = static_cast<unsigned char>(p[i++]);
        switch (s) {
            case kAccept:
                if (c < 0x80) {
                    s = kAccept;
                } else if (c >= 0xC2 && c <= 0xDF) {
                    s = kTail1;
                } else if (c == 0xE0) {
                    s = kE0;
                } else if (c == 0xED) {
                    s = kED;
                } else if (c >= 0xE1 && c <= 0xEF) {
                    s = kTail2;
                } else if (c == 0xF0) {
                    s = kF0;
                } else if (c >= 0xF1 && c <= 0xF3) {
                    s = kTail3;
                } else if (c == 0xF4) {
                    s = kF4;
                } else {
                    s = kReject;  // 80..C1 (continuation, overlong lead), F5..FF
                }
                break;
            case kTail1:
            case kTail2:
            case kTail3:
                s = (c >= 0x80 && c <= 0xBF) ? static_cast<std::uint8_t>(s - 1)
                                             : static_cast<std::uint8_t>(kReject);
                break;
            case kE0:
                s = (c >= 0xA0 && c <= 0xBF) ? kTail1 : kReject;
                break;
            case kED:
                s = (c >= 0x80 && c <= 0x9F) ? kTail1 : kReject;
                break;
            case kF0:
                s = (c >= 0x90 && c <= 0xBF) ? kTail2 : kReject;
                break;
            case kF4:
                s = (c >= 0x80 && c <= 0x8F) ? kTail2 : kReject;
                break;
            default:
                break;
        }
        if (s == kReject) {
            break;
        }
    }
    state_ = s;
    return s != kReject;
}

bool is_valid_utf8(std::string_view s) noexcept {
    Utf8Validator v;
    return v.feed(s) && v.complete();
}

}  // namespace corio::http::detail
