// src/core/graph.cpp - reading tasks while the program runs: await chains,
// what a task awaits, who awaits it, and the process-wide dump.
//
// Everything here reads state that the loop thread owns, so it runs on that
// thread: directly for the caller's own loops, through the loop's
// thread-safe inbox for loops running elsewhere (SnapshotRequest).
//
// Frames. A suspended task's innermost frame is TaskState::resume_at_; each
// corio coroutine's promise begins with a PromiseBase whose `continuation_`
// is the frame awaiting it, up to the task's root frame. Every frame of a
// task's chain is a corio coroutine (Task or AsyncGenerator: only those may
// await corio awaitables), so reading each promise as a PromiseBase is sound.
#include "corio/graph.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "corio/detail/multi_wait.hpp"
#include "corio/gather.hpp"
#include "corio/locks.hpp"
#include "corio/task_group.hpp"
#include "loop_impl.hpp"

namespace corio {
namespace detail {

namespace {

long this_thread_id() noexcept {
    return static_cast<long>(::syscall(SYS_gettid));
}

// The function's name without template arguments (GCC names a function
// template's specialisation with all of them: unreadable in a dump).
std::string short_name(const char* func) {
    if (func == nullptr || *func == '\0') {
        return "?";
    }
    std::string name(func);
    if (name.rfind("operator", 0) != 0) {
        std::size_t angle = name.find('<');
        if (angle != std::string::npos && angle > 0) {
            name.erase(angle);
        }
    }
    return name;
}

FrameInfo frame_info(const PromiseBase& p) {
    FrameInfo f;
    SourceLoc loc = p.location();
    f.function = short_name(loc.func);
    f.defined_at = loc.line;
#if defined(CORIO_AWAIT_LOCATIONS)
    if (p.at_ != 0) {
        f.file = site_name(p.at_);
        f.line = site_line(p.at_);
    }
#endif
    return f;
}

std::string seconds_text(double s) {
    char buf[48];
    std::snprintf(buf, sizeof buf, s >= 100 ? "%.0f s" : "%.3g s", s);
    return buf;
}

}  // namespace

struct GraphAccess {
    // The current task, or one whose step an eager task's first step
    // interrupted: its chain is in flux either way (resume_at_ is stale).
    static bool running(const TaskState& t) noexcept {
        return tls_current_task == &t || t.stepping_;
    }

    static std::string state(const TaskState& t) {
        if (running(t)) {
            return "running";
        }
        if (!t.started_) {
            return "not started";
        }
        return t.waiting_on_ != nullptr ? "waiting" : "ready";
    }

    static std::vector<FrameInfo> stack(const TaskState& t) {
        std::vector<FrameInfo> frames;
        if (!t.started_ || t.done() || running(t) || !t.coro_) {
            return frames;  // nothing suspended to read (a running chain is in flux)
        }
        std::coroutine_handle<> h = t.resume_at_;
        while (h && frames.size() < 100000) {
            const PromiseBase& p =
                std::coroutine_handle<PromiseBase>::from_address(h.address()).promise();
            frames.push_back(frame_info(p));
            if (h == t.coro_) {
                break;
            }
            h = p.continuation_;
        }
        std::reverse(frames.begin(), frames.end());
        return frames;
    }

    static std::string awaiting(const TaskState& t) {
        const Waiter* w = t.waiting_on_;
        if (w == nullptr || running(t)) {
            return {};
        }
        if (w->on_cancel == &FutureAwaiter::cancel_fn) {
            const FutureBase* f = static_cast<const FutureAwaiter*>(w)->fut;
            if (f->is_task()) {
                return "Task '" + static_cast<const TaskState*>(f)->get_name() + "'";
            }
            return static_cast<const FutureRecord*>(f)->cancel_hook_ != nullptr ? "gather()"
                                                                                : "Future";
        }
        if (w->on_cancel == &SleepAwaiter::cancel_timer) {
            const auto* s = static_cast<const SleepAwaiter*>(w);
            double left = static_cast<double>(s->when - LoopAccess::now_ns(t.loop())) / 1e9;
            return "sleep, " + seconds_text(std::max(0.0, left)) + " left";
        }
        if (w->on_cancel == &SleepAwaiter::cancel_yield) {
            return "sleep(0)";
        }
        if (w->on_cancel == &MultiWait::on_task_cancel) {
            return "wait() of " + std::to_string(static_cast<const MultiWait*>(w)->n_);
        }
        if (w->on_cancel == &TaskGroup::JoinAwaiter::cancel_fn) {
            const TaskGroup* g = static_cast<const TaskGroup::JoinAwaiter*>(w)->group;
            return "TaskGroup of " + std::to_string(g->live_.size());
        }
        if (w->on_cancel == &ListWaiter::unlink_and_cancel) {
            return "a Lock, Event, Condition, Semaphore or Queue";
        }
        return "an awaitable";
    }

