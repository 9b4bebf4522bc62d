// src/core/handles.cpp - Handle and TimerHandle, and scheduling callbacks
// (call_soon, call_soon_threadsafe, call_later, call_at).
#include "corio/event_loop.hpp"
#include "loop_impl.hpp"

namespace corio {

namespace detail {

void HandleImpl::run(void* self, bool run) noexcept {
    auto* h = static_cast<HandleImpl*>(self);
    if (run && !h->cancelled.load(std::memory_order_acquire)) {
        ContextScope scope(h->context.get(), &h->context);  // asyncio: `self._context.run(cb)`
        try {
            h->cb();
        } catch (...) {
            h->loop->call_exception_handler(
                ExceptionContext{"Exception in callback", std::current_exception(), {}, {}});
        }
    }
    h->release();
}

void HandleImpl::fire(TimerNode* node) noexcept {
    HandleImpl* h = static_cast<HandleTimer*>(node)->owner;
    // The heap's reference moves to the ready queue.
    LoopAccess::post(*h->loop, &HandleImpl::run, h);
}

}  // namespace detail

using detail::HandleImpl;
using detail::LoopAccess;

Handle::Handle(const Handle& other) noexcept : impl_(other.impl_) {
    if (impl_) {
        impl_->add_ref();
    }
}

Handle::~Handle() {
    if (impl_) {
        impl_->release();
    }
}

void Handle::cancel() {
    if (!impl_ || impl_->cancelled.exchange(true, std::memory_order_acq_rel)) {
        return;
    }
    if (impl_->is_timer && impl_->timer.queued()) {
        LoopAccess::remove_timer(*impl_->loop, impl_->timer);
        impl_->cb.reset();
        impl_->release();  // the heap's reference
    }
}

bool Handle::cancelled() const noexcept {
    return impl_ && impl_->cancelled.load(std::memory_order_acquire);
}

TimePoint TimerHandle::when() const noexcept {
    return TimePoint(Duration(impl_ ? impl_->timer.when : 0));
}

Handle EventLoop::call_soon(detail::Callback cb) {
    return call_soon_in(std::move(cb), detail::capture_context());
}

Handle EventLoop::call_soon(detail::Callback cb, const Context& context) {
    return call_soon_in(std::move(cb), context.ref());
}

Handle EventLoop::call_soon_in(detail::Callback cb, detail::ContextRef context) {
    check_open();
    auto* h = new HandleImpl(*this, std::move(cb), false);
    h->context = std::move(context);
    h->add_ref();  // the ready queue's
    ready_.push(&HandleImpl::run, h);
    return Handle(h);
}

Handle EventLoop::call_soon_threadsafe(detail::Callback cb) {
    return call_soon_threadsafe_in(std::move(cb), detail::capture_context());
}

Handle EventLoop::call_soon_threadsafe(detail::Callback cb, const Context& context) {
    return call_soon_threadsafe_in(std::move(cb), context.ref());
}

Handle EventLoop::call_soon_threadsafe_in(detail::Callback cb, detail::ContextRef context) {
    auto* h = new HandleImpl(*this, std::move(cb), false);
    h->context = std::move(context);
    h->add_ref();  // the incoming queue's
    detail::ReadyItem item{&HandleImpl::run, h};
    if (!impl_->post_threadsafe(&item, 1)) {
        delete h;
        throw RuntimeError("Event loop is closed");
    }
    return Handle(h);
}

TimerHandle EventLoop::call_later_ns(Duration delay, detail::Callback cb,
                                     detail::ContextRef context) {
    detail::checked_delay(delay, "call_later");
    return call_at_in(detail::deadline_after(time(), delay), std::move(cb), std::move(context));
}

TimerHandle EventLoop::call_at(TimePoint when, detail::Callback cb) {
    return call_at_in(when, std::move(cb), detail::capture_context());
}

TimerHandle EventLoop::call_at(TimePoint when, detail::Callback cb, const Context& context) {
    return call_at_in(when, std::move(cb), context.ref());
}

TimerHandle EventLoop::call_at_in(TimePoint when, detail::Callback cb, detail::ContextRef context) {
    check_open();
    auto* h = new HandleImpl(*this, std::move(cb), true);
    h->context = std::move(context);
    h->timer.when = when.time_since_epoch().count();
    h->timer.fire = &HandleImpl::fire;
    LoopAccess::add_timer(*this, h->timer);
    if (h->timer.queued()) {
        h->add_ref();  // the heap's (a timer at TimePoint::max() is never queued)
    }
    return TimerHandle(h);
}

}  // namespace corio
