// src/redis/work_queue.cpp - WorkQueue's two backends.
//
// Both keep the same rules: an item is pending from its delivery until its
// ack; a pending item whose delivery is older than the visibility timeout
// is delivered again (deliveries + 1) before any new item, or, once it was
// delivered max_deliveries times, moved to the dead letters; get() never
// returns an item to two consumers at once within one visibility timeout.
#include "corio/redis/work_queue.hpp"

#include <unistd.h>

#include <deque>
#include <map>
#include <random>
#include <stdexcept>
#include <vector>

#include "corio/redis/client.hpp"
#include "corio/redis/commands.hpp"
#include "corio/redis/pool.hpp"
#include "corio/timeouts.hpp"
#include "numbers.hpp"

namespace corio::redis {
namespace detail {

namespace {

std::optional<TimePoint> deadline_of(std::optional<Duration> timeout) {
    if (!timeout) {
        return std::nullopt;
    }
    return get_running_loop().time() + *timeout;
}

// -- in-process -----------------------------------------------------------------

// One queue's contents, shared by every WorkQueue opened on it in this
// thread (a registry of weak references by name).
struct MemoryQueue {
    struct Pending {
        WorkItem item;
        TimePoint visible_again;
    };
    std::deque<WorkItem> ready;
    std::map<std::string, Pending> pending;  // by id
    std::vector<WorkItem> dead;
    std::uint64_t next_id = 0;
    std::vector<Future<void>> waiters;  // get()s waiting for a put or a nack

    void wake() {
        auto ws = std::move(waiters);
        waiters.clear();
        for (auto& w : ws) {
            if (!w.done()) {
                w.set_result();
            }
        }
    }
};

std::shared_ptr<MemoryQueue> memory_queue(const std::string& name) {
    // Queues live as long as the thread: a consumer that goes away (its
    // WorkQueue destroyed: it "died") leaves its pending items behind.
    thread_local std::map<std::string, std::shared_ptr<MemoryQueue>> registry;
    auto& q = registry[name];
    if (!q) {
        q = std::make_shared<MemoryQueue>();
    }
    return q;
}

class MemoryBackend final : public WorkQueueBackend {
public:
    MemoryBackend(std::string name, WorkQueueConfig options)
        : WorkQueueBackend(std::move(name), std::move(options)), q_(memory_queue(name_)) {}

    Task<std::string> put(std::string body) override {
        std::string id = std::to_string(++q_->next_id);
        q_->ready.push_back(WorkItem{id, std::move(body), 0});
        q_->wake();
        co_return id;
    }

    Task<std::optional<WorkItem>> get(std::optional<Duration> timeout) override {
        auto& loop = get_running_loop();
        std::optional<TimePoint> deadline = deadline_of(timeout);
        for (;;) {
            if (closed_) {
                co_return std::nullopt;
            }
            std::optional<TimePoint> next_expiry;
            if (auto item = take(loop.time(), next_expiry)) {
                co_return item;
            }
            std::optional<TimePoint> wake_at = deadline;
            if (next_expiry && (!wake_at || *next_expiry < *wake_at)) {
                wake_at = next_expiry;
            }
            if (deadline && loop.time() >= *deadline) {
                co_return std::nullopt;
            }
            Future<void> changed;
            q_->waiters.push_back(changed);
            std::optional<Duration> wait;
            if (wake_at) {
                wait = std::max(Duration::zero(), *wake_at - loop.time());
            }
            try {
                co_await wait_for(changed, wait);
            } catch (const TimeoutError&) {
                // An expiry or the deadline: look again.
            }
            std::erase_if(q_->waiters, [](const Future<void>& f) { return f.done(); });
        }
    }

    Task<void> ack(const WorkItem& item) override {
        q_->pending.erase(item.id);
        co_return;
    }

    Task<void> nack(const WorkItem& item) override {
        auto it = q_->pending.find(item.id);
        if (it != q_->pending.end()) {
            it->second.visible_again = get_running_loop().time();
            q_->wake();
        }
        co_return;
    }

    Task<std::int64_t> size() override {
        co_return static_cast<std::int64_t>(q_->ready.size() + q_->pending.size());
    }

    Task<std::vector<WorkItem>> dead_letters() override { co_return q_->dead; }

    void close() override {
        closed_ = true;
        q_->wake();
    }

private:
    // An expired pending item (redelivered or dead-lettered), else a ready
    // one; next_expiry: when the earliest pending item expires.
    std::optional<WorkItem> take(TimePoint now, std::optional<TimePoint>& next_expiry) {
        for (auto it = q_->pending.begin(); it != q_->pending.end();) {
            if (it->second.visible_again > now) {
                if (!next_expiry || it->second.visible_again < *next_expiry) {
                    next_expiry = it->second.visible_again;
                }
                ++it;
                continue;
            }
            WorkItem item = std::move(it->second.item);
            it = q_->pending.erase(it);
            if (item.deliveries >= options_.max_deliveries) {
                q_->dead.push_back(std::move(item));
                continue;
            }
            return deliver(std::move(item), now);
        }
        if (!q_->ready.empty()) {
            WorkItem item = std::move(q_->ready.front());
            q_->ready.pop_front();
            return deliver(std::move(item), now);
        }
        return std::nullopt;
    }