    // The tasks waiting for `rec`: awaiting it, through a gather() of it or
    // a wait() on it, or as the parent of its TaskGroup.
    static void awaiters_of(FutureBase& rec, std::vector<std::uintptr_t>& out, int depth) {
        if (depth > 64) {
            return;
        }
        auto add = [&](const TaskState* t) {
            auto id = reinterpret_cast<std::uintptr_t>(t);
            if (t != nullptr && std::find(out.begin(), out.end(), id) == out.end()) {
                out.push_back(id);
            }
        };
        rec.waiters_.for_each([&](CompletionNode& n) {
            if (n.on_done == &FutureAwaiter::done_fn) {
                add(static_cast<FutureAwaiter&>(n).task);
            } else if (n.on_done == &TaskGroup::on_child_done) {
                add(TaskGroup::parent_of_child(n));
            } else if (n.on_done == &gather_child_done) {
                awaiters_of(*static_cast<GatherNode&>(n).core->outer, out, depth + 1);
            } else if (n.on_done == &MultiWait::on_child_done) {
                add(static_cast<MultiWait::Node&>(n).owner->task);
            }
        });
    }

    // Every pending task of `loop`, read on its thread.
    static std::vector<TaskInfo> snapshot(EventLoop& loop) {
        std::vector<TaskInfo> out;
        long tid = this_thread_id();
        for (TaskState* t = LoopAccess::first_task(loop); t != nullptr; t = t->next_task) {
            TaskInfo info;
            info.id = reinterpret_cast<std::uintptr_t>(t);
            info.name = t->get_name();
            info.state = state(*t);
            info.awaiting = awaiting(*t);
            info.stack = stack(*t);
            awaiters_of(*t, info.awaited_by, 0);
            info.thread = tid;
            info.loop = reinterpret_cast<std::uintptr_t>(&loop);
            out.push_back(std::move(info));
        }
        return out;
    }
};

std::vector<FrameInfo> task_stack(const TaskState& t) {
    return GraphAccess::stack(t);
}

void print_task_stack(const TaskState& t, std::FILE* out) {
    std::string text;
    std::vector<FrameInfo> frames = GraphAccess::stack(t);
    std::string head = "Task '" + t.get_name() + "' (" +
                       (t.done() ? std::string("done") : GraphAccess::state(t)) + ")";
    if (frames.empty()) {
        text = "No stack for " + head + "\n";
    } else {
        text = "Stack for " + head + " (most recent call last):\n";
        for (const FrameInfo& f : frames) {
            if (!f.file.empty()) {
                text += "  File \"" + f.file + "\", line " + std::to_string(f.line) + ", in " +
                        f.function + "\n";
            } else {
                text += "  " + f.function + "(), defined at line " + std::to_string(f.defined_at) +
                        "\n";
            }
        }
    }
    std::fputs(text.c_str(), out);
    std::fflush(out);
}

namespace {

// A snapshot asked of a loop running on another thread. The loop answers
// between two callbacks; the asker waits on `cv` at most its timeout.
struct SnapshotRequest {
    EventLoop* loop;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    bool answered = false;
    std::vector<TaskInfo> tasks;

    static void answer(void* p, bool run) noexcept {
        std::unique_ptr<std::shared_ptr<SnapshotRequest>> holder(
            static_cast<std::shared_ptr<SnapshotRequest>*>(p));
        SnapshotRequest& req = **holder;
        std::vector<TaskInfo> tasks;
        bool ok = false;
        if (run) {
            try {
                tasks = GraphAccess::snapshot(*req.loop);
                ok = true;
            } catch (...) {
                // out of memory: answered without tasks
            }
        }
        std::lock_guard lock(req.mu);
        req.tasks = std::move(tasks);
        req.answered = ok;
        req.done = true;
        req.cv.notify_all();
    }
};

std::string loop_name(const EventLoop* loop) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", static_cast<const void*>(loop));
    return buf;
}

}  // namespace

}  // namespace detail

