// tests/amqp/rabbit.hpp - the one RabbitMQ server of the amqp_client_test
// binary (started on first use, stopped by client_test.cpp's environment).
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
