#include "corio/task.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "corio/corio.hpp"
#include "support/counted.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::TaskHandle;
using corio_test::Reports;
using corio_test::vrun;

namespace {

Task<int> answer() {
    co_return 42;
}
Task<void> nothing() {
    co_return;
}
Task<int> fail(std::string msg) {
    throw std::runtime_error(msg);
    co_return 0;
}
Task<int> sleep_then(corio::Duration d, int v) {
    co_await corio::sleep(d);
    co_return v;
}
Task<long> depth(long n) {
    if (n == 0) {
        co_return 0;
    }
    co_return 1 + co_await depth(n - 1);
}

}  // namespace

TEST(Task, CallingTheCoroutineRunsNothingUntilAwaited) {
    bool ran = false;
    auto coro = [&]() -> Task<void> {
        ran = true;
        co_return;
    };
    vrun([&]() -> Task<void> {
        Task<void> t = coro();
        EXPECT_FALSE(ran);
        co_await std::move(t);
        EXPECT_TRUE(ran);
    }());
}

TEST(Task, AwaitReturnsValueVoidAndMoveOnlyResults) {
    vrun([]() -> Task<void> {
        EXPECT_EQ(co_await answer(), 42);
        co_await nothing();
        auto make = []() -> Task<std::unique_ptr<int>> { co_return std::make_unique<int>(7); };
        std::unique_ptr<int> p = co_await make();
        EXPECT_EQ(*p, 7);
    }());
}

TEST(Task, AwaitRethrowsTheCoroutinesException) {
    vrun([]() -> Task<void> {
        try {
            co_await fail("bad input");
            ADD_FAILURE() << "no exception";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "bad input");
        }
    }());
}

TEST(Task, AMillionNestedAwaitsDoNotOverflowTheStack) {
    EXPECT_EQ(vrun(depth(1'000'000)), 1'000'000);
}

TEST(Task, AwaitedValuesAreMovedNotCopied) {
    Counted::reset();
    vrun([]() -> Task<void> {
        auto make = []() -> Task<Counted> { co_return Counted(5); };
        Counted c = co_await make();
        EXPECT_EQ(c.value, 5);
        auto h = corio::create_task(make());
        Counted d = co_await std::move(h);
        EXPECT_EQ(d.value, 5);
    }());
    EXPECT_EQ(Counted::copies, 0);
    EXPECT_EQ(Counted::alive(), 0);
}

TEST(Task, CreateTaskStartsOnALaterIterationAndRunsConcurrently) {
    vrun([]() -> Task<void> {
        bool started = false;
        auto h = corio::create_task([](bool& s) -> Task<int> {
            s = true;
            co_await corio::sleep(10ms);
            co_return 1;
        }(started));
        EXPECT_FALSE(started);
        co_await corio::sleep(0s);
        EXPECT_TRUE(started);
        EXPECT_FALSE(h.done());
        EXPECT_EQ(co_await h, 1);
        EXPECT_TRUE(h.done());
    }());
}

TEST(Task, SeveralTasksMayAwaitTheSameTask) {
    vrun([]() -> Task<void> {
        auto inner = corio::create_task(sleep_then(5ms, 9));
        auto waiter = [](TaskHandle<int> h) -> Task<int> { co_return co_await h; };
        auto a = corio::create_task(waiter(inner));
        auto b = corio::create_task(waiter(inner));
        EXPECT_EQ(co_await a, 9);
        EXPECT_EQ(co_await b, 9);
        EXPECT_EQ(inner.result(), 9);
    }());
}

TEST(Task, LoopKeepsATaskAliveWhenEveryHandleIsDropped) {
    vrun([]() -> Task<void> {
        auto flag = std::make_shared<bool>(false);
        {
            (void)corio::create_task([](std::shared_ptr<bool> f) -> Task<void> {
                co_await corio::sleep(10ms);
                *f = true;
            }(flag));
        }
        co_await corio::sleep(20ms);
        EXPECT_TRUE(*flag);
    }());
}

