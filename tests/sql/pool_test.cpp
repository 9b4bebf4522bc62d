// tests/sql/pool_test.cpp - sql::Pool's lending rules, on a connection type
// of the test's own (the drivers' pools are tested on real servers in their
// own tests). Virtual time: connecting takes 10 ms of loop time.
#include "corio/sql/pool.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

namespace {

using namespace std::chrono_literals;
using corio::Task;
using corio_test::vrun;

struct Counters {
    int connects = 0;
    int closes = 0;
    int destroyed_open = 0;
    bool fail_next = false;
    int dead_id = 0;  // this connection's server went away (it is not reusable)
};

// A connection: an id, a reusable flag the test flips, closed by close().
class FakeConn {
public:
    struct Options {
        Counters* counters;
    };
    static Task<FakeConn> connect(const Options& o) {
        co_await corio::sleep(10ms);
        if (std::exchange(o.counters->fail_next, false)) {
            throw std::runtime_error("connection refused");
        }
        co_return FakeConn(o.counters, ++o.counters->connects);
    }
    FakeConn(FakeConn&& o) noexcept
        : c_(std::exchange(o.c_, nullptr)), id_(o.id_), reusable_(o.reusable_) {}
    FakeConn& operator=(FakeConn&& o) noexcept {
        std::swap(c_, o.c_);
        id_ = o.id_;
        reusable_ = o.reusable_;
        return *this;
    }
    ~FakeConn() {
        if (c_ != nullptr) {
            ++c_->destroyed_open;
        }
    }
    bool is_reusable() const { return reusable_ && (c_ == nullptr || c_->dead_id != id_); }
    Task<void> close() {
        co_await corio::sleep(1ms);
        ++std::exchange(c_, nullptr)->closes;
    }
    int id() const { return id_; }

private:
    FakeConn(Counters* c, int id) : c_(c), id_(id) {}
    Counters* c_;
    int id_;

public:
    bool reusable_ = true;
};

using Pool = corio::sql::Pool<FakeConn>;

TEST(SqlPool, ReusesAGivenBackConnection) {
    Counters c;
    vrun([&]() -> Task<void> {
        Pool pool({&c}, {.minsize = 0, .maxsize = 2});
        int first = 0;
        {
            auto conn = co_await pool.acquire();
            first = conn->id();
            EXPECT_EQ(pool.lent(), 1u);
        }
        EXPECT_EQ(pool.idle(), 1u);
        auto again = co_await pool.acquire();
        EXPECT_EQ(again->id(), first);
        EXPECT_EQ(c.connects, 1);
        again.release();
        co_await pool.close();
        EXPECT_EQ(c.closes, 1);
        EXPECT_EQ(pool.size(), 0u);
    }());
    EXPECT_EQ(c.destroyed_open, 0);
}

TEST(SqlPool, OpenFillsMinsize) {
    Counters c;
    vrun([&]() -> Task<void> {
        Pool pool({&c}, {.minsize = 3, .maxsize = 5});
        co_await pool.open();
        EXPECT_EQ(c.connects, 3);
        EXPECT_EQ(pool.idle(), 3u);
        co_await pool.close();
    }());
    EXPECT_EQ(c.closes, 3);
}

TEST(SqlPool, NeverMoreThanMaxsizeAndWaitersServedInOrder) {
    Counters c;
    vrun([&]() -> Task<void> {
        Pool pool({&c}, {.minsize = 0, .maxsize = 2});
        std::vector<int> order;
        int busy = 0;
        int peak = 0;
        auto user = [&](int n) -> Task<void> {
            auto conn = co_await pool.acquire();
            order.push_back(n);
            peak = std::max(peak, ++busy);
            co_await corio::sleep(100ms);
            --busy;
        };
        std::vector<corio::TaskHandle<void>> users;
        for (int n = 0; n < 6; ++n) {
            users.push_back(corio::create_task(user(n)));
        }
        for (auto& u : users) {
            co_await u;
        }
        EXPECT_EQ(peak, 2);
        EXPECT_EQ(c.connects, 2);
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5}));
        co_await pool.close();
    }());
}

