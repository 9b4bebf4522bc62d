// tests/amqp/rabbit.hpp - the one RabbitMQ server of a test binary (started
// on first use, stopped by the binary's test environment).
#pragma once

#include "support/server_fixture.hpp"

namespace corio_amqp_test {

inline corio_test::RabbitMqServer*& server_slot() {
    static corio_test::RabbitMqServer* s = nullptr;
    return s;
}

inline corio_test::RabbitMqServer& rabbit() {
    auto*& s = server_slot();
    if (!s)
        s = new corio_test::RabbitMqServer();
    return *s;
}

}  // namespace corio_amqp_test
