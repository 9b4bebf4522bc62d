#include "corio/graph.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "corio/corio.hpp"
#include "support/loop_fixture.hpp"

using namespace std::chrono_literals;
using corio::Task;
using corio::TaskHandle;
using corio::TaskInfo;
using corio_test::vrun;

namespace {

// The line of the co_await each coroutine is suspended at (same line).
int leaf_line = 0;
int middle_line = 0;
int outer_line = 0;

Task<int> leaf() {
    // clang-format off
    leaf_line = __LINE__; co_await corio::sleep(1h);
    // clang-format on
    co_return 1;
}
Task<int> middle() {
    // clang-format off
    middle_line = __LINE__; int v = co_await leaf();
    // clang-format on
    co_return v + 1;
}
Task<int> outer() {
    // clang-format off
    outer_line = __LINE__; int v = co_await middle();
    // clang-format on
    co_return v + 1;
}

std::string read_all(std::FILE* f) {
    std::rewind(f);
    std::string s;
    char buf[512];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, f)) {
        s.append(buf, n);
    }
    return s;
}

const TaskInfo* find(const corio::TaskDump& d, const std::string& name) {
    for (const TaskInfo& t : d.tasks) {
        if (t.name == name) {
            return &t;
        }
    }
    return nullptr;
}

bool awaited_by(const TaskInfo& t, const TaskInfo& waiter) {
    for (auto id : t.awaited_by) {
        if (id == waiter.id) {
            return true;
        }
    }
    return false;
}

}  // namespace

TEST(TaskGetStack, GivesTheAwaitChainOutermostFirstWithEachSuspendedCoAwait) {
    vrun([]() -> Task<void> {
        auto t = corio::create_task(outer(), "chain");
        EXPECT_TRUE(t.get_stack().empty());  // not started
        co_await corio::sleep(1s);
        std::vector<corio::FrameInfo> stack = t.get_stack();
        CO_ASSERT_EQ(stack.size(), 3u);
        EXPECT_EQ(stack[0].function, "outer");
        EXPECT_EQ(stack[1].function, "middle");
        EXPECT_EQ(stack[2].function, "leaf");
#if defined(CORIO_AWAIT_LOCATIONS)
        EXPECT_EQ(stack[0].line, static_cast<std::uint32_t>(outer_line));
        EXPECT_EQ(stack[1].line, static_cast<std::uint32_t>(middle_line));
        EXPECT_EQ(stack[2].line, static_cast<std::uint32_t>(leaf_line));
        EXPECT_NE(stack[2].file.find("graph_test.cpp"), std::string::npos) << stack[2].file;
#else
        EXPECT_TRUE(stack[2].file.empty());
#endif
        EXPECT_GT(stack[0].defined_at, 0u);
        t.cancel();
        EXPECT_THROW(co_await t, corio::CancelledError);
        EXPECT_TRUE(t.get_stack().empty());  // done
    }());
}

TEST(TaskGetStack, AnAsyncGeneratorRunningInsideATaskIsAFrameOfItsChain) {
    vrun([]() -> Task<void> {
        auto t = corio::create_task([]() -> Task<void> {
            auto gen = []() -> corio::AsyncGenerator<int> {
                co_await corio::sleep(1h);
                co_yield 1;
            }();
            co_await gen.next();
        }());
        co_await corio::sleep(1s);
        std::vector<corio::FrameInfo> stack = t.get_stack();
        EXPECT_EQ(stack.size(), 2u);  // the task's lambda, then the generator's
        t.cancel();
        EXPECT_THROW(co_await t, corio::CancelledError);
    }());
}

// A task that starts an eager task is still inside its own step while the
// eager one's first step runs: it counts as running, and its chain (where
// its last suspension was, in a frame since finished) is not read.
Task<int> finished_frame() {
    co_await corio::sleep(1s);
    co_return 1;
}

Task<void> creator(std::vector<corio::FrameInfo>& seen, std::string& state) {
    co_await finished_frame();  // resumed from here; that frame is gone now
    TaskHandle<void> me = corio::current_task();
    auto probe =
        corio::create_eager_task([](TaskHandle<void> creator, std::vector<corio::FrameInfo>& seen,
                                    std::string& state) -> Task<void> {
            seen = creator.get_stack();
            const corio::TaskDump dump = corio::capture_tasks();
            const TaskInfo* info = find(dump, "creator");
            state = info != nullptr ? info->state : "missing";
            co_return;
        }(me, seen, state));
    co_await probe;
}

TEST(TaskGetStack, ATaskStartingAnEagerTaskIsRunningMeanwhile) {
    vrun([]() -> Task<void> {
        std::vector<corio::FrameInfo> seen(1);
        std::string state;
        co_await corio::create_task(creator(seen, state), "creator");
        EXPECT_TRUE(seen.empty());
        EXPECT_EQ(state, "running");
    }());
}

TEST(TaskPrintStack, WritesTheStackAsPythonsTracebackDoes) {
    vrun([]() -> Task<void> {
        auto t = corio::create_task(outer(), "printed");
        co_await corio::sleep(1s);
        std::FILE* f = std::tmpfile();
        t.print_stack(f);
        std::string text = read_all(f);
        std::fclose(f);
        EXPECT_EQ(text.rfind("Stack for Task 'printed' (waiting) (most recent call last):\n", 0),
                  0u)
            << text;
#if defined(CORIO_AWAIT_LOCATIONS)
        EXPECT_NE(text.find("graph_test.cpp\", line " + std::to_string(leaf_line) + ", in leaf"),
                  std::string::npos)
            << text;
#else
        EXPECT_NE(text.find("  leaf(), defined at line"), std::string::npos) << text;
#endif
        t.cancel();
        EXPECT_THROW(co_await t, corio::CancelledError);
    }());
}