TEST(SqlPool, AcquireTimesOutWhenEveryConnectionIsLent) {
    Counters c;
    vrun([&]() -> Task<void> {
        Pool pool({&c}, {.minsize = 0, .maxsize = 1, .acquire_timeout = 50ms});
        auto held = co_await pool.acquire();
        auto start = corio::get_running_loop().time();
        EXPECT_THROW(co_await pool.acquire(), corio::TimeoutError);
        EXPECT_EQ(corio_test::ms_since(start), 50);
        held.release();
        auto next = co_await pool.acquire();  // the timed-out wait took no permit
        EXPECT_EQ(next->id(), 1);
        next.release();
        co_await pool.close();
    }());
}

TEST(SqlPool, AConnectionNotReusableIsDestroyedAndReplaced) {
    Counters c;
    vrun([&]() -> Task<void> {
        Pool pool({&c}, {.minsize = 0, .maxsize = 1});
        {
            auto conn = co_await pool.acquire();
            conn->reusable_ = false;  // e.g. left mid-query by a cancelled task
        }
        EXPECT_EQ(pool.size(), 0u);
        EXPECT_EQ(c.destroyed_open, 1);
        auto fresh = co_await pool.acquire();
        EXPECT_EQ(fresh->id(), 2);
        {
            auto moved = std::move(fresh);
            moved.discard();
        }
        EXPECT_EQ(c.destroyed_open, 2);
        EXPECT_EQ(pool.size(), 0u);
        co_await pool.close();
    }());
}

TEST(SqlPool, AnIdleConnectionThatDiedIsSkippedAtAcquire) {
    Counters c;
    vrun([&]() -> Task<void> {
        Pool pool({&c}, {.minsize = 0, .maxsize = 2});
        { auto conn = co_await pool.acquire(); }
        EXPECT_EQ(pool.idle(), 1u);
        // The idle connection dies while it waits (server restarted): the
        // next acquire drops it and connects anew.
        c.dead_id = 1;
        auto b = co_await pool.acquire();
        EXPECT_EQ(b->id(), 2);
        EXPECT_EQ(c.connects, 2);
        EXPECT_EQ(c.destroyed_open, 1);  // dropped, not lent
        EXPECT_EQ(pool.idle(), 0u);
        b.release();
        co_await pool.close();
    }());
}

TEST(SqlPool, RecycleClosesOldIdleConnections) {
    Counters c;
    vrun([&]() -> Task<void> {
        Pool pool({&c}, {.minsize = 1, .maxsize = 1, .recycle = 1s});
        co_await pool.open();
        {
            auto conn = co_await pool.acquire();
            EXPECT_EQ(conn->id(), 1);
        }
        co_await corio::sleep(2s);
        auto conn = co_await pool.acquire();
        EXPECT_EQ(conn->id(), 2);
        EXPECT_EQ(c.closes, 1);
        conn.release();
        co_await pool.close();
    }());
}

TEST(SqlPool, ConnectFailureAndCancellationGiveThePlaceBack) {
    Counters c;
    vrun([&]() -> Task<void> {
        Pool pool({&c}, {.minsize = 0, .maxsize = 1});
        c.fail_next = true;
        EXPECT_THROW(co_await pool.acquire(), std::runtime_error);
        auto t = corio::create_task(pool.acquire());
        co_await corio::sleep(5ms);  // mid-connect
        t.cancel();
        EXPECT_THROW(co_await t, corio::CancelledError);
        EXPECT_EQ(pool.size(), 0u);
        auto conn = co_await pool.acquire();
        EXPECT_EQ(conn->id(), 1);
        conn.release();
        co_await pool.close();
    }());
}

TEST(SqlPool, CloseWaitsForLeasesAndRefusesNewOnes) {
    Counters c;
    vrun([&]() -> Task<void> {
        Pool pool({&c}, {.minsize = 0, .maxsize = 2});
        auto held = co_await pool.acquire();
        bool closed = false;
        auto close_it = [&]() -> Task<void> {
            co_await pool.close();
            closed = true;
        };
        auto closer = corio::create_task(close_it());
        co_await corio::sleep(10ms);
        EXPECT_FALSE(closed);
        EXPECT_THROW(co_await pool.acquire(), corio::RuntimeError);
        held.release();
        co_await closer;
        EXPECT_TRUE(closed);
        EXPECT_EQ(c.closes, 1);
    }());
}

TEST(SqlPool, RejectsImpossibleSizes) {
    Counters c;
    EXPECT_THROW(Pool({&c}, {.minsize = 0, .maxsize = 0}), std::invalid_argument);
    EXPECT_THROW(Pool({&c}, {.minsize = 3, .maxsize = 2}), std::invalid_argument);
}

}  // namespace
