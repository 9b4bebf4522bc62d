// corio/amqp.hpp - corio::amqp, an AMQP 0-9-1 client for RabbitMQ
// (aioamqp's model): the frame codec and the connection with its channels.
#pragma once

#include "corio/amqp/connection.hpp"
#include "corio/amqp/errors.hpp"
#include "corio/amqp/frame.hpp"