// python -m asyncio ps / pstree: what each task awaits and who awaits it.
TEST(CaptureTasks, ShowsWhatEachTaskAwaitsAndWhoWaitsForIt) {
    corio::TaskDump dump;
    vrun([](corio::TaskDump& d) -> Task<void> {
        corio::get_running_loop().call_later(1s, [&d] { d = corio::capture_tasks(); });
        auto a = corio::create_task(
            []() -> Task<void> {
                co_await corio::gather(corio::create_task(leaf(), "b"),
                                       corio::create_task(leaf(), "c"));
            }(),
            "a");
        auto p = corio::create_task(
            []() -> Task<void> {
                co_await corio::task_group([](corio::TaskGroup& tg) -> Task<void> {
                    tg.create_task(leaf(), "d");
                    co_return;
                });
            }(),
            "p");
        co_await corio::sleep(2s);
        a.cancel();
        p.cancel();
        co_await corio::wait(a, p);
    }(dump));
    const TaskInfo* main = find(dump, "main");
    const TaskInfo* a = find(dump, "a");
    const TaskInfo* b = find(dump, "b");
    const TaskInfo* c = find(dump, "c");
    const TaskInfo* p = find(dump, "p");
    const TaskInfo* d = find(dump, "d");
    ASSERT_TRUE(main && a && b && c && p && d);
    EXPECT_EQ(main->state, "waiting");
    EXPECT_EQ(main->awaiting.rfind("sleep, ", 0), 0u) << main->awaiting;
    EXPECT_EQ(a->awaiting, "gather()");
    EXPECT_TRUE(awaited_by(*b, *a));  // through the gather
    EXPECT_TRUE(awaited_by(*c, *a));
    EXPECT_EQ(p->awaiting, "TaskGroup of 1");
    EXPECT_TRUE(awaited_by(*d, *p));  // its TaskGroup's parent
    EXPECT_EQ(b->stack.back().function, "leaf");
    EXPECT_TRUE(dump.notes.empty());

    std::string tree = corio::format_task_tree(dump);
    auto indent_of = [&](const std::string& what) {
        std::size_t at = tree.find(what);
        std::size_t start = tree.rfind('\n', at);
        return at - (start == std::string::npos ? 0 : start + 1);
    };
    ASSERT_NE(tree.find("(T) a"), std::string::npos) << tree;
    EXPECT_GT(indent_of("(T) b"), indent_of("(T) a")) << tree;
    EXPECT_GT(indent_of("(T) d"), indent_of("(T) p")) << tree;
    std::string table = corio::format_task_table(dump);
    EXPECT_EQ(table.rfind("thread", 0), 0u) << table;
    EXPECT_NE(table.find("join -> task_group -> operator()"), std::string::npos)
        << table;  // innermost first, as ps shows it
}

TEST(CaptureTasks, AsksALoopRunningOnAnotherThreadAndNotesAnIdleOne) {
    corio::EventLoop busy;  // real time: runs in a thread of its own
    auto t = busy.create_task(leaf(), "elsewhere");
    bool cancelled = false;
    std::thread runner([&] {
        try {
            busy.run_until_complete(t);
        } catch (const corio::CancelledError&) {
            cancelled = true;
        }
    });
    corio::EventLoop idle;  // alive on this thread, not running
    std::thread asker([&] {
        corio::TaskDump dump;
        // Ask until the busy loop has started its task (it answers each time).
        do {
            dump = corio::capture_tasks(5s);
        } while (find(dump, "elsewhere") == nullptr || find(dump, "elsewhere")->state != "waiting");
        const TaskInfo* info = find(dump, "elsewhere");
        EXPECT_NE(info->thread, 0);
        EXPECT_EQ(info->stack.back().function, "leaf");
        bool noted = false;
        for (const std::string& n : dump.notes) {
            noted = noted || n.find("idle on another thread") != std::string::npos;
        }
        EXPECT_TRUE(noted);       // `idle`
        EXPECT_TRUE(t.cancel());  // posted to the busy loop's thread
    });
    asker.join();
    runner.join();
    EXPECT_TRUE(cancelled);
}

TEST(DumpTasksOnSignal, ASignalWritesTheTableAndTreeWithoutStoppingTheProgram) {
    EXPECT_THROW(corio::dump_tasks_on_signal(SIGKILL), std::invalid_argument);
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    int saved_stderr = ::dup(2);
    ::dup2(fds[1], 2);
    corio::dump_tasks_on_signal(SIGUSR2);
    corio::EventLoop loop;  // runs in another thread, as a program's would
    auto t = loop.create_task(leaf(), "dumped");
    std::thread runner([&] {
        try {
            loop.run_until_complete(t);
        } catch (const corio::CancelledError&) {
        }
    });
    std::string out;
    // Raise until a dump shows the task started (the first may come early).
    while (out.find("(T) dumped  [sleep") == std::string::npos) {
        ::raise(SIGUSR2);
        char buf[4096];
        ssize_t n = ::read(fds[0], buf, sizeof buf);  // blocks until the dumper writes
        ASSERT_GT(n, 0);
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::dup2(saved_stderr, 2);
    ::close(saved_stderr);
    t.cancel();
    runner.join();
    ::close(fds[0]);
    ::close(fds[1]);
    EXPECT_NE(out.find("task name"), std::string::npos) << out;  // the table's header
}
