#include "corio/contextvars.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "corio/corio.hpp"
#include "corio/testing/virtual_time.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Context;
using corio::ContextVar;
using corio::Task;
using corio::TaskHandle;
using corio_test::vrun;

namespace {

// Module-level variables, as Python declares them.
ContextVar<std::string> request_id("request_id", "-");
ContextVar<int> depth("depth");

}  // namespace

// -- ContextVar and Token ---------------------------------------------------

TEST(ContextVar, GetGivesTheDefaultOrRaisesLookupErrorUntilSet) {
    Context ctx;
    ctx.run([] {
        EXPECT_EQ(request_id.get(), "-");
        EXPECT_EQ(request_id.get("fallback"), "fallback");  // a fallback beats the default
        try {
            (void)depth.get();
            ADD_FAILURE() << "no LookupError";
        } catch (const corio::LookupError& e) {
            EXPECT_NE(std::string(e.what()).find("depth"), std::string::npos);
        }
        EXPECT_EQ(depth.get(7), 7);
        depth.set(1);
        EXPECT_EQ(depth.get(), 1);
        EXPECT_EQ(depth.get(7), 1);
        EXPECT_EQ(depth.name(), "depth");
    });
}

TEST(ContextVar, ResetRestoresTheValueBeforeTheSetAndATokenIsUsedOnce) {
    Context ctx;
    ctx.run([] {
        auto t1 = depth.set(1);
        EXPECT_FALSE(t1.old_value());  // Token.MISSING
        auto t2 = depth.set(2);
        EXPECT_EQ(t2.old_value(), 1);
        EXPECT_EQ(&t2.var(), &depth);
        depth.reset(t2);
        EXPECT_TRUE(t2.used());
        EXPECT_EQ(depth.get(), 1);
        EXPECT_THROW(depth.reset(t2), corio::RuntimeError);  // "has already been used once"
        depth.reset(t1);
        EXPECT_THROW((void)depth.get(), corio::LookupError);  // no value again
    });
}

TEST(ContextVar, ResetRejectsATokenOfAnotherVariableOrContextAsValueError) {
    Context a;
    Context b;
    ContextVar<int> other("other");
    auto token = a.run([&] { return depth.set(5); });
    b.run([&] { EXPECT_THROW(depth.reset(token), std::invalid_argument); });  // other Context
    a.run([&] {
        auto t = other.set(1);
        EXPECT_THROW(depth.reset(t), std::invalid_argument);  // other ContextVar
        depth.reset(token);
        EXPECT_FALSE(a.contains(depth));
    });
}

// -- Context ------------------------------------------------------------------

TEST(Context, RunMakesItCurrentChangesStayInItAndTheCallerGetsItsOwnBack) {
    Context ctx;
    Context outer;
    outer.run([&] {
        depth.set(1);
        ctx.run([] { depth.set(10); });
        EXPECT_EQ(depth.get(), 1);  // ours again
    });
    EXPECT_EQ(ctx.get(depth), 10);
    EXPECT_EQ(ctx.size(), 1u);
    EXPECT_EQ(outer.get(depth), 1);
    Context copy = ctx.copy();
    copy.run([] { depth.set(11); });
    EXPECT_EQ(ctx.get(depth), 10);  // independent
    EXPECT_EQ(copy.get(depth), 11);
    Context same = ctx;  // a reference to the same context, as in Python
    EXPECT_TRUE(same == ctx);
    EXPECT_FALSE(copy == ctx);
}

TEST(Context, EnteringAContextThatIsAlreadyEnteredRaisesRuntimeError) {
    Context ctx;
    ctx.run([&] { EXPECT_THROW(ctx.run([] {}), corio::RuntimeError); });
    EXPECT_NO_THROW(ctx.run([] {}));  // left again, also after the throw
    EXPECT_THROW(ctx.run([] { throw std::runtime_error("f failed"); }), std::runtime_error);
    EXPECT_NO_THROW(ctx.run([] {}));
}

TEST(Context, CopyContextCopiesTheCurrentValues) {
    Context ctx;
    ctx.run([] {
        request_id.set("r-1");
        Context snapshot = corio::copy_context();
        request_id.set("r-2");
        EXPECT_EQ(snapshot.get(request_id), "r-1");
    });
}

// -- Tasks --------------------------------------------------------------------

TEST(ContextVarTask, EveryTaskRunsInACopyOfTheContextCurrentWhenItWasCreated) {
    vrun([]() -> Task<void> {
        request_id.set("parent");
        auto child = corio::create_task([]() -> Task<std::string> {
            std::string seen = request_id.get();
            co_await corio::sleep(1s);
            request_id.set("child");  // its own copy
            co_return seen + "," + request_id.get();
        }());
        request_id.set("parent later");  // after the copy: not seen by the child
        EXPECT_EQ(co_await child, "parent,child");
        EXPECT_EQ(request_id.get(), "parent later");
    }());
}

TEST(ContextVarTask, SiblingsCreatedBeforeAnyVariableWasSetDoNotSeeEachOthersValues) {
    vrun([]() -> Task<void> {
        auto worker = [](std::string name) -> Task<std::string> {
            request_id.set(name);
            co_await corio::sleep(1s);
            co_return request_id.get();
        };
        auto a = corio::create_task(worker("a"));
        auto b = corio::create_task(worker("b"));
        EXPECT_EQ(co_await a, "a");
        EXPECT_EQ(co_await b, "b");
        EXPECT_EQ(request_id.get(), "-");  // and not the parent's either
    }());
}

TEST(ContextVarTask, AnAwaitedCoroutineSharesItsCallersContext) {
    vrun([]() -> Task<void> {
        co_await []() -> Task<void> {
            depth.set(3);  // `await coro()` runs in the caller's context
            co_return;
        }();
        EXPECT_EQ(depth.get(), 3);
    }());
}

