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
    const char* title;  // what it shows; "[baseline, no corio]" for plain C++ programs
    const char* seed;   // the tutorial example it mirrors
    Timing timing = Timing::virtual_time;
    double seconds = 0;  // real_time: how long a run takes on an idle machine
    /// Needs a Redis server named by REDIS_URL: scripts/tour.sh starts one;
    /// without it the tour says so and goes on (tests/redis runs these).
    bool needs_redis = false;
    /// Needs a RabbitMQ server named by AMQP_URL: scripts/tour.sh starts
    /// one; without it the tour says so and goes on (tests/amqp runs these).
    bool needs_rabbitmq = false;
    /// Needs a database server (the tour says so and goes on without one;
    /// tests/sql runs these): "mariadb", named by MYSQL_HOST/MYSQL_PORT/
    /// MYSQL_USER/MYSQL_PASSWORD/MYSQL_DB, or "postgres", named by
    /// DATABASE_URL. scripts/tour.sh starts both when it can.
    const char* needs_db = nullptr;
};

inline constexpr Timing real_time = Timing::real_time;

inline constexpr Entry kTour[] = {
    // What asynchronous means: the synchronous baselines, then the same work with asyncio.
    {"core", "single_thread_order",
     "[baseline, no corio] one thread runs its code strictly in order",
     "《Python中线程、进程与异步的介绍和实现》 › 四(2) 实现单线程"},
    {"core", "sync_vs_async_sync",
     "[baseline, no corio] two 2 s jobs, one after the other, take 4 s",
     "《AsyncIO实现Python异步并发》 › sync.py"},
    {"core", "sync_vs_async_async", "the same two jobs with asyncio.gather take 2 s",
     "《AsyncIO实现Python异步并发》 › async.py"},
    {"core", "sync_vs_async_loop", "the same, driven by an explicit loop's run_until_complete",
     "《AsyncIO实现Python异步并发》 › async_loop.py"},
    {"core", "order_flow", "an order's response time: every step on the path, or core steps only",
     "《python进阶之异步编程（基础篇）》 › 异步的核心思路 (prose and flow charts, no code)"},

    // Where coroutines come from: generators, yield from, send, greenlets.
    {"core", "yield_vs_yield_from",
     "[baseline, no corio] a generator pauses at each yield; yield from delegates",
     "《python进阶之异步编程（基础篇）》 › 通过 yield 实现协程"},
    {"core", "yield_from_iterables",
     "[baseline, no corio] yield from an iterable is a loop of yields",
     "《Python中线程、进程与异步的介绍和实现》 › 六(2) 2、yield from"},
    {"core", "generator_chain",
     "[baseline, no corio] yield from a sub-generator: values in call-chain order",
     "《异步编程》 › yield关键字实现"},
    {"core", "generator_delegation",
     "[baseline, no corio] send() reaches the sub-generator; its return value comes back",
     "《Python中线程、进程与异步的介绍和实现》 › 六(2) 2、yield from averager/grouper"},
    {"core", "producer_consumer_send",
     "[baseline, no corio] producer and consumer take turns through yield and send",
     "《异步，并发，协程（旧版本折叠）》 › generator"},
    {"core", "greenlet_switch",
     "[baseline, no corio] explicit switches between two coroutines in one thread",
     "《异步编程》 › greenlet实现"},
    {"core", "sleeping_loop",
     "[baseline, no corio] a hand-made event loop: resume coroutines in wake-up order",
     "《Python中线程、进程与异步的介绍和实现》 › 将 async/await 看做异步编程的 API"},

    // asyncio basics: coroutines, the loop, await.
    {"core", "event_loop_pseudocode",
     "the event loop: run what is ready, skip what waits, drop what is done",
     "《异步编程》 › asyncio详解 › 事件循环, pseudocode"},
    {"core", "coroutine_object", "calling a coroutine runs nothing; a loop runs it, once",
     "《异步编程》 › 快速上手 / 执行协程对象"},
    {"core", "run_until_complete", "the simplest coroutine, run by get_event_loop()",
     "《python进阶之异步编程（基础篇）》 › 最简单的实例代码"},
    {"core", "run_until_complete_task", "run_until_complete(task) runs the loop until it is done",
     "《异步编程》 › asyncio详解 › 事件循环"},
    {"core", "hello_world", "while hello() sleeps, the thread is back in the loop",
     "《异步，并发，协程（旧版本折叠）》 › asyncio Hello world / async-await"},
    {"core", "await_sleep", "await suspends the coroutine and resumes it 2 s later",
     "《异步编程》 › await 关键字 示例1"},
    {"core", "await_result", "awaiting a coroutine gives back its return value",
     "《异步编程》 › await 关键字 示例2"},
    {"core", "await_serial", "two awaits in a row run one after the other: 4 s",
     "《异步编程》 › await 关键字 示例3"},
    {"core", "sequential_await", "awaiting a 2 s then a 1 s coroutine: 3 s",
     "《Python中线程、进程与异步的介绍和实现》 › 简单顺序执行"},
    {"core", "gather_concurrent", "gather runs them concurrently: 2 s",
     "《Python中线程、进程与异步的介绍和实现》 › 简单并发执行"},

    // Tasks.
    {"core", "named_task", "a task named at create_task: get_name(), set_name(), its repr",
     "《异步编程》 › Task 对象"},
    {"core", "create_task_vs_ensure_future",
     "a coroutine declared; create_task wraps it, ensure_future also passes tasks through",
     "《Python中线程、进程与异步的介绍和实现》 › 原生协程 and 七(3) Future对象"},
    {"core", "create_task_concurrent", "tasks start at once, so awaiting them in turn overlaps",
     "《异步编程》 › Task 对象 示例1"},
    {"core", "eager_task",
     "create_eager_task runs the body inside the call: done at once when it never suspends",
     "《异步编程》 › Task 对象"},
    {"core", "say_after", "awaited directly: 3 s; as tasks: 2 s",
     "《Python中线程、进程与异步的介绍和实现》 › 八 三种运行方式"},
    {"core", "ensure_future_wait", "tasks made before the loop runs, then wait(): 2 s",
     "《异步编程》 › asyncio 装饰器 / async-await"},
    {"core", "countdown_wait", "two countdowns interleave at each sleep",
     "《Python中线程、进程与异步的介绍和实现》 › 六(2) 3、asyncio框架"},
    {"core", "print_sum_tasks", "three tasks with nested awaits finish in 2 s",
     "《Python中线程、进程与异步的介绍和实现》 › 七(3) Task对象 例子"},
    {"core", "same_thread", "the coroutines interleave on the main thread",
     "《异步，并发，协程（旧版本折叠）》 › 两个hello并发"},
    {"core", "create_task_without_loop", "a task needs a running loop",
     "《异步编程》 › Task 对象 示例3"},

    // Waiting for several tasks.
    {"core", "run_wait", "run(wait(...)): the tasks run concurrently",
     "《异步编程》 › Task 对象 示例4"},
    {"core", "wait_done_set", "wait() returns the done and the pending tasks",
     "《异步编程》 › Task 对象 示例2"},
    {"core", "wait_return_when", "FIRST_COMPLETED (1 s), ALL_COMPLETED (3 s), timeout (2 s)",
     "《Python中线程、进程与异步的介绍和实现》 › 八 2. asyncio.wait"},
    {"core", "as_completed_order", "as_completed gives results in finishing order",
     "《Python中线程、进程与异步的介绍和实现》 › 八 3. asyncio.as_completed"},
    {"core", "gather_return_exceptions", "gather: exceptions as results, or the first one raised",
     "《Python中线程、进程与异步的介绍和实现》 › 八 1. asyncio.gather"},
    {"core", "task_exception", "a task's exception is kept until result() or exception()",
     "《Python中线程、进程与异步的介绍和实现》 › 七(3) Future对象"},
    {"core", "done_callback", "a done callback gets the finished task",
     "《Python中线程、进程与异步的介绍和实现》 › 八 回调"},

    // Futures and async context managers.
    {"core", "future_never_set", "a future nobody sets is awaited forever (here: 3 s)",
     "《异步编程》 › future 对象 示例1"},
    {"core", "future_set_by_task", "a task sets a future's result; the awaiter wakes",
     "《异步编程》 › future 对象 示例2"},
    {"core", "async_context_manager", "async with: awaited set-up and tear-down around a block",
     "《异步编程》 › 异步上下文管理器"},
    {"core", "async_iterator", "async for: a class with an awaitable next()",
     "《异步编程》 › 异步迭代器"},
    {"core", "async_generator", "async for over an async generator: it awaits and yields",
     "《异步编程》 › 异步迭代器, as an async generator"},

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
    {"threads", "timer_threads",
     "[baseline, no corio] two threads sleep and print at once (shortened five times)",
     "《python进阶之异步编程（基础篇）》 › 通过 threading.Thread 实现", real_time, 4.0},
    {"threads", "thread_output_mixed",
     "[baseline, no corio] a thread and the main thread print in a mixed order",
     "《Python中线程、进程与异步的介绍和实现》 › 四(3) 实现多线程 实例1", real_time, 0.0},
    {"threads", "thread_sleep_first", "[baseline, no corio] a sleep blocks only its own thread",
     "《Python中线程、进程与异步的介绍和实现》 › 四(3) 实现多线程 实例2", real_time, 1.0},
    {"threads", "thread_pool_result", "ThreadPoolExecutor: submit, then block on result()",
     "《Python中线程、进程与异步的介绍和实现》 › 五(2) 实现线程池", real_time, 0.0},
    {"threads", "thread_pool_submit", "submit returns a future at once; five 1 s calls take 1 s",
     "《异步编程》 › concurrent.future.Future 对象", real_time, 1.0},
    {"threads", "run_in_default_executor", "run_in_executor(None, f): await a blocking call",
     "《异步编程》 › 线程池与协程交叉使用", real_time, 2.0},
    {"threads", "run_in_thread_pool", "six 0.1 s calls on three threads, awaited together: 0.2 s",
     "《Python中线程、进程与异步的介绍和实现》 › 八 方法四 run_in_executor", real_time, 0.2},
    {"threads", "run_in_child_thread", "asyncio.run in a child thread beside the main thread",
     "《Python中线程、进程与异步的介绍和实现》 › 八 方法一 子线程中运行异步代码", real_time, 4.0},
    {"threads", "loop_thread_call_soon",
     "call_soon_threadsafe hands functions to a loop in another thread",
     "《python进阶之异步编程（基础篇）》 › 动态添加协程--同步方式", real_time, 0.0},
    {"threads", "loop_thread_blocking_callbacks", "blocking callbacks stall the loop's thread only",
     "《Python中线程、进程与异步的介绍和实现》 › 八 方法二 call_soon_threadsafe", real_time, 4.0},
    {"threads", "loop_thread_run_coroutine",
     "run_coroutine_threadsafe, and blocking on its future's result()",
     "《python进阶之异步编程（基础篇）》 › 动态添加协程--异步方式", real_time, 2.0},
    {"threads", "loop_thread_submit_coroutines",
     "coroutines from another thread join a loop's tasks",
     "《Python中线程、进程与异步的介绍和实现》 › 八 方法三 run_coroutine_threadsafe", real_time,
     4.0},

    // Producer and consumer: through a deque between threads, then an asyncio.Queue between tasks.
    {"threads", "deque_producer_consumer", "a deque between threads feeds coroutines to a loop",
     "《python进阶之异步编程（基础篇）》 › 生产-消费模型（基于Python 内置双向队列）", real_time,
     4.0},
    {"core", "queue_producer_consumer", "asyncio.Queue: producers, consumers, join, cancel",
     "《Python中线程、进程与异步的介绍和实现》 › 八 队列"},

    // Networking: real loopback sockets and child processes (corio::net).
    {"net", "echo_server_client", "a TCP echo server and its client, with streams, in one program",
     "Python docs, Streams › TCP echo client/server using streams", real_time, 0.0},
    {"net", "chat_server", "a line-based chat server broadcasts each client's lines to the others",
     "no tutorial example: after the Python docs' TCP echo server using streams", real_time, 0.0},
    {"net", "port_scanner", "a port scanner: gather, a Semaphore (10 at a time), wait_for",
     "no tutorial example: a classic asyncio exercise", real_time, 0.0},
    {"net", "subprocess_pipeline",
     "a pipeline of child processes: words | sort | uniq -c | sort -rn, with communicate()",
     "Python docs, Subprocesses", real_time, 0.0},
    {"net", "loop_per_core",
     "one echo port served by a loop on each of 2 threads (LoopGroup, SO_REUSEPORT)",
     "aiohttp's one process per core with reuse_port", real_time, 0.0},
    {"net", "uvloop_backend",
     "one line picks the loop's kernel interface, epoll or io_uring, as uvloop's policy does",
     "《异步编程》 › 其他 › uvloop", real_time, 0.0},
    // The web layer: aiohttp's server and client (corio::http), each on a local server.
    {"http", "aiohttp_app", "aiohttp's web app: / and /hello/{name}, asked for by ClientSession",
     "《异步，并发，协程（旧版本折叠）》 › aiohttp", real_time, 0.5},
    {"http", "requests_in_executor",
     "a blocking HTTP client on the default executor: three 0.5 s downloads take 0.5 s",
     "《异步编程》 › 案例 asyncio+requests", real_time, 0.5},
    {"http", "crawler", "a crawler: one ClientSession, a task per URL, asyncio.wait for both",
     "《异步编程》 › 其他 › 异步爬虫", real_time, 0.2},
    {"http", "websocket_heartbeat",
     "a WebSocket echo with a heartbeat that drops a client which stops answering pings",
     "《异步，并发，协程（旧版本折叠）》 › 协程&服务器心跳 (the article it links)", real_time, 0.8},
    {"http", "fastapi_app", "a FastAPI-style JSON app: json_response, request.json() and a 422",
     "《异步编程》 › 其他 › FastAPI框架异步", real_time, 0.0},
    {"http", "streaming_upload",
     "a request body read while it arrives (readline, iter_any) through a bounded buffer",
     "no tutorial example: aiohttp's request.content", real_time, 0.0},
    {"http", "client_streaming",
     "ClientSession: a redirect and its history, a 10 MB body streamed, a generator uploaded",
     "aiohttp docs, Client Quickstart › Redirection and history, Streaming", real_time, 0.0},
    {"http", "client_limits",
     "ClientSession: limit_per_host queues requests; the total timeout cuts a stalled stream",
     "aiohttp docs, Client Reference › TCPConnector, ClientTimeout", real_time, 0.3},

    // Redis (corio::redis): the work queue runs on its in-process backend
    // (on a server with CORIO_QUEUE_URL=redis://...); the other two need
    // the server scripts/tour.sh starts (REDIS_URL).
    {"redis", "work_queue_thread_consumer",
     "a work queue feeds coroutines to a loop in another thread (in-process or on Redis)",
     "《python进阶之异步编程（基础篇）》 › 基于 Redis 队列的生产-消费模型", real_time, 2.0},
    {"redis", "hmset_hgetall", "aioredis' hmset_dict/hgetall, once, then twice at once on one pool",
     "《异步编程》 › 异步操作redis › 示例1, 示例2", real_time, 0.0, true},
    {"redis", "fastapi_red",
     "a FastAPI-style app whose async /red reads Redis: two requests served side by side",
     "《异步编程》 › FastAPI框架异步 › 示例2", real_time, 0.5, true},
    {"redis", "actors_cluster",
     "Dapr-style virtual actors on two hosts sharing Redis: one home per actor, calls forwarded",
     "Dapr Python SDK › actor example (Counter)", real_time, 0.0, true},
    {"redis", "actors_reminder_restart",
     "a Dapr-style reminder registered in Redis fires after its process restarted",
     "Dapr Python SDK › actor example (reminders)", real_time, 0.0, true},

    // Async SQL (corio::sql), against the servers scripts/tour.sh starts.
    {"sql", "aiomysql_two_connections",
     "aiomysql: two connections query MariaDB at once (asyncio.wait), 0.2 s for both",
     "《异步编程》 › 异步操作MySQL › 示例1", real_time, 0.0, false, false, "mariadb"},
    {"sql", "pg_items",
     "a FastAPI-style JSON API storing its items in PostgreSQL through a pool (asyncpg)",
     "《异步编程》 › FastAPI框架异步 (its JSON API, on a database)", real_time, 0.0, false, false,
     "postgres"},

    // RabbitMQ (corio::amqp, aioamqp's model): they need the server
    // scripts/tour.sh starts (AMQP_URL).
    {"amqp", "rpc_fibonacci",
     "RPC over RabbitMQ: a request queue, a reply_to queue, answers matched by correlation_id",
     "RabbitMQ tutorial 6 (RPC), as aioamqp's examples/rpc_server.py and rpc_client.py", real_time,
     0.0, false, true},
    {"amqp", "topic_logs",
     "a topic exchange fans log lines out to receivers by pattern (kern.*, *.critical, #)",
     "RabbitMQ tutorial 5 (topics), as aioamqp's examples/emit_log_topic.py, receive_log_topic.py",
     real_time, 0.0, false, true},
    {"amqp", "rabbitmq_work_queue",
     "the Redis work-queue example unchanged on RabbitMQ: a durable queue, acks, redelivery",
     "《python进阶之异步编程（基础篇）》 › 基于 Redis 队列的生产-消费模型", real_time, 2.0, false,
     true},
    {"amqp", "robust_consumer",
     "a consumer that survives a cut connection: reconnect, topology and consumer recovered",
     "aio-pika's connect_robust (its README's robust consumer)", real_time, 0.0, false, true},

    // Every core: worker processes (corio::process), each child this same program.
    {"process", "multiprocessing_process", "two Processes run my_process(\"A\"/\"B\"), then join",
     "《Python中线程、进程与异步的介绍和实现》 › 四(4) 实现多进程", real_time, 0.0},
    {"process", "process_pool_submit", "ProcessPoolExecutor: submit, then block on result()",
     "《Python中线程、进程与异步的介绍和实现》 › 五(3) 实现进程池", real_time, 0.0},
    {"process", "run_in_process_pool",
     "six 0.1 s calls on three worker processes, awaited together: 0.2 s",
     "《Python中线程、进程与异步的介绍和实现》 › 八 结合多进程 方法二 run_in_executor", real_time,
     0.2},
    {"process", "run_in_executor_three_ways",
     "run_in_executor on the default executor, a thread pool and a process pool, at once: 2 s",
     "《异步编程》 › concurrent.future.Future 对象 (its commented-out variants 2 and 3)", real_time,
     2.0},
    {"process", "child_process_loop", "a child process runs its own loop while main prints 0..9",
     "《Python中线程、进程与异步的介绍和实现》 › 八 结合多进程 方法一", real_time, 1.0},
    {"process", "threads_processes_coroutines",
     "CPU-bound and I/O-bound jobs in a row, on threads, on processes, as coroutines: the times",
     "《Python中线程、进程与异步的介绍和实现》 › 四 to 八 (threads, processes and coroutines)",
     real_time, 0.0},
    {"process", "aiomultiprocess_fetch",
     "aiomultiprocess: a Process PUTs, a Worker and a Pool.map fetch, each in a child's loop",
     "《Python中线程、进程与异步的介绍和实现》 › 八 结合多进程 方法三 aiomultiprocess (用法, "
     "Worker, Pool)",
     real_time, 0.0},
    // Virtual actors (corio::actors, Dapr's model): the "this is the actor
    // model" remark of the loop-thread examples, taken at its word.
    {"actors", "counter_actors",
     "Dapr-style counter actors: activated by the first call, one call at a time, state kept",
     "《python进阶之异步编程（基础篇）》 › 动态添加协程--异步方式（actor模型即为这种模式）"},
    {"actors", "producer_actors",
     "a producer adds work while the loop runs; each bucket's actor takes it in turn",
     "《python进阶之异步编程（基础篇）》 › 协程中生产-消费模型设计 › 基于Python 内置双向队列"},
    {"actors", "bank_account",
     "10,000 concurrent deposits: lost on a plain object, all kept by an actor's turns",
     "《python进阶之异步编程（基础篇）》 › 动态添加协程--异步方式（actor模型即为这种模式）"},
    {"actors", "actors_over_http",
     "two actor hosts on loopback: a call to an actor on the other host is forwarded over HTTP",
     "《python进阶之异步编程（基础篇）》 › 动态添加协程--异步方式（actor模型即为这种模式）"},
};

/// A tutorial example with nothing to run (a syntax rule): a section of
/// docs/asyncio-mapping.md covers it, and the tour names it at the end.
struct DocNote {
    const char* seed;   // the tutorial example
    const char* what;   // what it says
    const char* where;  // where the docs answer it
};

inline constexpr DocNote kDocNotes[] = {
    {"《python进阶之异步编程（基础篇）》 › 通过异步io asyncio 实现",
     "@asyncio.coroutine --> async def, yield from --> await",
     "docs/asyncio-mapping.md, \"Generator-based coroutines\" (programs: hello_world, "
     "ensure_future_wait)"},
    {"《异步，并发，协程（旧版本折叠）》 › async/await",
     "replace @asyncio.coroutine with async and yield from with await",
     "docs/asyncio-mapping.md, \"Generator-based coroutines\" (programs: hello_world, "
     "ensure_future_wait)"},
};

}  // namespace example