    WorkItem deliver(WorkItem item, TimePoint now) {
        ++item.deliveries;
        q_->pending[item.id] = MemoryQueue::Pending{item, now + options_.visibility_timeout};
        return item;
    }

    std::shared_ptr<MemoryQueue> q_;
    bool closed_ = false;
};

// -- Redis Streams --------------------------------------------------------------

// KEYS[1] stream, KEYS[2] dead-letter stream; ARGV[1] id, ARGV[2] group,
// ARGV[3] deliveries. Only the consumer whose XACK removes the entry from
// the pending list writes the dead letter.
const Script& dead_letter_script() {
    static const Script s(R"lua(
local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if redis.call('XACK', KEYS[1], ARGV[2], ARGV[1]) == 0 then return 0 end
if #e > 0 then
  local body = ''
  local f = e[1][2]
  for i = 1, #f, 2 do if f[i] == 'body' then body = f[i + 1] end end
  redis.call('XADD', KEYS[2], '*', 'id', ARGV[1], 'body', body, 'deliveries', ARGV[3])
  redis.call('XDEL', KEYS[1], ARGV[1])
end
return 1)lua");
    return s;
}

std::string field(const Reply& fields, std::string_view name) {
    const auto& f = fields.as_array();
    for (std::size_t i = 0; i + 1 < f.size(); i += 2) {
        if (f[i].to_string() == name) {
            return f[i + 1].to_string();
        }
    }
    return {};
}

// The entries of the first stream of an XREADGROUP / XCLAIM reply.
const Reply* first_stream_entries(const Reply& r) {
    if (r.is_null()) {
        return nullptr;
    }
    if (r.is_map()) {  // RESP3: {stream: entries}
        auto m = r.as_map();
        return m.empty() ? nullptr : &m[0].second;
    }
    const auto& streams = r.as_array();  // RESP2: [[stream, entries]]
    if (streams.empty()) {
        return nullptr;
    }
    return &streams[0].as_array().at(1);
}

std::string default_consumer() {
    char host[256] = "host";
    ::gethostname(host, sizeof host - 1);
    std::random_device rd;
    return std::string(host) + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(rd() % 100000);
}

class RedisBackend final : public WorkQueueBackend {
public:
    RedisBackend(std::string name, WorkQueueConfig options, ClientOptions client)
        : WorkQueueBackend(std::move(name), std::move(options)),
          client_(Client::create(client)),
          blocking_(PoolOptions{client, 64}) {
        if (options_.consumer.empty()) {
            options_.consumer = default_consumer();
        }
        if (options_.dead_letter.empty()) {
            options_.dead_letter = name_ + ":dead";
        }
    }

    Task<void> create_group() {
        try {
            co_await client_.execute("XGROUP", "CREATE", name_, options_.group, "0", "MKSTREAM");
        } catch (const ReplyError& e) {
            if (e.prefix() != "BUSYGROUP") {
                throw;
            }
        }
    }

    Task<std::string> put(std::string body) override {
        Reply id = co_await client_.execute("XADD", name_, "*", "body", body);
        co_return std::move(id).to_string();
    }

    Task<std::optional<WorkItem>> get(std::optional<Duration> timeout) override {
        auto& loop = get_running_loop();
        std::optional<TimePoint> deadline = deadline_of(timeout);
        for (;;) {
            if (closed_) {
                co_return std::nullopt;
            }
            if (auto item = co_await reclaim()) {
                co_return item;
            }
            Duration block =
                std::min<Duration>(options_.visibility_timeout / 2, std::chrono::seconds(1));
            if (deadline) {
                Duration left = *deadline - loop.time();
                if (left <= Duration::zero()) {
                    co_return std::nullopt;
                }
                block = std::min(block, left);
            }
            std::optional<Reply> r;
            try {
                auto lease = co_await blocking_.acquire();
                r = co_await lease->execute("XREADGROUP", "GROUP", options_.group,
                                            options_.consumer, "COUNT", 1, "BLOCK",
                                            detail::millis(block), "STREAMS", name_, ">");
            } catch (const ConnectionError&) {
                if (closed_) {
                    co_return std::nullopt;  // close() dropped the blocking connections
                }
                throw;
            }
            if (const Reply* entries = first_stream_entries(*r)) {
                const auto& list = entries->as_array();
                if (!list.empty()) {
                    const auto& e = list[0].as_array();
                    co_return WorkItem{e.at(0).to_string(), field(e.at(1), "body"), 1};
                }
            }
        }
    }

    Task<void> ack(const WorkItem& item) override {
        std::string id = item.id;
        co_await client_.execute("XACK", name_, options_.group, id);
        co_await client_.execute("XDEL", name_, id);
    }

    Task<void> nack(const WorkItem& item) override {
        // Idle as long as the visibility timeout: reclaimable at once.
        std::string id = item.id;
        co_await client_.execute("XCLAIM", name_, options_.group, options_.consumer, 0, id, "IDLE",
                                 detail::millis(options_.visibility_timeout), "JUSTID");
    }