TEST(Task, ResultAndExceptionOfAPendingTaskRaiseInvalidStateError) {
    vrun([]() -> Task<void> {
        auto h = corio::create_task(sleep_then(1s, 1));
        EXPECT_THROW((void)h.result(), corio::InvalidStateError);
        EXPECT_THROW((void)h.exception(), corio::InvalidStateError);
        h.cancel();
        EXPECT_THROW(co_await h, corio::CancelledError);
    }());
}

TEST(Task, FailedTaskKeepsItsException) {
    vrun([]() -> Task<void> {
        auto h = corio::create_task(fail("oops"));
        co_await corio::sleep(0s);
        EXPECT_TRUE(h.done());
        EXPECT_FALSE(h.cancelled());
        EXPECT_EQ(corio::describe_exception(h.exception()), "std::runtime_error: oops");
        EXPECT_THROW((void)h.result(), std::runtime_error);
    }());
}

TEST(Task, NamesDefaultToTaskNAndCanBeSet) {
    vrun([]() -> Task<void> {
        auto a = corio::create_task(nothing());
        auto b = corio::create_task(nothing(), "fetcher");
        EXPECT_EQ(a.get_name().rfind("Task-", 0), 0u) << a.get_name();
        EXPECT_EQ(b.get_name(), "fetcher");
        a.set_name("renamed");
        EXPECT_EQ(a.get_name(), "renamed");
        co_await a;
        co_await b;
    }());
}

TEST(Task, DoneCallbacksRunThroughTheLoopNotInline) {
    vrun([]() -> Task<void> {
        std::vector<std::string> log;
        auto h = corio::create_task(answer());
        h.add_done_callback(
            [&](TaskHandle<int> t) { log.push_back("cb " + std::to_string(t.result())); });
        auto id = h.add_done_callback([&](TaskHandle<int>) { log.push_back("removed"); });
        EXPECT_EQ(h.remove_done_callback(id), 1u);
        EXPECT_EQ(h.remove_done_callback(id), 0u);
        co_await h;
        // As in asyncio, callbacks and awaiters are told in the order they
        // registered, each through the loop: the callback came first.
        log.push_back("awaited");
        EXPECT_EQ(log, (std::vector<std::string>{"cb 42", "awaited"}));
        // On a task already done, the callback still goes through call_soon.
        h.add_done_callback([&](TaskHandle<int>) { log.push_back("late"); });
        EXPECT_EQ(log.size(), 2u);
        co_await corio::sleep(0s);
        EXPECT_EQ(log.back(), "late");
        // Added before the task finishes, a callback is not run inline either.
        auto h2 = corio::create_task(answer());
        bool ran = false;
        h2.add_done_callback([&](TaskHandle<int>) { ran = true; });
        co_await corio::sleep(0s);  // h2 finishes in this iteration
        EXPECT_TRUE(h2.done());
        EXPECT_FALSE(ran);
        co_await corio::sleep(0s);
        EXPECT_TRUE(ran);
    }());
}

TEST(Task, ExceptionsFromDoneCallbacksReachTheExceptionHandler) {
    Reports reports;
    vrun(
        []() -> Task<void> {
            auto h = corio::create_task(nothing());
            h.add_done_callback([](TaskHandle<void>) { throw std::runtime_error("in callback"); });
            co_await h;
            co_await corio::sleep(0s);
        }(),
        &reports);
    ASSERT_EQ(reports.items.size(), 1u);
    EXPECT_EQ(corio::describe_exception(reports.items[0].exception),
              "std::runtime_error: in callback");
}

TEST(Task, CurrentTaskAndAllTasks) {
    EXPECT_THROW(corio::current_task(), corio::RuntimeError);
    EXPECT_THROW(corio::all_tasks(), corio::RuntimeError);
    vrun([]() -> Task<void> {
        TaskHandle<void> me = corio::current_task();
        CO_ASSERT_TRUE(me);
        EXPECT_EQ(me.get_name(), "main");
        auto a = corio::create_task(sleep_then(1ms, 1), "a");
        auto b = corio::create_task(sleep_then(2ms, 2), "b");
        auto all = corio::all_tasks();
        CO_ASSERT_EQ(all.size(), 3u);
        EXPECT_EQ(all[0].get_name(), "main");
        EXPECT_EQ(all[1].get_name(), "a");
        EXPECT_EQ(all[2].get_name(), "b");
        auto seen_inside = co_await corio::create_task(
            []() -> Task<std::string> { co_return corio::current_task().get_name(); }(), "inner");
        EXPECT_EQ(seen_inside, "inner");
        co_await a;
        co_await b;
        EXPECT_EQ(corio::all_tasks().size(), 1u);
    }());
}

