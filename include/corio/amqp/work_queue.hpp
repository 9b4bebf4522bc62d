// corio/amqp/work_queue.hpp - RabbitMQ as a backend of corio::redis's
// WorkQueue (the producer/consumer queue with one interface and several
// backends, chosen by URL).
//
//   corio::amqp::enable_work_queue();                     // once, at start-up
//   auto q = co_await corio::redis::WorkQueue::open("amqp://u:p@host/", "jobs");
//
// The queue `name` is a durable quorum queue; put() publishes a persistent
// message with publisher confirms (it returns once RabbitMQ has it on disk);
// get() takes deliveries of a consumer with manual acks and prefetch
// (fairness: a busy consumer is not sent more than `prefetch` unacked
// items). An item delivered to a consumer whose connection dies (its
// heartbeats stop, or its process ends) goes back to the queue at once and
// is delivered again, with deliveries counted by the quorum queue's
// x-delivery-count; after options.max_deliveries deliveries without an ack
// it is dead-lettered to the durable queue options.dead_letter (default
// `<name>.dead`) through the default exchange. options.visibility_timeout
// is not a timer here: RabbitMQ redelivers when the consumer's connection
// or channel goes (and after its consumer_timeout, 30 min by default).
// options.group and options.consumer are not used: every consumer of a
// queue shares its work.
#pragma once

#include <cstdint>

namespace corio::amqp {

/// Registers the "amqp" and "amqps" schemes with corio::redis::WorkQueue
/// (corio::redis::register_work_queue_backend). Idempotent; call it before
/// opening a queue. Never suspends.
void enable_work_queue(std::uint16_t prefetch = 10);

}  // namespace corio::amqp
