// corio::redis from an installed corio: a command encoded, then decoded.
#include <corio/redis.hpp>
#include <cstdio>
#include <string>

int main() {
    std::string wire;
    corio::redis::encode_command(wire, "SET", "key", 42);
    corio::redis::Decoder decoder;
    corio::redis::DecodeResult r = decoder.feed(wire);
    if (!r.complete() || r.consumed != wire.size()) {
        return 1;
    }
    const auto words = r.reply.to_string_vector();
    std::printf("redis: %zu bytes, %s %s %s\n", wire.size(), words.at(0).c_str(),
                words.at(1).c_str(), words.at(2).c_str());
    return words.size() == 3 && words[2] == "42" ? 0 : 1;
}