TEST(Task, CurrentTaskIsEmptyInAPlainCallback) {
    corio::EventLoop loop(corio::LoopOptions{.virtual_time = true, .debug = false});
    bool empty = false;
    loop.call_soon([&] {
        empty = !corio::current_task();
        loop.stop();
    });
    loop.run_forever();
    EXPECT_TRUE(empty);
}

TEST(Task, UnretrievedExceptionIsReportedOnceWithTheTaskName) {
    Reports reports;
    vrun(
        []() -> Task<void> {
            (void)corio::create_task(fail("lost"), "forgotten");
            co_await corio::sleep(1ms);
        }(),
        &reports);
    ASSERT_EQ(reports.count("Task exception was never retrieved"), 1u);
    const auto& r = reports.items[0];
    EXPECT_EQ(r.task, "forgotten");
    EXPECT_NE(r.source.find("fail"), std::string::npos) << r.source;
    EXPECT_EQ(corio::describe_exception(r.exception), "std::runtime_error: lost");
}

TEST(Task, RetrievedExceptionIsNotReported) {
    vrun([]() -> Task<void> {
        auto h = corio::create_task(fail("seen"));
        EXPECT_THROW(co_await h, std::runtime_error);
    }());
}

TEST(Task, AwaitingATaskOfAnotherLoopThrows) {
    corio::EventLoop other(corio::LoopOptions{.virtual_time = true, .debug = false});
    TaskHandle<int> foreign = other.create_task(answer());
    vrun([](TaskHandle<int> f) -> Task<void> {
        EXPECT_THROW(co_await f, corio::RuntimeError);
    }(foreign));
    other.run_until_complete(foreign);
}

TEST(Task, ATaskCannotAwaitItself) {
    vrun([]() -> Task<void> {
        TaskHandle<void> me = corio::current_task();
        EXPECT_THROW(co_await me, corio::RuntimeError);
    }());
}

TEST(Task, CreateTaskOutsideALoopThrows) {
    EXPECT_THROW((void)corio::create_task(answer()), corio::RuntimeError);
    EXPECT_THROW((void)corio::sleep(-1ms), std::invalid_argument);
}

TEST(Task, SleepZeroYieldsToEveryReadyCallbackOnce) {
    vrun([]() -> Task<void> {
        std::vector<int> log;
        auto& loop = corio::get_running_loop();
        loop.call_soon([&] { log.push_back(1); });
        loop.call_soon([&] { loop.call_soon([&] { log.push_back(3); }); });
        co_await corio::sleep(0s);
        log.push_back(2);
        co_await corio::sleep(0s);
        EXPECT_EQ(log, (std::vector<int>{1, 2, 3}));
    }());
}

TEST(Task, SleepWithResultReturnsIt) {
    vrun([]() -> Task<void> {
        auto t0 = corio::get_running_loop().time();
        std::string s = co_await corio::sleep(3s, std::string("done"));
        EXPECT_EQ(s, "done");
        EXPECT_EQ(corio::get_running_loop().time() - t0, 3s);
    }());
}

TEST(Task, DestroyingAPendingTaskIsReported) {
    Reports reports;
    {
        corio::EventLoop loop(corio::LoopOptions{.virtual_time = true, .debug = false});
        corio_test::install_recorder(loop, &reports);
        auto h = loop.create_task(sleep_then(1h, 1), "stuck");
        loop.run_once(false);
        loop.close();
        EXPECT_TRUE(h.done());
        EXPECT_TRUE(h.cancelled());
    }
    ASSERT_EQ(reports.count("Task was destroyed but it is pending!"), 1u);
    EXPECT_EQ(reports.items[0].task, "stuck");
}

