// fuzz/tls_engine_fuzz.cpp - libFuzzer target for the sans-I/O TLS engine:
// arbitrary bytes as what the network delivers to a server engine, or to a
// client engine that has sent its ClientHello. The engine must never crash
// or leak (ASan), must stay within bounded memory, must report every
// failure with a reason, and a dead engine must stay dead.
//
// Input: byte 0 - bit 0 picks the side (0: server, 1: client), bits 1-7 the
// piece size the bytes arrive in (0: all at once); then the bytes. After
// them comes the network's EOF, then a shutdown if the handshake finished.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "corio/net/tls.hpp"
#include "net/tls_engine.hpp"
#include "support/certs.hpp"

namespace {

using Engine = corio::net::detail::TlsEngine;
using Status = Engine::Status;

// Far above any honest flight (a handshake reply with a certificate is ~2
// KiB) and below what an unbounded buffer would reach.
constexpr std::size_t kMaxOutputPerStep = 256 * 1024;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "tls_engine_fuzz: %s\n", what);
    std::abort();
}

struct Contexts {
    corio_test::TestCa ca;
    std::shared_ptr<corio::net::SslContext> server = corio::net::SslContext::server();
    std::shared_ptr<corio::net::SslContext> client = corio::net::SslContext::client();

    Contexts() {
        auto [cert, key] = ca.issue("localhost", {"localhost"});
        server->load_cert_chain(cert, key);
        server->set_alpn_protocols({"h2", "http/1.1"});
        client->set_alpn_protocols({"h2", "http/1.1"});
        // Verification could only fail here; without it the client parses
        // further into what the fuzzer sends.
        client->set_verify_mode(corio::net::VerifyMode::none);
        client->set_check_hostname(false);
    }
};

Contexts& contexts() {
    static Contexts c;
    return c;
}

// Takes the engine's output (it would go to the network) and checks it.
void drain(Engine& e) {
    if (e.output().size() > kMaxOutputPerStep) {
        fail("output grew past its bound");
    }
    e.consume_output(e.output().size());
}

// One step, as a transport would take it after input arrived.
void step(Engine& e, std::size_t fed_total) {
    bool was_failed = e.failed();
    if (!e.handshake_done()) {
        Status st = e.handshake();
        drain(e);
        if (st != Status::ok) {
            if ((st == Status::failed) != e.failed()) {
                fail("handshake status and failed() disagree");
            }
            if (was_failed && st != Status::failed) {
                fail("a dead engine came back");
            }
            return;
        }
    }
    char buf[16384];
    std::size_t plaintext = 0;
    for (;;) {
        Engine::Result r = e.read(buf, sizeof buf);
        drain(e);
        if (r.status != Status::ok) {
            if (r.status == Status::failed && e.error().empty()) {
                fail("failed without a reason");
            }
            break;
        }
        if (r.n == 0 || r.n > sizeof buf) {
            fail("read reported an impossible size");
        }
        plaintext += r.n;
        if (plaintext > fed_total) {
            fail("more plaintext than ciphertext");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const bool client = (data[0] & 1) != 0;
    const std::size_t piece = data[0] >> 1;
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    Contexts& c = contexts();
    Engine e(client ? c.client : c.server, client ? "localhost" : "");
    if (client) {
        step(e, 0);  // the ClientHello goes out
    }
    std::size_t fed = 0;
    while (fed < input.size()) {
        std::size_t n = piece == 0 ? input.size() - fed : piece;
        std::string_view chunk = input.substr(fed, n);
        e.feed(chunk);
        fed += chunk.size();
        if (e.input_pending() > fed) {
            fail("the engine holds more input than it was given");
        }
        step(e, fed);
    }
    e.feed_eof();
    step(e, fed);
    if (e.handshake_done() && !e.failed()) {
        e.shutdown();
        drain(e);
    }
    if (e.failed() && e.error().empty()) {
        fail("failed without a reason");
    }
    return 0;
}
