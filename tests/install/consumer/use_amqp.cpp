// corio::amqp from an installed corio: a method frame encoded, then decoded.
#include <corio/amqp.hpp>
#include <cstdio>
#include <string>

int main() {
    namespace amqp = corio::amqp;
    std::string wire;
    amqp::encode_method(wire, 1, amqp::Method{amqp::methods::queue_declare_ok, {"jobs", 3u, 1u}});
    amqp::DecodeResult r = amqp::FrameDecoder{}.feed(wire);
    if (r.status != amqp::DecodeStatus::complete || r.consumed != wire.size()) {
        return 1;
    }
    std::printf("amqp: %zu bytes, %s\n", wire.size(), r.frame.method.repr().c_str());
    return r.frame.method.string(0) == "jobs" ? 0 : 1;
}
