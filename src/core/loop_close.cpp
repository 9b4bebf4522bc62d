// src/core/loop_close.cpp - EventLoop::close(): what a closing loop drops,
// what it still finishes, and what it waits for.
#include <unistd.h>

#include <vector>

#include "corio/detail/future_state.hpp"
#include "corio/event_loop.hpp"
#include "loop_impl.hpp"

namespace corio {

using detail::HandleImpl;

namespace {

// Drops every item another thread sent (each owns its argument).
bool drop_incoming(detail::LoopImpl& im) {
    std::vector<detail::ReadyItem> batch;
    {
        std::lock_guard lock(im.mu);
        batch.swap(im.incoming);
        im.incoming_count.store(0, std::memory_order_relaxed);
    }
    for (const detail::ReadyItem& item : batch) {
        item.fn(item.arg, false);
    }
    return !batch.empty();
}

}  // namespace

void EventLoop::close() {
    if (running_) {
        throw RuntimeError("Cannot close a running event loop");
    }
    if (closed_) {
        return;
    }
    detail::LoopImpl& im = *impl_;
    remove_all_signal_handlers();
    // No kernel work may refer to memory freed below (frames, buffers).
    im.backend->shutdown();

    // Tasks that will never finish: destroy their frames (reporting each).
    while (detail::TaskState* t = im.first_task) {
        t->destroy_pending();
    }
    // Async generators never closed (those the tasks above held are gone now).
    detail::drop_asyncgens(*this);
    // Callbacks that will never run.
    while (!ready_.empty()) {
        detail::ReadyItem item = ready_.pop();
        item.fn(item.arg, false);
    }
    while (!im.timers.empty()) {
        detail::TimerNode& node = im.timers.top();
        im.timers.pop();
        if (node.fire == &HandleImpl::fire) {
            static_cast<detail::HandleTimer&>(node).owner->release();
        }
    }
    for (detail::FdWatch& w : im.fds) {
        if (w.reader) {
            w.reader->cancelled = true;
            w.reader->release();
        }
        if (w.writer) {
            w.writer->cancelled = true;
            w.writer->release();
        }
    }
    im.fds.clear();
    // Sockets that outlive the loop must not reach it any more.
    while (!im.io_states.empty()) {
        detail::IoState& st = im.io_states.pop_front();
        st.loop = nullptr;
        st.reading = st.writing = nullptr;
        st.drop_given_back();
    }
    im.watched_fds = 0;
    // Hooks still queued finish their hand-offs (executor batches), so that
    // the work below completes; then wait for work still running on other
    // threads, which posts its completion here (run() shuts the default
    // executor down first, so this is only for executors the program still
    // runs), dropping each on arrival.
    im.run_end_of_iteration(true);
    while (im.external_work > 0) {
        if (!drop_incoming(im)) {
            im.polling.store(true, std::memory_order_seq_cst);
            if (im.incoming_count.load(std::memory_order_seq_cst) == 0) {
                int nevents = 0;
                im.backend->wait(im.events, detail::kMaxEvents, nevents, -1);
            }
            im.polling.store(false, std::memory_order_relaxed);
            detail::drain_wake_fd(im.wake_fd);
            im.wake_pending.store(false, std::memory_order_release);
        }
    }
    if (auto ex = std::move(im.default_executor)) {
        // asyncio's close() does shutdown(wait=False); nothing is left to wait for.
        detail::shutdown_executor(*ex);
    }
    // Stop accepting, then drop what came in, outside the lock: dropping an
    // item runs destructors that may try to post here again (they are
    // refused now, instead of deadlocking on the lock).
    std::vector<detail::ReadyItem> last;
    {
        std::lock_guard lock(im.mu);
        im.accepting = false;
        last.swap(im.incoming);
        im.incoming_count.store(0);
    }
    for (const detail::ReadyItem& item : last) {
        item.fn(item.arg, false);
    }
    im.run_end_of_iteration(false);
    im.backend.reset();
    ::close(im.wake_fd);
    im.wake_fd = -1;
    closed_ = true;
}

}  // namespace corio
