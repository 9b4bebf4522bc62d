// Mirrors RabbitMQ's topic tutorial as aioamqp's examples write it (aioamqp
// examples/emit_log_topic.py and receive_log_topic.py): an emitter
// publishes log lines to the topic exchange "topic_logs" with routing keys
// "<facility>.<severity>"; each receiver binds its own exclusive,
// server-named queue with the patterns it wants ("*" one word, "#" any),
// and gets exactly the lines that match.
//
//   # emit_log_topic.py                          # receive_log_topic.py
//   await channel.exchange_declare(              await channel.exchange_declare(
//       exchange_name='topic_logs',                  exchange_name='topic_logs',
//       type_name='topic')                           type_name='topic')
//   await channel.basic_publish(                 result = await channel.queue_declare(
//       message, exchange_name='topic_logs',         queue_name='', exclusive=True)
//       routing_key=routing_key)                 for binding_key in binding_keys:
//                                                    await channel.queue_bind(
//                                                        exchange_name='topic_logs',
//                                                        queue_name=result['queue'],
//                                                        routing_key=binding_key)
//                                                await channel.basic_consume(
//                                                    callback, queue_name=result['queue'],
//                                                    no_ack=True)
//
// Here three receivers and the emitter run in one program, each receiver on
// its own channel of one connection. The tutorial's receivers run until
// Ctrl-C; these also bind "eof", and the emitter says "eof" when done. Each
// receiver prints what it got once the emitter is done, so the output does
// not depend on how the deliveries interleave. Needs a RabbitMQ server:
// AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/).
#include <corio/amqp.hpp>
#include <corio/corio.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace amqp = corio::amqp;

struct Receiver {
    std::string name;
    std::vector<std::string> binding_keys;
    std::vector<std::string> got;
};

// Binds the receiver's queue (before the emitter starts), then returns the
// task that consumes it until "eof".
corio::Task<corio::TaskHandle<void>> receive_logs(amqp::Connection& conn, Receiver& r) {
    auto ch = co_await conn.channel();
    co_await ch.exchange_declare("topic_logs", "topic");
    amqp::QueueOptions exclusive;
    exclusive.exclusive = true;
    std::string queue = (co_await ch.queue_declare("", exclusive)).queue;
    for (const std::string& key : r.binding_keys) {
        co_await ch.queue_bind(queue, "topic_logs", key);
    }
    co_await ch.queue_bind(queue, "topic_logs", "eof");
    co_return corio::create_task(
        [](amqp::Channel ch, std::string queue, Receiver& r) -> corio::Task<void> {
            amqp::ConsumeOptions options;
            options.no_ack = true;
            auto messages = ch.basic_consume(queue, options);
            while (auto m = co_await messages.next()) {
                if (m->routing_key == "eof") {
                    break;
                }
                r.got.push_back(m->routing_key + ":'" + m->body + "'");
            }
            co_await messages.aclose();  // cancels the consumer
            co_await ch.close();
        }(ch, queue, r));
}

corio::Task<void> emit_logs(amqp::Connection& conn) {
    auto ch = co_await conn.channel();
    co_await ch.exchange_declare("topic_logs", "topic");
    co_await ch.confirm_select();  // each publish resolves when the server has routed it
    const char* lines[][2] = {{"kern.critical", "A critical kernel error"},
                              {"kern.info", "Kernel started"},
                              {"app.critical", "Disk full"},
                              {"app.info", "User logged in"},
                              {"auth.warning", "Bad password"}};
    for (auto& [routing_key, message] : lines) {
        co_await ch.basic_publish(message, "topic_logs", routing_key);
        std::printf(" [x] Sent %s:'%s'\n", routing_key, message);
    }
    co_await ch.basic_publish("", "topic_logs", "eof");
    co_await ch.close();
}

corio::Task<int> amain() {
    const char* env = std::getenv("AMQP_URL");
    std::string url = env ? env : "amqp://guest:guest@127.0.0.1:5672/";
    std::vector<Receiver> receivers{
        {"kern.*", {"kern.*"}, {}}, {"*.critical", {"*.critical"}, {}}, {"#", {"#"}, {}}};
    try {
        auto conn = co_await amqp::Connection::connect(url);
        std::vector<corio::TaskHandle<void>> tasks;
        for (Receiver& r : receivers) {
            tasks.push_back(co_await receive_logs(conn, r));
        }
        co_await emit_logs(conn);
        co_await corio::gather(tasks);
        for (const Receiver& r : receivers) {
            std::printf("receiver bound to %s got %zu:\n", r.name.c_str(), r.got.size());
            for (const std::string& line : r.got) {
                std::printf("   [x] %s\n", line.c_str());
            }
        }
        co_await conn.close();
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
