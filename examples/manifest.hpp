// examples/manifest.hpp - every example, in tour order. The tour runs them
// in this order; tests/examples runs each and compares its output with
// tests/examples/expected/<name>.txt.
#pragma once

namespace example {

/// How tests/examples runs an example.
enum class Timing {
    /// With CORIO_VIRTUAL_TIME=1: the loop's clock jumps to its next timer
    /// when idle, and blocking_sleep()/Stopwatch (support/clock.hpp) use a
    /// virtual counter, so the times the example prints are exact.
    virtual_time,
    /// On real time, with real sleeps: for examples whose concurrency comes
    /// from threads, which one virtual counter cannot model (sleeps in
    /// several threads overlap; the loop's clock stands still while executor
    /// work is outstanding). The test checks the run's wall time against
    /// `seconds`, and expected files match printed times with "~ " regexes.
    real_time,
};

struct Entry {
    const char* dir;    // subdirectory of examples/ (the layer)
    const char* name;   // file stem = executable name
    const char* title;  // what it shows
    const char* seed;   // the tutorial example it mirrors
    Timing timing = Timing::virtual_time;
    double seconds = 0;  // real_time: how long a run takes on an idle machine
};

inline constexpr Timing real_time = Timing::real_time;

inline constexpr Entry kTour[] = {
    // What asynchronous means: the synchronous baselines, then the same work with asyncio.
    {"core", "single_thread_order", "one thread runs its code strictly in order",
     "002_cbb7449e0a76d1e6.txt, 四(2) 实现单线程 (S002-01)"},
    {"core", "sync_vs_async_sync", "synchronous baseline: two 2 s jobs take 4 s",
     "003_f0e0edc5776dec87.txt, sync.py (S003-02)"},
    {"core", "sync_vs_async_async", "the same two jobs with asyncio.gather take 2 s",
     "003_f0e0edc5776dec87.txt, async.py (S003-01)"},
    {"core", "sync_vs_async_loop", "the same, driven by an explicit loop's run_until_complete",
     "003_f0e0edc5776dec87.txt, async_loop.py (S003-03)"},
    {"core", "order_flow", "an order's response time: every step on the path, or core steps only",
     "000_fabe7f21df4d4745.txt, 异步的核心思路 (prose and flow charts, no code)"},

    // Where coroutines come from: generators, yield from, send, greenlets.
    {"core", "yield_vs_yield_from", "a generator pauses at each yield; yield from delegates",
     "000_fabe7f21df4d4745.txt, 通过 yield 实现协程 (S000-02)"},
    {"core", "yield_from_iterables", "yield from an iterable is a loop of yields",
     "002_cbb7449e0a76d1e6.txt, 六(2) 2、yield from (S002-07)"},
    {"core", "generator_chain", "yield from a sub-generator: values in call-chain order",
     "001_15107cb9a7a7dcdc.txt, yield关键字实现 (S001-02)"},
    {"core", "generator_delegation",
     "send() reaches the sub-generator; its return value comes back",
     "002_cbb7449e0a76d1e6.txt, 六(2) 2、yield from averager/grouper (S002-08)"},
    {"core", "producer_consumer_send", "producer and consumer take turns through yield and send",
     "004_b914fa7585a194c4.txt, generator (S004-01)"},
    {"core", "greenlet_switch", "explicit switches between two coroutines in one thread",
     "001_15107cb9a7a7dcdc.txt, greenlet实现 (S001-01)"},
    {"core", "sleeping_loop", "a hand-made event loop: resume coroutines in wake-up order",
     "002_cbb7449e0a76d1e6.txt, 将 async/await 看做异步编程的 API (S002-11)"},

    // asyncio basics: coroutines, the loop, await.
    {"core", "event_loop_pseudocode",
     "the event loop: run what is ready, skip what waits, drop what is done",
     "seed 001, asyncio详解 › 事件循环, pseudocode (S001-05)"},
    {"core", "coroutine_object", "calling a coroutine runs nothing; a loop runs it, once",
     "001_15107cb9a7a7dcdc.txt, 快速上手 / 执行协程对象 (S001-07, S001-08)"},
    {"core", "run_until_complete", "the simplest coroutine, run by get_event_loop()",
     "000_fabe7f21df4d4745.txt, 最简单的实例代码 (S000-04)"},
    {"core", "run_until_complete_task", "run_until_complete(task) runs the loop until it is done",
     "seed 001, asyncio详解 › 事件循环 (S001-06)"},
    {"core", "hello_world", "while hello() sleeps, the thread is back in the loop",
     "004_b914fa7585a194c4.txt, asyncio Hello world / async-await (S004-02, S004-05)"},
    {"core", "await_sleep", "await suspends the coroutine and resumes it 2 s later",
     "001_15107cb9a7a7dcdc.txt, await 关键字 示例1 (S001-09)"},
    {"core", "await_result", "awaiting a coroutine gives back its return value",
     "001_15107cb9a7a7dcdc.txt, await 关键字 示例2 (S001-10)"},
    {"core", "await_serial", "two awaits in a row run one after the other: 4 s",
     "001_15107cb9a7a7dcdc.txt, await 关键字 示例3 (S001-11)"},
    {"core", "sequential_await", "awaiting a 2 s then a 1 s coroutine: 3 s",
     "002_cbb7449e0a76d1e6.txt, 简单顺序执行 (S002-30)"},
    {"core", "gather_concurrent", "gather runs them concurrently: 2 s",
     "002_cbb7449e0a76d1e6.txt, 简单并发执行 (S002-31)"},

    // Tasks.
    {"core", "named_task", "a task named at create_task: get_name(), set_name(), its repr",
     "seed 001, Task 对象 (S001-12)"},
    {"core", "create_task_vs_ensure_future",
     "a coroutine declared; create_task wraps it, ensure_future also passes tasks through",
     "seed 002, 原生协程 (S002-10) and 七(3) Future对象 (S002-12)"},
    {"core", "create_task_concurrent", "tasks start at once, so awaiting them in turn overlaps",
     "001_15107cb9a7a7dcdc.txt, Task 对象 示例1 (S001-13)"},
    {"core", "say_after", "awaited directly: 3 s; as tasks: 2 s",
     "002_cbb7449e0a76d1e6.txt, 八 三种运行方式 (S002-15)"},
    {"core", "ensure_future_wait", "tasks made before the loop runs, then wait(): 2 s",
     "001_15107cb9a7a7dcdc.txt, asyncio 装饰器 / async-await (S001-03, S001-04)"},
    {"core", "countdown_wait", "two countdowns interleave at each sleep",
     "002_cbb7449e0a76d1e6.txt, 六(2) 3、asyncio框架 (S002-09)"},
    {"core", "print_sum_tasks", "three tasks with nested awaits finish in 2 s",
     "002_cbb7449e0a76d1e6.txt, 七(3) Task对象 例子 (S002-14)"},
    {"core", "same_thread", "the coroutines interleave on the main thread",
     "004_b914fa7585a194c4.txt, 两个hello并发 (S004-03)"},
    {"core", "create_task_without_loop", "a task needs a running loop",
     "001_15107cb9a7a7dcdc.txt, Task 对象 示例3 (S001-15)"},

    // Waiting for several tasks.
    {"core", "run_wait", "run(wait(...)): the tasks run concurrently",
     "001_15107cb9a7a7dcdc.txt, Task 对象 示例4 (S001-16)"},
    {"core", "wait_done_set", "wait() returns the done and the pending tasks",
     "001_15107cb9a7a7dcdc.txt, Task 对象 示例2 (S001-14)"},
    {"core", "wait_return_when", "FIRST_COMPLETED (1 s), ALL_COMPLETED (3 s), timeout (2 s)",
     "002_cbb7449e0a76d1e6.txt, 八 2. asyncio.wait (S002-17)"},
    {"core", "as_completed_order", "as_completed gives results in finishing order",
     "002_cbb7449e0a76d1e6.txt, 八 3. asyncio.as_completed (S002-18)"},
    {"core", "gather_return_exceptions", "gather: exceptions as results, or the first one raised",
     "002_cbb7449e0a76d1e6.txt, 八 1. asyncio.gather (S002-16)"},
    {"core", "task_exception", "a task's exception is kept until result() or exception()",
     "002_cbb7449e0a76d1e6.txt, 七(3) Future对象 (S002-13)"},
    {"core", "done_callback", "a done callback gets the finished task",
     "002_cbb7449e0a76d1e6.txt, 八 回调 (S002-19)"},

    // Futures and async context managers.
    {"core", "future_never_set", "a future nobody sets is awaited forever (here: 3 s)",
     "001_15107cb9a7a7dcdc.txt, future 对象 示例1 (S001-17)"},
    {"core", "future_set_by_task", "a task sets a future's result; the awaiter wakes",
     "001_15107cb9a7a7dcdc.txt, future 对象 示例2 (S001-18)"},
    {"core", "async_context_manager", "async with: awaited set-up and tear-down around a block",
     "001_15107cb9a7a7dcdc.txt, 异步上下文管理器 (S001-23)"},
    {"core", "async_iterator", "async for: a class with an awaitable next()",
     "001_15107cb9a7a7dcdc.txt, 异步迭代器 (S001-22)"},
    {"core", "async_generator", "async for over an async generator: it awaits and yields",
     "001_15107cb9a7a7dcdc.txt, 异步迭代器 (S001-22), as an async generator"},

    // Timeouts and shielding (the Python documentation's examples; the seeds only name them).
    {"core", "wait_for_timeout", "wait_for cancels what overruns and raises TimeoutError",
     "Python docs, Coroutines and Tasks › Timeouts › asyncio.wait_for"},
    {"core", "timeout_scope",
     "asyncio.timeout(): the TimeoutError it raises names the CancelledError that caused it",
     "Python docs, Coroutines and Tasks › Timeouts › asyncio.timeout"},
    {"core", "shield_inner_keeps_running",
     "a cancelled caller of shield(task) stops; the task goes on and its result is kept",
     "Python docs, Coroutines and Tasks › Shielding From Cancellation"},

    // Threads: blocking code in other threads, and loops running in other threads.
    {"threads", "timer_threads", "two threads sleep and print at once (shortened five times)",
     "000_fabe7f21df4d4745.txt, 通过 threading.Thread 实现 (S000-01)", real_time, 4.0},
    {"threads", "thread_output_mixed", "a thread and the main thread print in a mixed order",
     "002_cbb7449e0a76d1e6.txt, 四(3) 实现多线程 实例1 (S002-02)", real_time, 0.0},
    {"threads", "thread_sleep_first", "a sleep blocks only its own thread",
     "002_cbb7449e0a76d1e6.txt, 四(3) 实现多线程 实例2 (S002-03)", real_time, 1.0},
    {"threads", "thread_pool_result", "ThreadPoolExecutor: submit, then block on result()",
     "002_cbb7449e0a76d1e6.txt, 五(2) 实现线程池 (S002-05)", real_time, 0.0},
    {"threads", "thread_pool_submit", "submit returns a future at once; five 1 s calls take 1 s",
     "001_15107cb9a7a7dcdc.txt, concurrent.future.Future 对象 (S001-19)", real_time, 1.0},
    {"threads", "run_in_default_executor", "run_in_executor(None, f): await a blocking call",
     "001_15107cb9a7a7dcdc.txt, 线程池与协程交叉使用 (S001-20)", real_time, 2.0},
    {"threads", "run_in_thread_pool", "six 0.1 s calls on three threads, awaited together: 0.2 s",
     "002_cbb7449e0a76d1e6.txt, 八 方法四 run_in_executor (S002-24)", real_time, 0.2},
    {"threads", "run_in_child_thread", "asyncio.run in a child thread beside the main thread",
     "002_cbb7449e0a76d1e6.txt, 八 方法一 子线程中运行异步代码 (S002-21)", real_time, 4.0},
    {"threads", "loop_thread_call_soon",
     "call_soon_threadsafe hands functions to a loop in another thread",
     "000_fabe7f21df4d4745.txt, 动态添加协程--同步方式 (S000-05)", real_time, 0.0},
    {"threads", "loop_thread_blocking_callbacks", "blocking callbacks stall the loop's thread only",
     "002_cbb7449e0a76d1e6.txt, 八 方法二 call_soon_threadsafe (S002-22)", real_time, 4.0},
    {"threads", "loop_thread_run_coroutine",
     "run_coroutine_threadsafe, and blocking on its future's result()",
     "000_fabe7f21df4d4745.txt, 动态添加协程--异步方式 (S000-06)", real_time, 2.0},
    {"threads", "loop_thread_submit_coroutines",
     "coroutines from another thread join a loop's tasks",
     "002_cbb7449e0a76d1e6.txt, 八 方法三 run_coroutine_threadsafe (S002-23)", real_time, 4.0},

    // Producer and consumer: through a deque between threads, then an asyncio.Queue between tasks.
    {"threads", "deque_producer_consumer", "a deque between threads feeds coroutines to a loop",
     "000_fabe7f21df4d4745.txt, 生产-消费模型（基于Python 内置双向队列） (S000-07)", real_time,
     4.0},
    {"core", "queue_producer_consumer", "asyncio.Queue: producers, consumers, join, cancel",
     "002_cbb7449e0a76d1e6.txt, 八 队列 (S002-20)"},

    // Networking: real loopback sockets and child processes (corio::net).
    {"net", "echo_server_client", "a TCP echo server and its client, with streams, in one program",
     "Python docs, Streams › TCP echo client/server using streams", real_time, 0.0},
    {"net", "chat_server", "a line-based chat server broadcasts each client's lines to the others",
     "issue 4 (networking examples)", real_time, 0.0},
    {"net", "port_scanner", "a port scanner: gather, a Semaphore (10 at a time), wait_for",
     "issue 4 (networking examples)", real_time, 0.0},
    {"net", "subprocess_pipeline",
     "a pipeline of child processes: words | sort | uniq -c | sort -rn, with communicate()",
     "issue 4 (networking examples); Python docs, Subprocesses", real_time, 0.0},
    {"net", "loop_per_core",
     "one echo port served by a loop on each of 2 threads (LoopGroup, SO_REUSEPORT)",
     "issue 10 (loops on many threads); aiohttp's one process per core with reuse_port", real_time,
     0.0},
    {"net", "uvloop_backend",
     "one line picks the loop's kernel interface, epoll or io_uring, as uvloop's policy does",
     "001_15107cb9a7a7dcdc.txt, 其他 › uvloop (S001-24)", real_time, 0.0},

    // Redis (corio::redis): run here on WorkQueue's in-process backend, on a
    // server with CORIO_QUEUE_URL=redis://...
    {"redis", "work_queue_thread_consumer",
     "a work queue feeds coroutines to a loop in another thread (in-process or on Redis)",
     "seed 000, 基于 Redis 队列的生产-消费模型 (S000-08)", real_time, 2.0},
};

/// A tutorial example with nothing to run (a syntax rule): a section of
/// docs/asyncio-mapping.md covers it, and the tour names it at the end.
struct DocNote {
    const char* seed;   // the tutorial example
    const char* what;   // what it says
    const char* where;  // where the docs answer it
};

inline constexpr DocNote kDocNotes[] = {
    {"seed 000, 通过异步io asyncio 实现 (S000-03)",
     "@asyncio.coroutine --> async def, yield from --> await",
     "docs/asyncio-mapping.md, \"Generator-based coroutines\" (programs: hello_world, "
     "ensure_future_wait)"},
    {"seed 004, async/await (S004-04)",
     "replace @asyncio.coroutine with async and yield from with await",
     "docs/asyncio-mapping.md, \"Generator-based coroutines\" (programs: hello_world, "
     "ensure_future_wait)"},
};

}  // namespace example
