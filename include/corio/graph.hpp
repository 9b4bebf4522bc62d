// corio/graph.hpp - live introspection of tasks: every loop's tasks, what
// each awaits, and who awaits whom, as data, as a table and as a tree, on
// demand or on a signal.
//
// Mirrors asyncio 3.14's call-graph introspection (asyncio.graph:
// capture_call_graph, print_call_graph) and its `python -m asyncio ps PID`
// (a table) and `pstree PID` (a tree of who awaits whom), plus
// Task.get_stack()/print_stack() (task.hpp). A task's frames come from its
// await chain (innermost suspended frame up through each coroutine's
// awaiter); with await locations (CMake option CORIO_AWAIT_LOCATIONS, on in
// Debug builds) each frame also has the file and line of the co_await it is
// suspended at. Nothing is recorded while the program runs beyond that
// location mode: everything is read when asked for.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "corio/task.hpp"

namespace corio {

/// One task, as capture_tasks() saw it. asyncio: a row of `python -m
/// asyncio ps`.
struct TaskInfo {
    /// The task's identity while it lives (its record's address, as Python
    /// shows id(task)); `awaited_by` refers to tasks by it.
    std::uintptr_t id = 0;
    std::string name;
    /// "running" (the task that asked), "ready" (scheduled to run),
    /// "waiting" (suspended), or "not started".
    std::string state;
    /// What its innermost frame awaits: "Task 'name'", "gather of 3",
    /// "sleep, 2.5 s left", "TaskGroup of 2", ...; empty unless waiting.
    std::string awaiting;
    /// Its await chain, outermost first (see TaskHandle::get_stack()).
    std::vector<FrameInfo> stack;
    /// The tasks waiting for this one: awaiting it (directly, or through
    /// gather() or wait()), or owning the TaskGroup it belongs to.
    std::vector<std::uintptr_t> awaited_by;
    /// The OS thread running its loop, and the loop's address.
    long thread = 0;
    std::uintptr_t loop = 0;
};

/// Every task of every event loop of the process.
struct TaskDump {
    std::vector<TaskInfo> tasks;
    /// Loops that could not be asked (running elsewhere and not answering in
    /// time, or idle on another thread), one line each.
    std::vector<std::string> notes;
};

/// Captures every pending task of every live loop in the process. Loops of
/// the calling thread are read at once; a loop running on another thread is
/// asked through its thread-safe inbox and answers between two callbacks,
/// waited for at most `timeout` (a loop stuck in a long callback is noted,
/// not waited for); a loop idle on another thread is noted. Blocks the
/// calling thread up to `timeout`; call it outside a loop's callbacks to ask
/// other loops without stalling this one. Never throws on a loop's behalf.
/// asyncio: `python -m asyncio ps/pstree`'s data.
TaskDump capture_tasks(std::chrono::milliseconds timeout = std::chrono::seconds(1));

/// The dump as a table, one task per row: thread, task id, name, state,
/// coroutine stack (innermost first, as Python's ps shows it), what it
/// awaits, and who awaits it. asyncio: `python -m asyncio ps`.
std::string format_task_table(const TaskDump& dump);

/// The dump as a tree of who awaits whom: the tasks nobody waits for at the
/// root; under each task its frames, and under its innermost frame the
/// tasks it waits for (those it awaits, gathers, or owns through a
/// TaskGroup). asyncio: `python -m asyncio pstree`.
std::string format_task_tree(const TaskDump& dump);

/// capture_tasks(), written to `out` as the table and then the tree.
void print_tasks(std::FILE* out = stderr);

/// From now on, signal `sig` (SIGQUIT by default: Ctrl-\) writes
/// print_tasks() to stderr, without stopping the program: the handler only
/// wakes a thread started here, which does the dump. May be called again
/// for other signals. Throws std::invalid_argument for SIGKILL, SIGSTOP or an
/// invalid signal, std::system_error if the handler cannot be installed.
/// Python's closest: `faulthandler.register(signal.SIGQUIT)` for threads.
void dump_tasks_on_signal(int sig);
/// dump_tasks_on_signal(SIGQUIT).
void dump_tasks_on_signal();

}  // namespace corio
