// corio/corio.hpp - the core of corio in one include: the event loop, tasks,
// futures, combinators, timeouts, TaskGroup, run() and LoopGroup.
//
// The C++ counterpart of `import asyncio`. Fixed content: every core header,
// no feature macros.
#pragma once

#include "corio/async_generator.hpp"
#include "corio/contextvars.hpp"
#include "corio/errors.hpp"
#include "corio/event_loop.hpp"
#include "corio/executor.hpp"
#include "corio/future.hpp"
#include "corio/gather.hpp"
#include "corio/graph.hpp"
#include "corio/io_wait.hpp"
#include "corio/locks.hpp"
#include "corio/loop_group.hpp"
#include "corio/queues.hpp"
#include "corio/run.hpp"
#include "corio/shield.hpp"
#include "corio/task.hpp"
#include "corio/task_group.hpp"
#include "corio/threads.hpp"
#include "corio/timeouts.hpp"
#include "corio/version.hpp"
#include "corio/wait.hpp"
