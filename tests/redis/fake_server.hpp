// tests/redis/fake_server.hpp - a scripted RESP server on loopback for the
// faults a real redis-server does not produce on demand (old servers that
// refuse HELLO, garbage, truncated replies).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "corio/corio.hpp"
#include "corio/net/streams.hpp"
#include "corio/redis/resp.hpp"

namespace corio_test {

/// Answers each command (its arguments as strings) with the returned raw
/// bytes; an empty answer closes the connection (after what was written).
using FakeScript = std::function<std::string(const std::vector<std::string>&)>;

inline corio::Task<void> fake_session(FakeScript script, corio::net::StreamReader r,
                                      corio::net::StreamWriter w) {
    corio::redis::Decoder decoder;
    std::string buffer;
    for (;;) {
        std::string chunk = co_await r.read(4096);
        if (chunk.empty()) {
            break;
        }
        buffer += chunk;
        for (;;) {
            auto res = decoder.feed(buffer);
            if (!res.complete()) {
                break;
            }
            buffer.erase(0, res.consumed);
            std::string answer = script(std::move(res.reply).to_string_vector());
            if (answer.empty()) {
                w.close();
                co_return;
            }
            w.write(answer);
        }
    }
    w.close();
}

/// A server running `script` on an ephemeral loopback port.
inline corio::Task<std::pair<corio::net::Server, std::uint16_t>> fake_redis(FakeScript script) {
    corio::net::Server s = co_await corio::net::start_server(
        [script](corio::net::StreamReader r, corio::net::StreamWriter w) {
            return fake_session(script, std::move(r), std::move(w));
        },
        "127.0.0.1", 0);
    std::uint16_t port = s.sockets().at(0).port();
    co_return std::pair<corio::net::Server, std::uint16_t>(std::move(s), port);
}

inline corio::Task<void> stop_fake(corio::net::Server& s) {
    s.close();
    s.abort_clients();
    co_await s.wait_closed();
}

}  // namespace corio_test
