// http/client_pool.cpp - ClientSession's connection pool: idle connections
// per key (scheme://host:port), and the limits on open connections
// (aiohttp's TCPConnector `limit` and `limit_per_host`) with their FIFO of
// waiting requests.
//
// The invariant that keeps the waiters fair (client_conn.hpp): whenever no
// pool function is running, no queued waiter could be served now. So a new
// request may take what is free without queueing: nobody ahead of it could
// have used it. Every change that may serve a waiter (a place freed, a
// connection pooled) calls wake(), which serves them in order.
#include <algorithm>
#include <utility>

#include "client_conn.hpp"
#include "corio/errors.hpp"

namespace corio::http::detail {

Place& Place::operator=(Place&& o) noexcept {
    if (this != &o) {
        reset();
        pool_ = std::move(o.pool_);
        key_ = std::move(o.key_);
        held_ = std::exchange(o.held_, false);
    }
    return *this;
}

void Place::reset() noexcept {
    if (!held_) {
        return;
    }
    held_ = false;
    if (std::shared_ptr<ClientPool> p = pool_.lock()) {
        p->free_place(key_);
    }
}

Task<ClientPool::Lease> ClientPool::acquire(std::string key) {
    if (closed) {
        throw RuntimeError("Session is closed");
    }
    if (Lease now = try_acquire(key)) {
        co_return now;
    }
    auto w = std::make_shared<Waiter>();
    w->key = key;
    waiters.push_back(w);
    try {
        co_await w->ready;
    } catch (...) {
        // Cancelled (or the pool closed): leave the queue, and give back
        // what was granted meanwhile (which wakes the next waiter).
        waiters.remove(w);
        Lease unused = std::move(w->lease);
        if (unused.conn) {
            give_back(key, std::move(unused.conn));
        }
        throw;
    }
    co_return std::move(w->lease);
}

ClientPool::Lease ClientPool::try_acquire(const std::string& key) {
    Lease l;
    l.conn = take(key);
    if (l.conn) {
        return l;
    }
    for (;;) {
        if (limit_per_host != 0) {
            auto it = open_per_host.find(key);
            if (it != open_per_host.end() && it->second >= limit_per_host) {
                return l;
            }
        }
        if (limit == 0 || open < limit) {
            break;
        }
        // Full: an idle connection (of another key: this one has none)
        // makes room. Closing it may serve an earlier waiter instead (a
        // nested wake()), hence the loop.
        if (!close_oldest_idle()) {
            return l;
        }
    }
    ++open;
    ++open_per_host[key];
    l.place = Place(weak_from_this(), key);
    return l;
}

std::unique_ptr<ClientConn> ClientPool::take(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) {
        return nullptr;
    }
    TimePoint now = get_running_loop().time();
    std::vector<std::unique_ptr<ClientConn>> dead;  // closed after the loop (they wake())
    std::unique_ptr<ClientConn> found;
    while (!found && !it->second.empty()) {
        std::unique_ptr<ClientConn> c = std::move(it->second.back());
        it->second.pop_back();
        // at_eof() notices a close the server made while the connection idled.
        if (now - c->idle_since < keepalive_timeout && !c->reader.at_eof() &&
            !c->writer.is_closing()) {
            found = std::move(c);
        } else {
            dead.push_back(std::move(c));
        }
    }
    dead.clear();
    return found;
}

void ClientPool::give_back(const std::string& key, std::unique_ptr<ClientConn> conn) {
    conn->reused = true;
    std::vector<std::unique_ptr<ClientConn>>& list = idle[key];
    if (closed || list.size() >= max_idle_per_host) {
        conn->writer.close();
        return;  // `conn` dies here: its place is freed
    }
    conn->idle_since = get_running_loop().time();
    list.push_back(std::move(conn));
    if (!waiters.empty()) {
        wake();
    }
}

std::vector<std::unique_ptr<ClientConn>> ClientPool::shut() {
    closed = true;
    std::list<std::shared_ptr<Waiter>> queued = std::move(waiters);
    waiters.clear();
    for (const std::shared_ptr<Waiter>& w : queued) {
        if (!w->ready.done()) {
            w->ready.set_exception(std::make_exception_ptr(RuntimeError("Session is closed")));
        }
    }
    std::vector<std::unique_ptr<ClientConn>> all;
    for (auto& [key, conns] : idle) {
        for (auto& c : conns) {
            all.push_back(std::move(c));
        }
    }
    idle.clear();
    return all;
}

void ClientPool::wake() noexcept {
    if (waking_) {
        rewake_ = true;
        return;
    }
    waking_ = true;
    do {
        rewake_ = false;
        for (auto it = waiters.begin(); it != waiters.end() && !closed;) {
            Waiter& w = **it;
            if (limit != 0 && open >= limit && size() == 0) {
                break;  // nobody can be served until a place is freed
            }
            if (w.ready.done()) {  // cancelled, not resumed yet
                ++it;
                continue;
            }
            Lease l = try_acquire(w.key);
            if (!l) {
                ++it;
                continue;
            }
            w.lease = std::move(l);
            w.ready.set_result();
            it = waiters.erase(it);
        }
    } while (rewake_ && !closed);
    waking_ = false;
}

void ClientPool::free_place(const std::string& key) noexcept {
    --open;
    auto it = open_per_host.find(key);
    if (it != open_per_host.end() && --it->second == 0) {
        open_per_host.erase(it);
    }
    if (!waiters.empty()) {
        wake();
    }
}

bool ClientPool::close_oldest_idle() noexcept {
    std::vector<std::unique_ptr<ClientConn>>* from = nullptr;
    std::size_t at = 0;
    for (auto& [key, conns] : idle) {
        for (std::size_t i = 0; i < conns.size(); ++i) {
            if (from == nullptr || conns[i]->idle_since < (*from)[at]->idle_since) {
                from = &conns;
                at = i;
            }
        }
    }
    if (from == nullptr) {
        return false;
    }
    std::unique_ptr<ClientConn> c = std::move((*from)[at]);
    from->erase(from->begin() + static_cast<std::ptrdiff_t>(at));
    c->writer.close();
    c.reset();  // frees its place
    return true;
}

std::size_t ClientPool::size() const noexcept {
    std::size_t n = 0;
    for (const auto& [key, conns] : idle) {
        n += conns.size();
    }
    return n;
}

}  // namespace corio::http::detail
