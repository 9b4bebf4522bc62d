// corio::corio (every layer) from an installed corio: the headers' version
// is the package's, and each layer links.
#include <corio/corio.hpp>
#include <corio/http.hpp>
#include <corio/net.hpp>
#include <corio/redis.hpp>
#include <corio/version.hpp>
#include <cstdio>
#include <cstring>
#include <string>

int main() {
    std::string wire;
    corio::redis::encode_command(wire, "PING");
    const bool linked = corio::net::SslContext::client() != nullptr &&
                        corio::http::reason_phrase(200) == "OK" && !wire.empty();
    std::printf("corio %s (%d)\n", corio::version_string, CORIO_VERSION);
    return linked && std::strcmp(CORIO_VERSION_STRING, CORIO_EXPECTED_VERSION) == 0 ? 0 : 1;
}