TaskDump capture_tasks(std::chrono::milliseconds timeout) {
    using detail::SnapshotRequest;
    TaskDump dump;
    std::vector<std::shared_ptr<SnapshotRequest>> asked;
    {
        detail::LoopRegistry& reg = detail::loop_registry();
        std::lock_guard lock(reg.mu);
        for (EventLoop* loop : reg.loops) {
            if (!detail::LoopAccess::belongs_to_other_thread(*loop)) {
                if (!loop->is_closed()) {  // this thread's: read it here
                    std::vector<TaskInfo> mine = detail::GraphAccess::snapshot(*loop);
                    dump.tasks.insert(dump.tasks.end(), std::make_move_iterator(mine.begin()),
                                      std::make_move_iterator(mine.end()));
                }
                continue;
            }
            if (!detail::LoopAccess::running_anywhere(*loop)) {
                dump.notes.push_back("loop " + detail::loop_name(loop) +
                                     ": idle on another thread, not read");
                continue;
            }
            auto req = std::make_shared<SnapshotRequest>();
            req->loop = loop;
            auto* arg = new std::shared_ptr<SnapshotRequest>(req);
            detail::ReadyItem item{&SnapshotRequest::answer, arg};
            if (!detail::LoopAccess::post_threadsafe(*loop, &item, 1)) {
                delete arg;
                continue;  // closing
            }
            asked.push_back(std::move(req));
        }
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (auto& req : asked) {
        std::unique_lock lock(req->mu);
        if (!req->cv.wait_until(lock, deadline, [&] { return req->done; })) {
            dump.notes.push_back("loop " + detail::loop_name(req->loop) +
                                 ": did not answer in time (busy in a callback?)");
            continue;
        }
        if (!req->answered) {
            dump.notes.push_back("loop " + detail::loop_name(req->loop) + ": closed meanwhile");
            continue;
        }
        dump.tasks.insert(dump.tasks.end(), std::make_move_iterator(req->tasks.begin()),
                          std::make_move_iterator(req->tasks.end()));
    }
    return dump;
}

namespace {

std::string hex(std::uintptr_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

std::string frame_text(const FrameInfo& f) {
    if (!f.file.empty()) {
        return f.function + " " + f.file + ":" + std::to_string(f.line);
    }
    return f.function + " (line " + std::to_string(f.defined_at) + ")";
}

}  // namespace

std::string format_task_table(const TaskDump& dump) {
    std::unordered_map<std::uintptr_t, std::string> names;
    for (const TaskInfo& t : dump.tasks) {
        names[t.id] = t.name;
    }
    std::vector<std::vector<std::string>> rows;
    rows.push_back(
        {"thread", "task id", "task name", "state", "coroutine stack", "awaiting", "awaited by"});
    for (const TaskInfo& t : dump.tasks) {
        std::string stack;
        for (auto it = t.stack.rbegin(); it != t.stack.rend(); ++it) {
            stack += (stack.empty() ? "" : " -> ") + it->function;
        }
        std::string by;
        for (std::uintptr_t a : t.awaited_by) {
            auto n = names.find(a);
            by += (by.empty() ? "" : ", ") + (n != names.end() ? n->second : hex(a));
        }
        rows.push_back(
            {std::to_string(t.thread), hex(t.id), t.name, t.state, stack, t.awaiting, by});
    }
    std::vector<std::size_t> width(rows[0].size(), 0);
    for (const auto& r : rows) {
        for (std::size_t i = 0; i < r.size(); ++i) {
            width[i] = std::max(width[i], r[i].size());
        }
    }
    std::string text;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        std::string line;
        for (std::size_t i = 0; i < rows[k].size(); ++i) {
            line += rows[k][i];
            if (i + 1 < rows[k].size()) {
                line += std::string(width[i] - rows[k][i].size() + 2, ' ');
            }
        }
        while (!line.empty() && line.back() == ' ') {
            line.pop_back();
        }
        text += line + "\n";
        if (k == 0) {
            std::size_t total = 0;
            for (std::size_t w : width) {
                total += w + 2;
            }
            text += std::string(total - 2, '-') + "\n";
        }
    }
    for (const std::string& note : dump.notes) {
        text += "(" + note + ")\n";
    }
    return text;
}

namespace {

struct TreeWriter {
    const TaskDump& dump;
    std::unordered_map<std::uintptr_t, const TaskInfo*> by_id;
    std::unordered_map<std::uintptr_t, std::vector<const TaskInfo*>> awaited;  // waiter -> tasks
    std::set<std::uintptr_t> shown;
    std::string text;

    explicit TreeWriter(const TaskDump& d) : dump(d) {
        for (const TaskInfo& t : dump.tasks) {
            by_id[t.id] = &t;
        }
        for (const TaskInfo& t : dump.tasks) {
            for (std::uintptr_t w : t.awaited_by) {
                if (by_id.count(w) != 0) {
                    awaited[w].push_back(&t);
                }
            }
        }
    }

    void line(const std::string& prefix, bool last, const std::string& item) {
        text += prefix + (last ? "\u2514\u2500\u2500 " : "\u251c\u2500\u2500 ") + item + "\n";
    }
    static std::string deeper(const std::string& prefix, bool last) {
        return prefix + (last ? "    " : "\u2502   ");
    }

    void task(const TaskInfo& t, const std::string& prefix, bool last) {
        std::string head = "(T) " + t.name;
        if (!t.awaiting.empty()) {
            head += "  [" + t.awaiting + "]";
        } else if (t.state != "waiting") {
            head += "  [" + t.state + "]";
        }
        if (!shown.insert(t.id).second) {
            line(prefix, last, head + "  (shown above)");
            return;
        }
        line(prefix, last, head);
        std::string p = deeper(prefix, last);
        const auto& kids = awaited[t.id];
        for (const FrameInfo& f : t.stack) {  // a chain: each frame the only child of the last
            line(p, true, " " + frame_text(f));
            p = deeper(p, true);
        }
        for (std::size_t i = 0; i < kids.size(); ++i) {
            task(*kids[i], p, i + 1 == kids.size());
        }
    }

    std::string write() {
        std::vector<const TaskInfo*> roots;
        for (const TaskInfo& t : dump.tasks) {
            bool has_known_waiter = false;
            for (std::uintptr_t w : t.awaited_by) {
                has_known_waiter = has_known_waiter || by_id.count(w) != 0;
            }
            if (!has_known_waiter) {
                roots.push_back(&t);
            }
        }
        for (std::size_t i = 0; i < roots.size(); ++i) {
            task(*roots[i], "", i + 1 == roots.size());
        }
        for (const TaskInfo& t : dump.tasks) {  // in a cycle of waits: still shown once
            if (shown.count(t.id) == 0) {
                task(t, "", true);
            }
        }
        for (const std::string& note : dump.notes) {
            text += "(" + note + ")\n";
        }
        return text;
    }
};

}  // namespace

std::string format_task_tree(const TaskDump& dump) {
    return TreeWriter(dump).write();
}

void print_tasks(std::FILE* out) {
    TaskDump dump = capture_tasks();
    std::string text = "corio: " + std::to_string(dump.tasks.size()) + " task(s)\n" +
                       format_task_table(dump) + "\n" + format_task_tree(dump);
    std::fputs(text.c_str(), out);
    std::fflush(out);
}

namespace {

// The signal handler writes one byte to the pipe; the dumper thread reads it
// and dumps. Both ends are made once and never closed.
int g_dump_pipe[2] = {-1, -1};

extern "C" void on_dump_signal(int) {
    int saved = errno;
    char c = 1;
    [[maybe_unused]] ssize_t r = ::write(g_dump_pipe[1], &c, 1);
    errno = saved;
}

void dumper_main() {
    char buf[64];
    for (;;) {
        ssize_t n = ::read(g_dump_pipe[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        try {
            print_tasks(stderr);
        } catch (...) {
            std::fputs("corio: the task dump failed\n", stderr);
        }
    }
}

}  // namespace

void dump_tasks_on_signal(int sig) {
    if (sig <= 0 || sig >= NSIG || sig == SIGKILL || sig == SIGSTOP) {
        throw std::invalid_argument("dump_tasks_on_signal: sig must be a catchable signal, got " +
                                    std::to_string(sig));
    }
    static std::once_flag once;
    std::call_once(once, [] {
        if (::pipe2(g_dump_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
            throw std::system_error(errno, std::generic_category(), "dump_tasks_on_signal: pipe2");
        }
        // The reading end blocks; only the handler's end must never block.
        int flags = ::fcntl(g_dump_pipe[0], F_GETFL);
        ::fcntl(g_dump_pipe[0], F_SETFL, flags & ~O_NONBLOCK);
        std::thread(dumper_main).detach();
    });
    struct sigaction sa {};
    sa.sa_handler = &on_dump_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (::sigaction(sig, &sa, nullptr) != 0) {
        throw std::system_error(errno, std::generic_category(), "dump_tasks_on_signal: sigaction");
    }
}

void dump_tasks_on_signal() {
    dump_tasks_on_signal(SIGQUIT);
}

}  // namespace corio