TEST(Task, DebugModeWarnsAboutCoroutinesNeverAwaited) {
    Reports reports;
    corio::EventLoop loop(corio::LoopOptions{.virtual_time = true, .debug = true});
    corio_test::install_recorder(loop, &reports);
    loop.call_soon([&] {
        { Task<int> unused = answer(); }
        loop.stop();
    });
    loop.run_forever();
    ASSERT_EQ(reports.count("coroutine 'answer' was never awaited"), 1u);
}

TEST(Task, SleepForDurationMaxSleepsUntilCancelled) {
    vrun([]() -> Task<void> {
        co_await corio::sleep(1s);
        auto sleeper = corio::create_task(
            []() -> Task<void> { co_await corio::sleep(corio::Duration::max()); }());
        co_await corio::sleep(1h);
        EXPECT_FALSE(sleeper.done());  // a virtual clock did not jump to the end of time
        sleeper.cancel();
        EXPECT_THROW(co_await sleeper, corio::CancelledError);
    }());
}

// Regression: these resumed a finished (or null) coroutine and crashed.
TEST(Task, AwaitingATaskTwiceRaisesCannotReuseAlreadyAwaitedCoroutine) {
    vrun([]() -> Task<void> {
        Task<int> t = answer();
        EXPECT_EQ(co_await t, 42);
        try {
            co_await t;
            ADD_FAILURE() << "awaited twice";
        } catch (const corio::RuntimeError& e) {
            EXPECT_NE(std::string(e.what()).find("cannot reuse already awaited coroutine"),
                      std::string::npos);
        }
    }());
}

TEST(Task, AwaitingATaskMovedIntoCreateTaskRaisesCannotReuse) {
    vrun([]() -> Task<void> {
        Task<int> t = answer();
        auto h = corio::create_task(std::move(t));
        EXPECT_THROW(co_await t, corio::RuntimeError);  // NOLINT(bugprone-use-after-move)
        EXPECT_EQ(co_await h, 42);
    }());
}

TEST(Task, RunningAnAwaitedTaskAgainRaisesCannotReuse) {
    Task<int> t = answer();
    EXPECT_EQ(vrun([](Task<int>& t) -> Task<int> { co_return co_await t; }(t)), 42);
    EXPECT_THROW(vrun(std::move(t)), corio::RuntimeError);
    EXPECT_THROW(corio::run(std::move(t)), corio::RuntimeError);
    vrun([](Task<int>& t) -> Task<void> {
        EXPECT_THROW(corio::create_task(std::move(t)), corio::RuntimeError);
        co_return;
    }(t));
}

TEST(TaskHandle, AnEmptyHandleRaisesInvalidStateErrorNamingTheCall) {
    TaskHandle<int> empty;
    EXPECT_FALSE(empty);
    try {
        (void)empty.done();
        ADD_FAILURE();
    } catch (const corio::InvalidStateError& e) {
        EXPECT_NE(std::string(e.what()).find("TaskHandle::done()"), std::string::npos);
    }
    EXPECT_THROW((void)empty.cancelled(), corio::InvalidStateError);
    EXPECT_THROW(empty.cancel(), corio::InvalidStateError);
    EXPECT_THROW((void)empty.result(), corio::InvalidStateError);
    EXPECT_THROW((void)empty.exception(), corio::InvalidStateError);
    EXPECT_THROW((void)empty.get_name(), corio::InvalidStateError);
    EXPECT_THROW(empty.add_done_callback([](TaskHandle<int>) {}), corio::InvalidStateError);
    vrun([](TaskHandle<int> h) -> Task<void> {
        EXPECT_THROW(co_await h, corio::InvalidStateError);
        co_return;
    }(empty));
}

