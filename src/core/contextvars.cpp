// src/core/contextvars.cpp - context cells, set(), and making an implicit
// context real.
#include "corio/contextvars.hpp"

#include "corio/detail/future_state.hpp"

namespace corio {
namespace detail {

namespace {

std::atomic<std::uint64_t> g_next_var_id{1};

// The thread's own context once something set a variable outside any task,
// callback or loop (tls_context points at it then).
thread_local ContextRef tls_thread_context;

}  // namespace

ContextRef ContextRef::make(ContextDataPtr data) {
    auto* c = new ContextCell;
    c->data = std::move(data);
    return ContextRef(c);
}

void ContextRef::release(ContextCell* c) noexcept {
    if (c != nullptr && c->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        delete c;
    }
}

std::uint64_t next_context_var_id() noexcept {
    return g_next_var_id.fetch_add(1, std::memory_order_relaxed);
}

ContextCell& writable_context() {
    if (ContextCell* c = tls_context) {
        return *c;
    }
    ContextRef fresh = ContextRef::make(nullptr);
    ContextCell* cell = fresh.get();
    if (TaskState* t = tls_current_task) {
        t->adopt_context(std::move(fresh));  // the task's own, from now on
    } else if (ContextRef* slot = tls_context_slot) {
        *slot = std::move(fresh);  // the running callback's (or loop's, or call's)
    } else {
        tls_thread_context = std::move(fresh);
    }
    tls_context = cell;
    return *cell;
}

std::shared_ptr<const void> assign(ContextCell& cell, std::uint64_t var,
                                   std::shared_ptr<const void> value) {
    auto next = std::make_shared<ContextData>();
    std::shared_ptr<const void> old;
    if (cell.data) {
        next->entries.reserve(cell.data->entries.size() + 1);
        for (const ContextData::Entry& e : cell.data->entries) {
            if (e.var == var) {
                old = e.value;
            } else {
                next->entries.push_back(e);
            }
        }
    }
    if (value) {
        auto at = std::lower_bound(
            next->entries.begin(), next->entries.end(), var,
            [](const ContextData::Entry& e, std::uint64_t v) { return e.var < v; });
        next->entries.insert(at, ContextData::Entry{var, std::move(value)});
    }
    if (next->entries.empty()) {
        cell.data = nullptr;
    } else {
        cell.data = std::move(next);
    }
    return old;
}

}  // namespace detail

Context copy_context() {
    detail::ContextCell* c = detail::tls_context;
    return Context(detail::ContextRef::make(c != nullptr ? c->data : nullptr));
}

}  // namespace corio