    Task<std::int64_t> size() override {
        co_return (co_await client_.execute("XLEN", name_)).to_integer();
    }

    Task<std::vector<WorkItem>> dead_letters() override {
        Reply r = co_await client_.execute("XRANGE", options_.dead_letter, "-", "+");
        std::vector<WorkItem> out;
        for (const Reply& e : r.as_array()) {
            const Reply& fields = e.as_array().at(1);
            out.push_back(WorkItem{field(fields, "id"), field(fields, "body"),
                                   std::stoll(field(fields, "deliveries"))});
        }
        co_return out;
    }

    void close() override {
        closed_ = true;
        blocking_.close();
    }

private:
    // The oldest pending item idle for the visibility timeout: claimed and
    // returned, or dead-lettered (then the next one is looked at).
    Task<std::optional<WorkItem>> reclaim() {
        const std::int64_t idle = detail::millis(options_.visibility_timeout);
        Reply pending =
            co_await client_.execute("XPENDING", name_, options_.group, "IDLE", idle, "-", "+", 10);
        for (const Reply& p : pending.as_array()) {
            const auto& info = p.as_array();  // [id, consumer, idle ms, deliveries]
            std::string id = info.at(0).to_string();
            std::int64_t deliveries = info.at(3).to_integer();
            if (deliveries >= options_.max_deliveries) {
                std::vector<std::string> keys{name_, options_.dead_letter};
                std::vector<std::string> args{id, options_.group, std::to_string(deliveries)};
                co_await client_.run(dead_letter_script(), keys, args);
                continue;
            }
            Reply claimed = co_await client_.execute("XCLAIM", name_, options_.group,
                                                     options_.consumer, idle, id);
            const auto& entries = claimed.as_array();
            if (entries.empty() || entries[0].is_null()) {
                continue;  // another consumer claimed it first, or it was acked
            }
            const auto& e = entries[0].as_array();
            co_return WorkItem{e.at(0).to_string(), field(e.at(1), "body"), deliveries + 1};
        }
        co_return std::nullopt;
    }

    Client client_;
    Pool blocking_;
    bool closed_ = false;
};

}  // namespace
}  // namespace detail

namespace {
std::map<std::string, WorkQueueBackendFactory, std::less<>>& backend_registry() {
    static std::map<std::string, WorkQueueBackendFactory, std::less<>> registry;
    return registry;
}
}  // namespace

void register_work_queue_backend(std::string scheme, WorkQueueBackendFactory factory) {
    backend_registry()[std::move(scheme)] = std::move(factory);
}

Task<WorkQueue> WorkQueue::open_queue(std::string url, std::string name,
                                      detail::WorkQueueConfig options) {
    if (name.empty()) {
        throw std::invalid_argument("WorkQueue::open: name is empty");
    }
    if (options.max_deliveries < 1) {
        throw std::invalid_argument("WorkQueue::open: options.max_deliveries must be >= 1");
    }
    if (url.empty() || url == "memory://") {
        co_return WorkQueue(std::make_unique<detail::MemoryBackend>(std::move(name), options));
    }
    if (auto it = backend_registry().find(url.substr(0, url.find("://")));
        it != backend_registry().end()) {
        WorkQueueBackendFactory factory = it->second;
        co_return WorkQueue(co_await factory(std::move(url), std::move(name), std::move(options)));
    }
    auto backend =
        std::make_unique<detail::RedisBackend>(std::move(name), std::move(options), parse_url(url));
    co_await backend->create_group();
    co_return WorkQueue(std::move(backend));
}

WorkQueue::WorkQueue(std::unique_ptr<detail::WorkQueueBackend> backend) noexcept
    : backend_(std::move(backend)) {}
WorkQueue::WorkQueue(WorkQueue&&) noexcept = default;
WorkQueue& WorkQueue::operator=(WorkQueue&&) noexcept = default;
WorkQueue::~WorkQueue() = default;

namespace {
detail::WorkQueueBackend& backend_of(const std::unique_ptr<detail::WorkQueueBackend>& b) {
    if (!b) {
        throw RuntimeError("WorkQueue: empty (moved from)");
    }
    return *b;
}
}  // namespace

Task<std::string> WorkQueue::put(std::string body) {
    return backend_of(backend_).put(std::move(body));
}
Task<std::optional<WorkItem>> WorkQueue::get(std::optional<Duration> timeout) {
    return backend_of(backend_).get(timeout);
}
Task<void> WorkQueue::ack(const WorkItem& item) {
    return backend_of(backend_).ack(item);
}
Task<void> WorkQueue::nack(const WorkItem& item) {
    return backend_of(backend_).nack(item);
}
Task<std::int64_t> WorkQueue::size() {
    return backend_of(backend_).size();
}
Task<std::vector<WorkItem>> WorkQueue::dead_letters() {
    return backend_of(backend_).dead_letters();
}
void WorkQueue::close() {
    backend_of(backend_).close();
}
const std::string& WorkQueue::name() const noexcept {
    return backend_->name();
}

}  // namespace corio::redis