TEST(EnsureFuture, WrapsACoroutineInATaskAndHandsTasksAndFuturesBackUnchanged) {
    vrun([]() -> Task<void> {
        TaskHandle<int> t = corio::ensure_future(answer());
        EXPECT_EQ(corio::ensure_future(t), t);
        corio::Future<int> f;
        EXPECT_TRUE(corio::ensure_future(f) == f);
        f.set_result(1);
        auto s = corio::ensure_future(corio::sleep(1s, 5));  // a plain awaitable: a task too
        EXPECT_EQ(co_await t, 42);
        EXPECT_EQ(co_await s, 5);
        EXPECT_THROW(corio::ensure_future(TaskHandle<int>()), std::invalid_argument);
    }());
    try {
        (void)corio::ensure_future(answer());
        ADD_FAILURE();
    } catch (const corio::RuntimeError& e) {
        EXPECT_STREQ(e.what(), "ensure_future(): no running event loop");
    }
}

// asyncio numbers only the tasks it does not name: Task-1, Task-2, ...
TEST(Task, NamedTasksDoNotAdvanceTheTaskNCounter) {
    vrun([]() -> Task<void> {
        auto first = corio::create_task(answer());
        auto named = corio::create_task(answer(), "named");
        auto second = corio::create_task(answer());
        int n1 = std::stoi(first.get_name().substr(5));
        EXPECT_EQ(second.get_name(), "Task-" + std::to_string(n1 + 1));
        co_await first;
        co_await named;
        co_await second;
    }());
}

// -- create_eager_task: the first step runs inside the call ----------------------

TEST(EagerTask, ACoroutineThatNeverSuspendsIsDoneOnReturn) {
    vrun([]() -> Task<void> {
        std::vector<int> order;
        auto h = corio::create_eager_task([](std::vector<int>& o) -> Task<int> {
            o.push_back(1);
            co_return 7;
        }(order));
        order.push_back(2);
        EXPECT_TRUE(h.done());
        EXPECT_EQ((std::vector<int>{1, 2}), order);
        EXPECT_EQ(h.result(), 7);
        EXPECT_EQ(co_await h, 7);
    }());
}

TEST(EagerTask, RunsUpToItsFirstSuspensionThenAsAnOrdinaryTask) {
    vrun([]() -> Task<void> {
        std::vector<int> order;
        auto h = corio::create_eager_task([](std::vector<int>& o) -> Task<int> {
            o.push_back(1);
            co_await corio::sleep(10ms);
            o.push_back(3);
            co_return 9;
        }(order));
        order.push_back(2);
        EXPECT_FALSE(h.done());
        EXPECT_EQ(co_await h, 9);
        EXPECT_EQ((std::vector<int>{1, 2, 3}), order);
    }());
}

TEST(EagerTask, TheCallersCurrentTaskAndContextComeBackAfterTheStep) {
    static corio::ContextVar<int> var("eager_var", 0);
    vrun([]() -> Task<void> {
        TaskHandle<void> me = corio::current_task();
        var.set(1);
        std::string inner_name;
        int inner_seen = -1;
        auto h = corio::create_eager_task(
            [](std::string& name, int& seen) -> Task<void> {
                name = corio::current_task().get_name();
                seen = var.get();
                var.set(2);  // its own copy of the context
                co_return;
            }(inner_name, inner_seen),
            "eager-one");
        EXPECT_EQ(inner_name, "eager-one");
        EXPECT_EQ(inner_seen, 1);
        EXPECT_EQ(var.get(), 1);
        EXPECT_EQ(corio::current_task().get_name(), me.get_name());
        co_await h;
    }());
}

TEST(EagerTask, AnExceptionBecomesTheTasksAndNothingEscapesTheCall) {
    vrun([]() -> Task<void> {
        TaskHandle<int> h;
        EXPECT_NO_THROW(h = corio::create_eager_task(fail("eager failure")));
        EXPECT_TRUE(h.done());
        try {
            co_await h;
            ADD_FAILURE() << "no exception";
        } catch (const std::runtime_error& e) {
            EXPECT_STREQ(e.what(), "eager failure");
        }
    }());
}

TEST(EagerTask, CancellingItWhileSuspendedCancelsIt) {
    vrun([]() -> Task<void> {
        auto h = corio::create_eager_task(sleep_then(1s, 1));
        EXPECT_FALSE(h.done());
        h.cancel();
        EXPECT_THROW(co_await h, corio::CancelledError);
        EXPECT_TRUE(h.cancelled());
    }());
}
