// src/redis/pool.cpp - Pipeline (plain and MULTI/EXEC) and Pool.
//
// Pool invariants: conns_ only grows (up to max_connections) until close();
// a slot is `lent` from acquire() until give_back(); waiters_ are served
// FIFO, skipping futures already done (their waiter was cancelled); a slot
// handed to a waiter stays lent.
#include "corio/redis/pool.hpp"

#include <algorithm>
#include <stdexcept>

namespace corio::redis {

// -- Pipeline -----------------------------------------------------------------

namespace {

// The replies from `from` on will not be awaited (the connection broke or
// the wait was cancelled): they are dropped when they come, so that none is
// reported as never retrieved.
void drop_replies(std::vector<Future<Reply>>& futures, std::size_t from) {
    for (std::size_t i = from; i < futures.size(); ++i) {
        futures[i].add_done_callback([](Future<Reply> f) {
            if (!f.cancelled()) {
                (void)f.exception();
            }
        });
    }
}

}  // namespace

Task<std::vector<Reply>> Pipeline::run() {
    std::string buffer = std::move(buffer_);
    std::size_t n = std::exchange(count_, 0);
    buffer_.clear();
    std::vector<Future<Reply>> futures = client_.execute_encoded(buffer, n);
    std::vector<Reply> replies;
    replies.reserve(n);
    std::exception_ptr first_error;
    for (std::size_t i = 0; i < n; ++i) {
        try {
            replies.push_back(co_await futures[i]);
        } catch (const ReplyError& e) {
            if (!first_error) {
                first_error = std::current_exception();
            }
            replies.push_back(Reply::simple_error(e.message()));
        } catch (...) {
            drop_replies(futures, i + 1);
            throw;
        }
    }
    if (first_error) {
        std::rethrow_exception(first_error);
    }
    co_return replies;
}

Task<std::optional<std::vector<Reply>>> Pipeline::exec() {
    if (!transaction_) {
        co_return co_await run();
    }
    std::string buffer;
    encode_command(buffer, "MULTI");
    buffer += buffer_;
    encode_command(buffer, "EXEC");
    std::size_t n = std::exchange(count_, 0) + 2;
    buffer_.clear();
    std::vector<Future<Reply>> futures = client_.execute_encoded(buffer, n);
    // MULTI's OK and each QUEUED: read them all before throwing, so that
    // every reply is consumed in order.
    std::exception_ptr refused;
    for (std::size_t i = 0; i + 1 < n; ++i) {
        try {
            co_await futures[i];
        } catch (const ReplyError&) {
            if (!refused) {
                refused = std::current_exception();
            }
        } catch (...) {
            drop_replies(futures, i + 1);
            throw;
        }
    }
    std::exception_ptr exec_error;
    Reply result;
    try {
        result = co_await futures.back();
    } catch (const ReplyError&) {
        exec_error = std::current_exception();  // EXECABORT
    }
    if (refused) {
        std::rethrow_exception(refused);
    }
    if (exec_error) {
        std::rethrow_exception(exec_error);
    }
    if (result.is_null()) {
        co_return std::nullopt;  // a WATCHed key changed
    }
    co_return std::move(result).as_array();
}

// -- Pool ---------------------------------------------------------------------

Pool::Pool(PoolOptions options) : options_(std::move(options)) {
    if (options_.max_connections == 0) {
        throw std::invalid_argument("Pool: max_connections must be at least 1");
    }
    if (options_.max_pipeline == 0) {
        throw std::invalid_argument("Pool: max_pipeline must be at least 1");
    }
}

Pool::Pool(std::string_view url, std::size_t max_connections)
    : Pool(PoolOptions{parse_url(url), max_connections}) {}

Pool::~Pool() {
    close();
}

void Pool::close() {
    for (auto& s : conns_) {
        s.client.close();
    }
    conns_.clear();
    for (auto& w : waiters_) {
        if (!w.done()) {
            w.set_exception(ConnectionError("redis Pool closed"));
        }
    }
    waiters_.clear();
}

std::size_t Pool::in_use() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(conns_.begin(), conns_.end(), [](const Slot& s) { return s.lent; }));
}

std::size_t Pool::open_slot() {
    conns_.push_back(Slot{Client::create(options_.client), false});
    return conns_.size() - 1;
}

Pool::Slot* Pool::least_busy() noexcept {
    Slot* best = nullptr;
    for (auto& s : conns_) {
        if (!s.lent && (!best || s.client.load() < best->client.load())) {
            best = &s;
        }
    }
    return best;
}

Client* Pool::pick() {
    // The first shared connection with room in its pipeline: commands
    // gather on few connections, so each write and each read carries many
    // (fewer system calls on both sides than one command per connection).
    for (auto& s : conns_) {
        if (!s.lent && s.client.load() < options_.max_pipeline) {
            return &s.client;
        }
    }
    if (conns_.size() < options_.max_connections) {
        return &conns_[open_slot()].client;
    }
    Slot* best = least_busy();
    return best ? &best->client : nullptr;
}

Task<Reply> Pool::execute_encoded(std::string encoded) {
    if (Client* c = pick()) {
        co_return co_await c->submit(encoded);
    }
    Lease lease = co_await acquire();  // every connection is lent: wait for one
    Future<Reply> f = lease->submit(encoded);
    // Shared again at once: the reply is still matched, the connection fine.
    lease.pool_ = nullptr;
    give_back(lease.index_, false);
    co_return co_await std::move(f);
}

Task<Pool::Lease> Pool::acquire() {
    Slot* best = least_busy();
    std::size_t index;
    if (best && best->client.load() == 0) {
        index = static_cast<std::size_t>(best - conns_.data());
    } else if (conns_.size() < options_.max_connections) {
        index = open_slot();
    } else if (best) {
        index = static_cast<std::size_t>(best - conns_.data());
    } else {
        Future<std::size_t> f;
        waiters_.push_back(f);
        try {
            index = co_await f;
        } catch (...) {
            if (f.done() && !f.cancelled() && !f.exception()) {
                give_back(f.result());  // handed over as we were cancelled
            }
            throw;
        }
        co_return Lease(this, index);  // give_back left it lent
    }
    conns_[index].lent = true;
    co_return Lease(this, index);
}

void Pool::give_back(std::size_t index, bool replace_if_busy) noexcept {
    if (index >= conns_.size()) {
        return;
    }
    Slot& s = conns_[index];
    if (replace_if_busy && s.client.load() > 0) {
        // A reply nobody waits for is still coming (a cancelled BRPOP can
        // block for long): start afresh rather than lend it out again.
        s.client.close();
        s.client = Client::create(options_.client);
    }
    while (!waiters_.empty()) {
        Future<std::size_t> w = std::move(waiters_.front());
        waiters_.pop_front();
        if (!w.done()) {
            w.set_result(index);
            return;  // stays lent, to the waiter
        }
    }
    s.lent = false;
}

Pool::Lease& Pool::Lease::operator=(Lease&& o) noexcept {
    if (this != &o) {
        release();
        pool_ = std::exchange(o.pool_, nullptr);
        index_ = o.index_;
    }
    return *this;
}

Client& Pool::Lease::operator*() const {
    if (!pool_) {
        throw RuntimeError("redis::Pool::Lease: empty (released or moved from)");
    }
    return pool_->conns_[index_].client;
}

void Pool::Lease::release() noexcept {
    if (pool_) {
        std::exchange(pool_, nullptr)->give_back(index_);
    }
}

}  // namespace corio::redis
