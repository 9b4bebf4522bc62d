// A consumer that survives a broken connection, as aio-pika's
// connect_robust does:
//
//   connection = await aio_pika.connect_robust(url)
//   connection.reconnect_callbacks.add(on_reconnect)
//   channel = await connection.channel()
//   await channel.set_qos(prefetch_count=10)
//   exchange = await channel.declare_exchange("robust_jobs", "direct")
//   queue = await channel.declare_queue(exclusive=True)      # server-named
//   await queue.bind(exchange, routing_key="job")
//   async with queue.iterator() as messages:
//       async for message in messages:
//           async with message.process():
//               print(message.body)
//
// With ConnectionOptions::reconnect set, a lost connection is opened again
// (backoff with jitter) and what was declared through it comes back: the
// exchange, the exclusive server-named queue (under a new name, which the
// library substitutes), its binding, qos, and the consumer, so the same
// generator keeps yielding. To break the connection without stopping the
// server, the consumer connects through a small TCP relay in this program,
// which then cuts every connection through it. A publisher on its own plain
// connection sends three jobs before the cut and three after.
// Needs a RabbitMQ server: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/).
#include <corio/amqp.hpp>
#include <corio/corio.hpp>
#include <corio/net/streams.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace amqp = corio::amqp;
namespace net = corio::net;
using namespace std::chrono_literals;

// Copies one direction of a relayed connection until it ends.
corio::Task<void> pump(net::StreamReader from, net::StreamWriter to) {
    try {
        for (;;) {
            std::string data = co_await from.read(65536);
            if (data.empty()) {
                break;
            }
            to.write(data);
            co_await to.drain();
        }
    } catch (const std::exception&) {
        // the other side was cut
    }
    to.close();
}

// One client of the relay: a connection to the server, bytes copied both ways.
corio::Task<void> relay(std::string host, std::uint16_t port, net::StreamReader client_r,
                        net::StreamWriter client_w) {
    try {
        auto [server_r, server_w] = co_await net::open_connection(host, port);
        auto up = corio::create_task(pump(std::move(client_r), server_w));
        co_await pump(std::move(server_r), client_w);
        co_await up;
    } catch (const std::exception&) {
        client_w.close();
    }
}

corio::Task<void> publish_jobs(amqp::Channel& ch, int first, int last) {
    for (int i = first; i <= last; ++i) {
        co_await ch.basic_publish("job " + std::to_string(i), "robust_jobs", "job");
    }
}

corio::Task<void> take(amqp::Channel& ch, corio::AsyncGenerator<amqp::Message>& messages, int n) {
    for (int i = 0; i < n; ++i) {
        auto m = co_await messages.next();
        if (!m) {
            break;
        }
        std::printf(" [x] got '%s'\n", m->body.c_str());
        ch.basic_ack(m->delivery_tag);
    }
}

corio::Task<int> amain() {
    const char* env = std::getenv("AMQP_URL");
    const amqp::ConnectionOptions target =
        amqp::parse_url(env ? env : "amqp://guest:guest@127.0.0.1:5672/");
    try {
        auto pconn = co_await amqp::Connection::connect(target);  // the publisher, direct
        auto pch = co_await pconn.channel();
        co_await pch.confirm_select();

        // A named handler: GCC 12 destroys a lambda temporary that owns a
        // string twice when it is made inside a co_await expression.
        net::ClientConnected handler = [host = target.host, port = target.port](
                                           net::StreamReader r, net::StreamWriter w) {
            return relay(host, port, std::move(r), std::move(w));
        };
        auto relay_server = co_await net::start_server(handler, "127.0.0.1", 0);
        amqp::ConnectionOptions o = target;
        o.host = "127.0.0.1";
        o.port = relay_server.sockets().at(0).port();
        corio::Event reconnected;
        amqp::ReconnectOptions robust;
        robust.initial_delay = 50ms;
        robust.max_delay = 2s;
        robust.on_disconnect = [](std::exception_ptr) {
            std::printf("connection lost: reconnecting\n");
        };
        robust.on_reconnect = [&reconnected](std::uint64_t n) {
            std::printf(
                "reconnected (recovery %llu): exchange, queue, binding, qos, consumer back\n",
                static_cast<unsigned long long>(n));
            reconnected.set();
        };
        o.reconnect = robust;
        auto conn = co_await amqp::Connection::connect(o);
        auto ch = co_await conn.channel();
        co_await ch.basic_qos(10);
        co_await ch.exchange_declare("robust_jobs", "direct");
        amqp::QueueOptions exclusive;
        exclusive.exclusive = true;
        const std::string queue = (co_await ch.queue_declare("", exclusive)).queue;
        co_await ch.queue_bind(queue, "robust_jobs", "job");
        auto messages = ch.basic_consume(queue);

        co_await publish_jobs(pch, 1, 3);
        co_await take(ch, messages, 3);
        std::printf("the relay cuts the connection\n");
        relay_server.abort_clients();
        co_await reconnected.wait();
        co_await publish_jobs(pch, 4, 6);
        co_await take(ch, messages, 3);
        std::printf("same channel, same generator; recoveries: %llu\n",
                    static_cast<unsigned long long>(conn.reconnects()));

        co_await messages.aclose();
        co_await ch.exchange_delete("robust_jobs");
        co_await conn.close();
        co_await pconn.close();
        relay_server.close();
        co_await relay_server.wait_closed();
    } catch (const amqp::ConnectionError& e) {
        std::fprintf(
            stderr,
            "no RabbitMQ server: %s\n"
            "start one (rabbitmq-server) or set AMQP_URL=amqp://USER:PASSWORD@HOST:PORT/\n",
            e.what());
        co_return 1;
    }
    co_return 0;
}

int main() {
    return corio::run(amain());
}
