// tests/support/tls_pki.hpp - a CA, a server context with a certificate for
// "localhost" and 127.0.0.1, and a client context that trusts the CA: the
// starting point of every TLS test.
#pragma once

#include <memory>
#include <string>

#include "corio/net/tls.hpp"
#include "support/certs.hpp"

namespace corio_test {

struct TestPki {
    TestCa ca;
    std::string certfile;
    std::string keyfile;
    std::shared_ptr<corio::net::SslContext> server = corio::net::SslContext::server();
    std::shared_ptr<corio::net::SslContext> client = corio::net::SslContext::client();

    TestPki() {
        auto [cert, key] = ca.issue("localhost", {"localhost", "127.0.0.1"});
        certfile = cert;
        keyfile = key;
        server->load_cert_chain(cert, key);
        client->load_verify_data(ca.ca_pem());
    }
};

}  // namespace corio_test
