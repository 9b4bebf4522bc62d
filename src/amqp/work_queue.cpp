// src/amqp/work_queue.cpp - the WorkQueue backend on RabbitMQ (see
// corio/amqp/work_queue.hpp). The one file of the AMQP layer that includes
// the Redis layer (for the WorkQueue interface it implements).
#include "corio/amqp/work_queue.hpp"

#include <atomic>
#include <map>
#include <random>

#include "corio/amqp/connection.hpp"
#include "corio/queues.hpp"
#include "corio/redis/work_queue.hpp"
#include "corio/timeouts.hpp"

namespace corio::amqp {

namespace {

using redis::WorkItem;
using redis::detail::WorkQueueConfig;

class AmqpBackend final : public redis::detail::WorkQueueBackend {
public:
    AmqpBackend(std::string name, WorkQueueConfig config, std::uint16_t prefetch)
        : WorkQueueBackend(std::move(name), std::move(config)), prefetch_(prefetch) {}
    ~AmqpBackend() override { close(); }

    Task<void> open(std::string url) {
        conn_ = co_await Connection::connect(url);
        ch_ = co_await conn_.channel();
        dead_ = options_.dead_letter.empty() ? name_ + ".dead" : options_.dead_letter;
        QueueOptions dq;
        dq.durable = true;
        co_await ch_.queue_declare(dead_, dq);
        QueueOptions q;
        q.durable = true;
        q.arguments.set("x-queue-type", FieldValue("quorum"));
        q.arguments.set("x-delivery-limit",
                        FieldValue(static_cast<std::int64_t>(options_.max_deliveries - 1)));
        q.arguments.set("x-dead-letter-exchange", FieldValue(""));
        q.arguments.set("x-dead-letter-routing-key", FieldValue(dead_));
        co_await ch_.queue_declare(name_, q);
        co_await ch_.confirm_select();
        co_await ch_.basic_qos(prefetch_);
        std::random_device rd;
        prefix_ = std::to_string(rd()) + "-" + std::to_string(rd()) + "-";
    }

    Task<std::string> put(std::string body) override {
        Properties p;
        p.delivery_mode = 2;
        std::string id = prefix_ + std::to_string(++ids_);
        p.message_id = id;
        co_await ch_.basic_publish(body, "", name_, p);
        co_return id;
    }

    Task<std::optional<WorkItem>> get(std::optional<Duration> timeout) override {
        if (closed_) {
            co_return std::nullopt;
        }
        start_consumer();
        try {
            auto item = co_await wait_for(items_.get(), timeout);
            co_return item;
        } catch (const TimeoutError&) {
            co_return std::nullopt;
        } catch (const QueueShutDown&) {
            co_return std::nullopt;
        }
    }

    Task<void> ack(const WorkItem& item) override {
        ch_.basic_ack(tag_of(item));
        co_return;
    }

    Task<void> nack(const WorkItem& item) override {
        ch_.basic_nack(tag_of(item), false, /*requeue=*/true);
        co_return;
    }

    Task<std::int64_t> size() override {
        QueueOptions passive;
        passive.passive = true;
        auto ok = co_await ch_.queue_declare(name_, passive);
        co_return static_cast<std::int64_t>(ok.message_count + tags_.size());
    }

    Task<std::vector<WorkItem>> dead_letters() override {
        // Read on a channel of its own, then requeued (nothing is taken).
        auto ch = co_await conn_.channel();
        std::vector<WorkItem> out;
        std::uint64_t last = 0;
        while (auto m = co_await ch.basic_get(dead_)) {
            out.push_back(item_of(*m));
            last = m->delivery_tag;
        }
        if (last != 0) {
            ch.basic_nack(last, /*multiple=*/true, /*requeue=*/true);
        }
        co_await ch.close();
        co_return out;
    }

    void close() override {
        if (closed_) {
            return;
        }
        closed_ = true;
        items_.shutdown();
        if (consumer_) {
            consumer_->cancel();
        }
    }

private:
    static WorkItem item_of(const Message& m) {
        WorkItem item;
        item.id = m.properties.message_id.value_or(std::to_string(m.delivery_tag));
        item.body = m.body;
        item.deliveries = 1;
        if (m.properties.headers) {
            if (const FieldValue* n = m.properties.headers->find("x-delivery-count")) {
                item.deliveries = n->as_integer() + 1;
            }
        }
        return item;
    }

    std::uint64_t tag_of(const WorkItem& item) {
        auto it = tags_.find(item.id);
        if (it == tags_.end()) {
            throw std::invalid_argument("WorkQueue: item " + item.id +
                                        " is not pending on this consumer");
        }
        std::uint64_t tag = it->second;
        tags_.erase(it);
        return tag;
    }

    void start_consumer() {
        if (consumer_) {
            return;
        }
        consumer_ = create_task(consume(this, ch_));
    }

    static Task<void> consume(AmqpBackend* self, Channel ch) {
        auto messages = ch.basic_consume(self->name_);
        while (auto m = co_await messages.next()) {
            WorkItem item = item_of(*m);
            self->tags_[item.id] = m->delivery_tag;
            self->items_.put_nowait(std::move(item));
        }
    }

    std::uint16_t prefetch_;
    Connection conn_;
    Channel ch_;
    std::string dead_;
    std::string prefix_;
    std::uint64_t ids_ = 0;
    bool closed_ = false;
    Queue<WorkItem> items_;
    std::map<std::string, std::uint64_t> tags_;
    std::optional<TaskHandle<void>> consumer_;
};

}  // namespace

void enable_work_queue(std::uint16_t prefetch) {
    auto factory = [prefetch](std::string url, std::string name, WorkQueueConfig config)
        -> Task<std::unique_ptr<redis::detail::WorkQueueBackend>> {
        auto backend = std::make_unique<AmqpBackend>(std::move(name), std::move(config), prefetch);
        co_await backend->open(std::move(url));
        co_return backend;
    };
    redis::register_work_queue_backend("amqp", factory);
    redis::register_work_queue_backend("amqps", factory);
}

}  // namespace corio::amqp
