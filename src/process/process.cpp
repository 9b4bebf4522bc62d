// Process: one registered function in a child process of its own.
#include "corio/process/process.hpp"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "child.hpp"

namespace corio::process {

void detail::ChildDeleter::operator()(Child* c) const noexcept {
    delete c;
}

Process::Process(Process&&) noexcept = default;
Process& Process::operator=(Process&&) noexcept = default;

Process::~Process() {
    if (child_) {
        child_->wait();
    }
}

void Process::start() {
    if (child_) {
        throw RuntimeError("corio::process::Process: a process can only be started once");
    }
    std::unique_ptr<detail::Child, detail::ChildDeleter> child(
        new detail::Child(detail::Child::spawn(detail::Mode::once)));
    detail::Request req{detail::Request::call, call_.name, {call_.args}};
    // A child that dies before reading its call is seen through exitcode().
    child->send(encode(req));
    child->close_channel();
    child_ = std::move(child);
}

void Process::join(std::optional<Duration> timeout) {
    if (!child_) {
        throw RuntimeError("corio::process::Process: join() before start()");
    }
    if (!timeout) {
        child_->wait();
        return;
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout).count();
    child_->wait_for(static_cast<int>(std::clamp<decltype(ms)>(ms, 0, 1 << 30)));
}

bool Process::is_alive() {
    return child_ && !child_->poll();
}

std::optional<int> Process::exitcode() {
    if (!child_) {
        return std::nullopt;
    }
    auto st = child_->poll();
    if (!st) {
        return std::nullopt;
    }
    return detail::Child::exitcode(*st);
}

void Process::terminate() {
    if (child_) {
        child_->signal(SIGTERM);
    }
}

void Process::kill() {
    if (child_) {
        child_->signal(SIGKILL);
    }
}

pid_t Process::pid() const noexcept {
    return child_ ? child_->pid() : -1;
}

}  // namespace corio::process
