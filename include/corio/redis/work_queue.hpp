// corio/redis/work_queue.hpp - a reliable work queue with one interface and
// two backends: in-process, or Redis Streams with a consumer group, chosen
// by a URL. WorkQueue, WorkItem, WorkQueueOptions.
//
// The tutorials' producer/consumer runs on an asyncio.Queue in one process,
// or on a Redis list (lpush / rpop) across machines. A list loses the item a
// consumer popped and then died with; this queue does not: delivery is
// at-least-once. A consumer get()s an item, processes it, and ack()s it. An
// item not acked within the visibility timeout (its consumer died, stalled,
// or was shut down) is delivered again, to any consumer; an item delivered
// max_deliveries times without an ack moves to the dead-letter queue. Work
// must therefore be idempotent (or deduplicated by WorkItem::id).
//
// Backends, by URL:
// - "memory://" (or empty): in this process, no server (the embedded
//   default: a program written for the queue runs alone, unchanged).
// - "redis://..." / "unix://...": a Redis stream `name` with the consumer
//   group options.group: XADD, XREADGROUP, XACK; redelivery by XPENDING +
//   XCLAIM (which counts deliveries); dead letters XADDed to the stream
//   options.dead_letter (default `<name>:dead`).
// - any other scheme a library registered (register_work_queue_backend):
//   "amqp://" / "amqps://" once corio::amqp::enable_work_queue() ran.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "corio/event_loop.hpp"
#include "corio/task.hpp"

namespace corio::redis {

/// One delivery of an item.
struct WorkItem {
    std::string id;  // unique per item, the same on every delivery
    std::string body;
    /// 1 on the first delivery, then one more per redelivery.
    std::int64_t deliveries = 1;
};

/// Options of WorkQueue::open: `open(url, "jobs", {.visibility_timeout =
/// 5s})`. Every member is trivially destructible on purpose (see
/// net::ConnectOptions: GCC 12 destroys an aggregate temporary inside a
/// co_await expression twice); open() copies the strings before it suspends.
struct WorkQueueOptions {
    /// Consumer group (Redis) - every consumer of one group shares the work.
    std::string_view group = "workers";
    /// This consumer's name in the group (default: host, pid and a random
    /// suffix). A consumer that restarts under its old name gets its own
    /// pending items back first.
    std::string_view consumer;
    /// An item not acked this long after its delivery is delivered again.
    Duration visibility_timeout = std::chrono::seconds(30);
    /// Deliveries after which an item goes to the dead-letter queue.
    std::int64_t max_deliveries = 5;
    /// The dead-letter stream (Redis; default `<name>:dead`).
    std::string_view dead_letter;
};

namespace detail {
class WorkQueueBackend;
/// WorkQueueOptions with its strings owned (internal).
struct WorkQueueConfig {
    std::string group;
    std::string consumer;
    Duration visibility_timeout;
    std::int64_t max_deliveries;
    std::string dead_letter;
    explicit WorkQueueConfig(const WorkQueueOptions& o)
        : group(o.group),
          consumer(o.consumer),
          visibility_timeout(o.visibility_timeout),
          max_deliveries(o.max_deliveries),
          dead_letter(o.dead_letter) {}
};
/// The interface of a backend (what WorkQueue forwards to; another library
/// implements it to add a backend: see register_work_queue_backend).
class WorkQueueBackend {
public:
    explicit WorkQueueBackend(std::string name, WorkQueueConfig options)
        : name_(std::move(name)), options_(std::move(options)) {}
    virtual ~WorkQueueBackend() = default;
    virtual Task<std::string> put(std::string body) = 0;
    virtual Task<std::optional<WorkItem>> get(std::optional<Duration> timeout) = 0;
    virtual Task<void> ack(const WorkItem& item) = 0;
    virtual Task<void> nack(const WorkItem& item) = 0;
    virtual Task<std::int64_t> size() = 0;
    virtual Task<std::vector<WorkItem>> dead_letters() = 0;
    virtual void close() = 0;
    const std::string& name() const noexcept { return name_; }

protected:
    std::string name_;
    WorkQueueConfig options_;
};

}  // namespace detail

/// Makes the backend of a URL scheme: (url, queue name, options) -> backend,
/// connected and ready (it may suspend; it throws what open() throws).
using WorkQueueBackendFactory = std::function<Task<std::unique_ptr<detail::WorkQueueBackend>>(
    std::string url, std::string name, detail::WorkQueueConfig config)>;

/// Registers the backend of URLs `scheme://...` ("amqp"), replacing any
/// before it: how a library the Redis layer does not depend on adds a
/// backend (corio::amqp::enable_work_queue() registers "amqp" and "amqps").
/// Call it before open() (not thread-safe against a concurrent open()).
void register_work_queue_backend(std::string scheme, WorkQueueBackendFactory factory);

/// A reliable work queue (see the file comment). Loop thread only. Several
/// tasks may get() from one WorkQueue at once; on Redis each waiting get()
/// holds a connection of the queue's own while it blocks.
class WorkQueue {
public:
    /// Opens queue `name` on the backend `url` names ("memory://", "",
    /// "redis://...", "unix://..."); on Redis, creates the stream and the
    /// group if needed. Suspends for the connection; throws
    /// std::invalid_argument for another scheme, ConnectionError / ReplyError
    /// from Redis. Every "memory://" queue of one name in one loop thread is
    /// the same queue.
    static Task<WorkQueue> open(std::string_view url, std::string name,
                                WorkQueueOptions options = {}) {
        return open_queue(std::string(url), std::move(name), detail::WorkQueueConfig(options));
    }

    WorkQueue(WorkQueue&&) noexcept;
    WorkQueue& operator=(WorkQueue&&) noexcept;
    ~WorkQueue();

    /// Adds an item; returns its id. Suspends for the round trip on Redis
    /// (an acknowledged put is stored by the server). Throws what the
    /// client throws. Cancelling it may still have added the item.
    Task<std::string> put(std::string body);
    /// The next item: first one whose visibility timeout expired (moved to
    /// the dead-letter queue instead once it reached max_deliveries), else
    /// a new one. Suspends until one is there, at most `timeout` (null: no
    /// limit); returns nullopt on timeout or after close(). Cancelling it
    /// takes nothing (on Redis, an item delivered as it was cancelled stays
    /// pending and comes back after the visibility timeout).
    Task<std::optional<WorkItem>> get(std::optional<Duration> timeout = std::nullopt);
    /// Marks the item done: it will not be delivered again. Acking an item
    /// that was redelivered elsewhere meanwhile acks it for good (at least
    /// once: both may have processed it).
    Task<void> ack(const WorkItem& item);
    /// Gives the item back for redelivery now (as if its visibility timeout
    /// had expired; this delivery counts).
    Task<void> nack(const WorkItem& item);
    /// Items added and not yet acked (delivered or not).
    Task<std::int64_t> size();
    /// Items in the dead-letter queue, oldest first.
    Task<std::vector<WorkItem>> dead_letters();
    /// Graceful shutdown: get() returns nullopt from now on (waiting ones
    /// too); items delivered to this consumer and not acked stay pending:
    /// ack them or nack them (nack returns them at once); if the process
    /// ends first they come back after the visibility timeout.
    void close();

    const std::string& name() const noexcept;

private:
    static Task<WorkQueue> open_queue(std::string url, std::string name,
                                      detail::WorkQueueConfig config);
    explicit WorkQueue(std::unique_ptr<detail::WorkQueueBackend> backend) noexcept;
    std::unique_ptr<detail::WorkQueueBackend> backend_;
};

}  // namespace corio::redis
