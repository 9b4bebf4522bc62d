// Mirrors RabbitMQ's RPC tutorial as aioamqp's examples write it (aioamqp
// examples/rpc_server.py and rpc_client.py): a server consumes requests
// from "rpc_queue", computes fib(n) and publishes the answer to the
// request's reply_to queue with the request's correlation_id; the client
// declares an exclusive reply queue, sends its requests and matches each
// answer to its request by correlation_id.
//
//   # server                                     # client
//   async def on_request(channel, body, envelope, properties):
//       n = int(body)                            result = await channel.queue_declare(
//       response = fib(n)                            queue_name='', exclusive=True)
//       await channel.basic_publish(             callback_queue = result['queue']
//           payload=str(response),               await channel.basic_consume(
//           exchange_name='',                        on_response, no_ack=True,
//           routing_key=properties.reply_to,         queue_name=callback_queue)
//           properties={'correlation_id':        corr_id = str(uuid.uuid4())
//               properties.correlation_id})      await channel.basic_publish(
//       await channel.basic_client_ack(              payload=str(30), exchange_name='',
//           delivery_tag=envelope.delivery_tag)      routing_key='rpc_queue',
//   await channel.queue_declare('rpc_queue')         properties={'reply_to': callback_queue,
//   await channel.basic_qos(prefetch_count=1)            'correlation_id': corr_id})
//   await channel.basic_consume(on_request,      await waiter.wait()  # on_response sets it
//                               queue_name='rpc_queue')
//
// Here both run in one program, on two connections; the client sends three
// requests at once (gather) and each awaits its own answer. Needs a RabbitMQ
// server: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672/).
#include <corio/amqp.hpp>
#include <corio/corio.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

namespace amqp = corio::amqp;

std::uint64_t fib(int n) {
    return n < 2 ? static_cast<std::uint64_t>(n) : fib(n - 1) + fib(n - 2);
}

// The server: one request at a time (prefetch 1), until its consumer is cancelled.
corio::Task<void> rpc_server(amqp::Channel ch) {
    amqp::ConsumeOptions options;  // named: see ConnectionOptions on GCC 12
    options.consumer_tag = "rpc-server";
    auto requests = ch.basic_consume("rpc_queue", options);
    while (auto request = co_await requests.next()) {
        int n = std::stoi(request->body);
        std::printf("server:  [.] fib(%d)\n", n);
        amqp::Properties reply;
        reply.correlation_id = request->properties.correlation_id;
        co_await ch.basic_publish(std::to_string(fib(n)), "", *request->properties.reply_to, reply);
        ch.basic_ack(request->delivery_tag);
    }
}

// The client: answers arrive on one reply queue; each waits on its own future.
class FibonacciRpcClient {
public:
    static corio::Task<FibonacciRpcClient> connect(amqp::Connection& conn) {
        FibonacciRpcClient c;
        c.ch_ = co_await conn.channel();
        amqp::QueueOptions exclusive;
        exclusive.exclusive = true;
        c.callback_queue_ = (co_await c.ch_.queue_declare("", exclusive)).queue;
        co_return c;
    }
    // Reads the answers and resolves the matching calls' futures.
    corio::Task<void> on_response() {
        amqp::ConsumeOptions options;
        options.no_ack = true;
        auto answers = ch_.basic_consume(callback_queue_, options);
        while (auto answer = co_await answers.next()) {
            auto it = waiting_.find(answer->properties.correlation_id.value_or(""));
            if (it != waiting_.end()) {
                it->second.set_result(std::move(answer->body));
                waiting_.erase(it);
            }
        }
    }
    corio::Task<std::string> call(int n) {
        std::string corr_id = "request-" + std::to_string(++sent_);
        corio::Future<std::string> answer;
        waiting_.emplace(corr_id, answer);
        amqp::Properties p;
        p.reply_to = callback_queue_;
        p.correlation_id = corr_id;
        std::printf("client:  [x] Requesting fib(%d) as %s\n", n, corr_id.c_str());
        co_await ch_.basic_publish(std::to_string(n), "", "rpc_queue", p);
        co_return co_await answer;
    }
    amqp::Channel& channel() { return ch_; }

private:
    amqp::Channel ch_;
    std::string callback_queue_;
    int sent_ = 0;
    std::map<std::string, corio::Future<std::string>> waiting_;  // by correlation_id
};

corio::Task<int> amain() {
    const char* env = std::getenv("AMQP_URL");
    std::string url = env ? env : "amqp://guest:guest@127.0.0.1:5672/";
    try {
        auto server_conn = co_await amqp::Connection::connect(url);
        auto server_ch = co_await server_conn.channel();
        amqp::QueueOptions q;
        q.auto_delete = true;
        co_await server_ch.queue_declare("rpc_queue", q);
        co_await server_ch.basic_qos(1);
        auto server = corio::create_task(rpc_server(server_ch));

        auto client_conn = co_await amqp::Connection::connect(url);
        auto client = co_await FibonacciRpcClient::connect(client_conn);
        auto reader = corio::create_task(client.on_response());
        auto [a, b, c] = co_await corio::gather(client.call(10), client.call(20), client.call(30));
        std::printf("client:  [.] Got fib(10) = %s, fib(20) = %s, fib(30) = %s\n", a.c_str(),
                    b.c_str(), c.c_str());

        co_await server_ch.basic_cancel("rpc-server");  // the server's loop ends
        co_await server;
        reader.cancel();
        try {
            co_await reader;
        } catch (const corio::CancelledError&) {
        }
        co_await client_conn.close();
        co_await server_conn.close();
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
