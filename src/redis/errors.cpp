// src/redis/errors.cpp - ReplyError: the server's message and its prefix.
#include "corio/redis/errors.hpp"

namespace corio::redis {

ReplyError::ReplyError(std::string message)
    : RedisError(message.empty() ? "(empty error reply)" : message), message_(std::move(message)) {}

std::string_view ReplyError::prefix() const noexcept {
    std::string_view m = message_;
    std::size_t n = 0;
    while (n < m.size() && ((m[n] >= 'A' && m[n] <= 'Z') || (m[n] >= '0' && m[n] <= '9') ||
                            m[n] == '_' || m[n] == '-')) {
        ++n;
    }
    if (n == 0 || m[0] < 'A' || m[0] > 'Z' || (n < m.size() && m[n] != ' ')) {
        return {};  // not a capitalised first word ("Error: ...", "ERR:x", "42 ...")
    }
    return m.substr(0, n);
}

}  // namespace corio::redis
