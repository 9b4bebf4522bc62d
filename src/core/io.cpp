// src/core/io.cpp - starting and cancelling I/O operations, and the task
// side of them (OpAwait).
#include "io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "backend.hpp"

namespace corio::detail {

namespace {

// The direction's slot, checked: one operation per direction at a time, on
// the running loop's fds only.
IoOp*& slot_for(IoOp& op) {
    IoState& io = *op.io;
    if (io.loop != tls_running_loop) {
        throw RuntimeError(io.loop == nullptr ? "I/O on a closed socket or pipe"
                                              : "I/O on a socket or pipe of another event loop");
    }
    IoOp*& slot = is_read_kind(op.kind) ? io.reading : io.writing;
    if (slot != nullptr) {
        throw RuntimeError("fd " + std::to_string(io.fd) +
                           (is_read_kind(op.kind) ? ": another task is already waiting to read"
                                                  : ": another task is already waiting to write"));
    }
    return slot;
}

// An operation served from what a cancelled one gave back.
bool take_given_back(IoOp& op) {
    IoState& io = *op.io;
    if ((op.kind == OpKind::recv || op.kind == OpKind::read) && !io.stash.empty()) {
        std::size_t n = std::min(io.stash.size(), op.len);
        std::memcpy(op.buf, io.stash.data(), n);
        io.stash.erase(0, n);
        op.res = static_cast<int>(n);
        return true;
    }
    if (op.kind == OpKind::accept && !io.accepted.empty()) {
        IoState::Accepted a = io.accepted.front();
        io.accepted.erase(io.accepted.begin());
        if (op.addr != nullptr) {
            op.addrlen = std::min(op.addrlen, a.addrlen);
            std::memcpy(op.addr, &a.addr, op.addrlen);
        }
        op.res = a.fd;
        return true;
    }
    return false;
}

}  // namespace

void IoState::drop_given_back() noexcept {
    for (const Accepted& a : accepted) {
        ::close(a.fd);
    }
    accepted.clear();
    stash.clear();
}

bool start_op(IoOp& op) {
    IoOp*& slot = slot_for(op);
    if (take_given_back(op)) {
        return true;
    }
    slot = &op;
    op.state = IoOp::pending;
    if (LoopAccess::backend(*op.io->loop).start(op)) {
        op.state = IoOp::idle;
        slot = nullptr;
        return true;
    }
    return false;
}

bool cancel_op(IoOp& op) noexcept {
    if (op.state != IoOp::pending) {
        return true;
    }
    if (op.io == nullptr || op.io->loop == nullptr) {
        return false;  // detached: the backend's confirmation comes
    }
    if (!LoopAccess::backend(*op.io->loop).cancel(op)) {
        return false;
    }
    op.state = IoOp::idle;
    op.res = -ECANCELED;
    finish_op(op);
    return true;
}

void finish_op(IoOp& op) noexcept {
    op.state = IoOp::idle;
    if (IoState* io = std::exchange(op.io, nullptr)) {  // may be freed once we let go
        IoOp*& slot = is_read_kind(op.kind) ? io->reading : io->writing;
        if (slot == &op) {
            slot = nullptr;
        }
    }
}

void complete_op(IoOp& op, int res) noexcept {
    op.res = res;
    op.state = IoOp::done;
    op.complete(&op);
}

void detach_ops(IoState& io, bool backend_confirms) noexcept {
    for (IoOp** slot : {&io.reading, &io.writing}) {
        IoOp* op = std::exchange(*slot, nullptr);
        if (op == nullptr) {
            continue;
        }
        op->io = nullptr;
        if (op->state == IoOp::pending && !backend_confirms) {
            complete_op(*op, -EBADF);
        }
    }
}

OpAwait::~OpAwait() {
    if (state == IoOp::pending) {
        // The task is being destroyed while it waits (its loop is closing):
        // the backend was shut down first, so withdrawing cannot block.
        cancel_op(*this);
    }
    finish_op(*this);
}

bool OpAwait::await_ready() {
    current_task();  // outside a task: RuntimeError now, before anything started
    complete = &on_complete;
    return start_op(*this);
}

void OpAwait::await_suspend(std::coroutine_handle<> h) {
    on_cancel = &on_cancel_fn;
    suspend(current_task(), h);
}

void OpAwait::on_complete(IoOp* op) noexcept {
    auto* self = static_cast<OpAwait*>(op);
    if (self->cancel_asked_) {
        self->on_cancel = nullptr;  // the cancellation surfaces on resume
    }
    self->wake();
}

int OpAwait::await_resume() {
    if (cancel_pending()) {
        give_back();
    }
    finish_op(*this);
    check_cancelled();
    return res;
}

void OpAwait::give_back() noexcept {
    if (res < 0 || (res == 0 && kind != OpKind::accept)) {
        return;
    }
    if (io == nullptr) {  // the fd was closed meanwhile: nobody will take it
        if (kind == OpKind::accept) {
            ::close(res);
        }
        res = -ECANCELED;
        return;
    }
    try {
        if (kind == OpKind::recv || kind == OpKind::read) {
            io->stash.append(static_cast<const char*>(buf), static_cast<std::size_t>(res));
        } else if (kind == OpKind::accept) {
            IoState::Accepted a{res, addrlen, {}};
            std::memcpy(&a.addr, addr, std::min<std::size_t>(addrlen, sizeof a.addr));
            io->accepted.push_back(a);
        }
    } catch (...) {
        if (kind == OpKind::accept) {
            ::close(res);  // out of memory: at least do not leak the connection
        }
    }
    res = -ECANCELED;
}

bool OpAwait::on_cancel_fn(Waiter* w) {
    auto* self = static_cast<OpAwait*>(w);
    if (self->state != IoOp::pending) {
        return false;  // already completed: the cancellation surfaces on resume
    }
    if (cancel_op(*self)) {
        return self->cancel_and_wake();
    }
    self->cancel_asked_ = true;  // the completion wakes us
    return true;
}

OpAwait wait_ready(IoState& io, bool write) {
    IoOp op;
    op.kind = write ? OpKind::poll_out : OpKind::poll_in;
    op.io = &io;
    return OpAwait(op);
}

void interrupt_read(IoState& io) noexcept {
    IoOp* op = io.reading;
    if (op == nullptr || op->kind != OpKind::poll_in || op->state != IoOp::pending) {
        return;
    }
    if (LoopAccess::backend(*io.loop).cancel(*op)) {
        complete_op(*op, 0);
        finish_op(*op);  // nothing to take: the direction is free at once
    }
}

}  // namespace corio::detail