TEST(ContextVarTask, CreateTaskWithAContextRunsTheTaskInThatContextItself) {
    vrun([]() -> Task<void> {
        Context ctx;
        ctx.run([] { request_id.set("given"); });
        auto t = corio::create_task(
            []() -> Task<std::string> {
                std::string seen = request_id.get();
                request_id.set("changed by the task");
                co_return seen;
            }(),
            "worker", ctx);
        EXPECT_EQ(co_await t, "given");
        EXPECT_EQ(ctx.get(request_id), "changed by the task");  // shared, not copied
        EXPECT_EQ(request_id.get(), "-");
        EXPECT_TRUE(t.get_context() == ctx);  // Task.get_context()
    }());
}

// -- Callbacks ----------------------------------------------------------------

TEST(ContextVarCallbacks, CallSoonAndCallLaterRunInTheContextCurrentWhenScheduled) {
    vrun([]() -> Task<void> {
        corio::EventLoop& loop = corio::get_running_loop();
        std::vector<std::string> seen;
        request_id.set("at call_soon");
        loop.call_soon([&] {
            seen.push_back(request_id.get());
            request_id.set("set in the callback");  // its copy only
        });
        loop.call_later(1s, [&] { seen.push_back(request_id.get()); });
        Context other;
        other.run([] { request_id.set("explicit"); });
        loop.call_soon([&] { seen.push_back(request_id.get()); }, other);
        request_id.set("after scheduling");
        co_await corio::sleep(2s);
        EXPECT_EQ(seen, (std::vector<std::string>{"at call_soon", "explicit", "at call_soon"}));
        EXPECT_EQ(request_id.get(), "after scheduling");
    }());
}

TEST(ContextVarCallbacks, ACallbackThatSetsAVariableKeepsItToItself) {
    vrun([]() -> Task<void> {
        corio::EventLoop& loop = corio::get_running_loop();
        std::vector<std::string> seen;
        loop.call_soon([&] { request_id.set("first callback"); });
        loop.call_soon([&] { seen.push_back(request_id.get()); });
        co_await corio::sleep(0s);
        co_await corio::sleep(0s);
        EXPECT_EQ(seen, (std::vector<std::string>{"-"}));
        EXPECT_EQ(request_id.get(), "-");
    }());
}

TEST(ContextVarCallbacks, DoneCallbacksRunInTheContextCurrentWhenAdded) {
    vrun([]() -> Task<void> {
        auto t = corio::create_task([]() -> Task<void> {
            request_id.set("the task's");
            co_await corio::sleep(1s);
        }());
        request_id.set("at add_done_callback");
        std::string seen;
        t.add_done_callback([&](TaskHandle<void>) { seen = request_id.get(); });
        request_id.set("later");
        co_await t;
        co_await corio::sleep(0s);
        EXPECT_EQ(seen, "at add_done_callback");
    }());
}

// -- Threads ------------------------------------------------------------------

TEST(ContextVarThreads, ToThreadCarriesTheCallersContextAndRunInExecutorDoesNot) {
    vrun([]() -> Task<void> {
        request_id.set("caller");
        auto read = [] { return request_id.get(); };
        EXPECT_EQ(co_await corio::to_thread(read), "caller");
        auto set_and_read = [] {
            request_id.set("worker");  // in the call's own copy
            return request_id.get();
        };
        EXPECT_EQ(co_await corio::to_thread(set_and_read), "worker");
        EXPECT_EQ(request_id.get(), "caller");
        // run_in_executor: the worker thread's own context (asyncio's difference).
        EXPECT_EQ(co_await corio::get_running_loop().run_in_executor(nullptr, read), "-");
    }());
}

TEST(ContextVarThreads, RunCoroutineThreadsafeCarriesTheSubmittingThreadsContext) {
    corio::EventLoop loop;  // runs in its own thread
    std::thread runner([&] { loop.run_forever(); });
    std::string seen;
    std::thread submitter([&] {
        Context mine;
        mine.run([&] {
            request_id.set("submitter");
            auto cf = corio::run_coroutine_threadsafe(
                []() -> Task<std::string> { co_return request_id.get(); }(), loop);
            seen = cf.result(10s);
        });
    });
    submitter.join();
    loop.call_soon_threadsafe([&] { loop.stop(); });
    runner.join();
    loop.close();
    EXPECT_EQ(seen, "submitter");
}

TEST(ContextVarThreads, EachThreadHasItsOwnContext) {
    int first = -1;
    int second = -1;
    std::thread a([&] {
        depth.set(1);  // outside any task or loop: this thread's own context
        first = depth.get();
        std::thread b([&] { second = depth.get(-1); });
        b.join();
    });
    a.join();
    EXPECT_EQ(first, 1);
    EXPECT_EQ(second, -1);
    EXPECT_EQ(depth.get(-1), -1);  // nor this one's
}

// -- Runner ---------------------------------------------------------------------

TEST(ContextVarRunner, MainRunsInACopyOfTheCallersContextAndRunsOfARunnerShareOne) {
    Context outside;
    outside.run([] {
        request_id.set("before run");
        std::string seen = corio::testing::run_virtual([]() -> Task<std::string> {
            std::string s = request_id.get();
            request_id.set("set by main");
            co_return s;
        }());
        EXPECT_EQ(seen, "before run");
        EXPECT_EQ(request_id.get(), "before run");  // main's changes stay in its copy
    });
    corio::Runner runner(corio::LoopOptions{.virtual_time = true, .debug = false});
    runner.run([]() -> Task<void> {
        depth.set(42);
        co_return;
    }());
    EXPECT_EQ(runner.run([]() -> Task<int> { co_return depth.get(); }()), 42);
}
