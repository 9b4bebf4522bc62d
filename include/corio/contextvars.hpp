// corio/contextvars.hpp - context variables: ContextVar<T>, Token<T>,
// Context, copy_context.
//
// Mirrors Python's contextvars module and how asyncio uses it: every task
// runs in a copy of the context current when it was created, callbacks run
// in the context current when they were scheduled, to_thread() carries the
// caller's context into the worker. Values set in a task are seen by that
// task and by the tasks it creates afterwards, never by its parent:
//   inline corio::ContextVar<std::string> request_id("request_id", "-");
//   auto token = request_id.set("r-42");      // this task, and tasks it creates
//   log(request_id.get());                    // "r-42"
//   request_id.reset(token);                  // back to what it was
//
// Representation (CPython's, with a sorted vector instead of a HAMT): a
// Context is a cell holding a pointer to immutable data, an array of
// (variable, value) pairs sorted by variable. copy_context() and
// create_task() copy the pointer, not the pairs; set() builds new data and
// swaps the cell's pointer (O(number of variables set)). A task that never
// touches a ContextVar holds no context at all: nothing is allocated or
// copied for it.
//
// Threads. Each thread has a current context (thread-local). A cell and its
// data are reference counted atomically, so contexts can move between
// threads (to_thread, call_soon_threadsafe); a cell is changed only by the
// thread on which it is current.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "corio/errors.hpp"

namespace corio {

template <class T>
class ContextVar;
template <class T>
class Token;
class Context;

namespace detail {

// The immutable (variable id, value) pairs of a context, sorted by id.
struct ContextData {
    struct Entry {
        std::uint64_t var;
        std::shared_ptr<const void> value;
    };
    std::vector<Entry> entries;

    const Entry* find(std::uint64_t var) const noexcept {
        auto it = std::lower_bound(entries.begin(), entries.end(), var,
                                   [](const Entry& e, std::uint64_t v) { return e.var < v; });
        return it != entries.end() && it->var == var ? &*it : nullptr;
    }
};
using ContextDataPtr = std::shared_ptr<const ContextData>;

// A context: what Python's Context object is. `data` is null when empty.
struct ContextCell {
    std::atomic<std::uint32_t> refs{1};
    std::atomic<bool> entered{false};  // inside Context::run()
    ContextDataPtr data;
};

// A counted reference to a ContextCell.
class ContextRef {
public:
    ContextRef() noexcept = default;
    /// Adopts one reference.
    explicit ContextRef(ContextCell* c) noexcept : c_(c) {}
    ContextRef(const ContextRef& o) noexcept : c_(o.c_) {
        if (c_) {
            c_->refs.fetch_add(1, std::memory_order_relaxed);
        }
    }
    ContextRef(ContextRef&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
    ContextRef& operator=(ContextRef o) noexcept {
        std::swap(c_, o.c_);
        return *this;
    }
    ~ContextRef() { release(c_); }

    ContextCell* get() const noexcept { return c_; }
    explicit operator bool() const noexcept { return c_ != nullptr; }

    /// A new cell holding `data`.
    static ContextRef make(ContextDataPtr data);

private:
    static void release(ContextCell* c) noexcept;
    ContextCell* c_ = nullptr;
};

// The context current on this thread (borrowed: whoever made it current
// holds a reference), or null: the implicit empty context of what runs now,
// made real by the first set() (writable_context()).
inline thread_local ContextCell* tls_context = nullptr;
// Where a context made real by set() is kept when no task is running: the
// running callback's handle, a to_thread call, the running loop; null: the
// thread itself.
inline thread_local ContextRef* tls_context_slot = nullptr;

/// A copy of the current context for a task or callback being created, or
/// null when the current context is empty (nothing to copy: the common case
/// costs one thread-local load).
inline ContextRef capture_context() {
    ContextCell* c = tls_context;
    if (c == nullptr || !c->data) {
        return {};
    }
    return ContextRef::make(c->data);
}

/// The current context, made real if it was implicit (see tls_context_slot).
ContextCell& writable_context();

/// Makes `cell` current (null: an implicit empty context, made real into
/// `slot` by set()) for the scope's lifetime.
class ContextScope {
public:
    ContextScope(ContextCell* cell, ContextRef* slot) noexcept
        : outer_(tls_context), outer_slot_(tls_context_slot) {
        tls_context = cell;
        tls_context_slot = slot;
    }
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;
    ~ContextScope() {
        tls_context = outer_;
        tls_context_slot = outer_slot_;
    }

private:
    ContextCell* outer_;
    ContextRef* outer_slot_;
};

/// A process-wide unique id per ContextVar.
std::uint64_t next_context_var_id() noexcept;
/// The value of `var` in `cell` (null for none).
inline const void* lookup(const ContextCell* cell, std::uint64_t var) noexcept {
    if (cell == nullptr || !cell->data) {
        return nullptr;
    }
    const ContextData::Entry* e = cell->data->find(var);
    return e != nullptr ? e->value.get() : nullptr;
}
/// Sets (or with a null value, removes) `var` in `cell`; returns the old
/// value (null if there was none).
std::shared_ptr<const void> assign(ContextCell& cell, std::uint64_t var,
                                   std::shared_ptr<const void> value);

}  // namespace detail

/// A context: the values of every ContextVar, as one object. Copies refer to
/// the same context (Python objects are references); copy() makes an
/// independent one. asyncio gives each task one (see create_task) and each
/// callback one (see call_soon); run() makes it current explicitly. Not
/// thread-safe: use a Context on one thread at a time. Python:
/// `contextvars.Context`.
class Context {
public:
    /// A new, empty context. Python: `contextvars.Context()`.
    Context() : ref_(detail::ContextRef::make(nullptr)) {}
    /// The context held by `ref` (internal).
    explicit Context(detail::ContextRef ref) noexcept : ref_(std::move(ref)) {}

    /// Calls `f(args...)` with this context current and returns its result:
    /// ContextVar::set() inside changes this context, and the caller's
    /// context is current again afterwards (also when `f` throws). Throws
    /// RuntimeError if the context is already entered (by run() anywhere, or
    /// as the current context of this thread). Python: `Context.run`.
    template <class F, class... Args>
    decltype(auto) run(F&& f, Args&&... args) {
        detail::ContextCell* cell = ref_.get();
        if (cell == detail::tls_context || cell->entered.exchange(true)) {
            throw RuntimeError("cannot enter context: the Context is already entered");
        }
        struct Leave {
            detail::ContextCell* cell;
            detail::ContextScope scope;
            ~Leave() { cell->entered.store(false); }
        } leave{cell, {cell, nullptr}};
        return std::forward<F>(f)(std::forward<Args>(args)...);
    }

    /// An independent copy (same values now, changes not shared). Python:
    /// `Context.copy`.
    Context copy() const { return Context(detail::ContextRef::make(ref_.get()->data)); }

    /// The value of `var` in this context, or nullopt (its default does not
    /// count). Python: `ctx.get(var)`.
    template <class T>
    std::optional<T> get(const ContextVar<T>& var) const;
    /// True if `var` has a value in this context. Python: `var in ctx`.
    template <class T>
    bool contains(const ContextVar<T>& var) const {
        return detail::lookup(ref_.get(), var.id()) != nullptr;
    }
    /// How many variables have a value here. Python: `len(ctx)`.
    std::size_t size() const noexcept {
        const auto& d = ref_.get()->data;
        return d ? d->entries.size() : 0;
    }

    friend bool operator==(const Context& a, const Context& b) noexcept {
        return a.ref_.get() == b.ref_.get();
    }

    /// The cell (internal).
    const detail::ContextRef& ref() const noexcept { return ref_; }

private:
    detail::ContextRef ref_;
};

/// A copy of the current context (of the running task, callback or thread):
/// a new Context with the same values. Python: `contextvars.copy_context`.
Context copy_context();

/// What ContextVar::set() returns, to undo the set with reset(): the
/// variable, the value it had before (Python's Token.MISSING is nullopt), the
/// context it was set in. Usable once; move-only. Python:
/// `contextvars.Token`.
template <class T>
class Token {
public:
    Token(Token&&) noexcept = default;
    Token& operator=(Token&&) noexcept = default;
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;

    /// The variable that set() changed. Python: `Token.var`.
    const ContextVar<T>& var() const noexcept { return *var_; }
    /// Its value before set(), or nullopt if it had none (Token.MISSING).
    /// Python: `Token.old_value`.
    std::optional<T> old_value() const {
        if (!old_) {
            return std::nullopt;
        }
        return *static_cast<const T*>(old_.get());
    }
    /// True once reset() used it.
    bool used() const noexcept { return used_; }

private:
    friend class ContextVar<T>;
    Token(const ContextVar<T>* var, detail::ContextRef ctx, std::shared_ptr<const void> old)
        : var_(var), ctx_(std::move(ctx)), old_(std::move(old)) {}

    const ContextVar<T>* var_;
    detail::ContextRef ctx_;
    std::shared_ptr<const void> old_;
    bool used_ = false;
};

/// A context variable: a value per context (so per task, per callback), read
/// with get() and changed with set() in the current context only. Declare it
/// once, at namespace scope (`inline`) or as a static member, as Python
/// declares them at module level; it is neither copyable nor movable (its
/// identity is the key). Every member may be called from any thread; they
/// act on that thread's current context. Nothing here suspends, and
/// cancellation does not apply. Python: `contextvars.ContextVar`.
template <class T>
class ContextVar {
public:
    static_assert(!std::is_reference_v<T>, "ContextVar<T&> is not supported; use a pointer");

    /// A variable without a default: get() throws LookupError until set.
    explicit ContextVar(std::string name)
        : id_(detail::next_context_var_id()), name_(std::move(name)) {}
    /// A variable whose get() gives `default_value` until set.
    ContextVar(std::string name, T default_value)
        : id_(detail::next_context_var_id()),
          name_(std::move(name)),
          default_(std::move(default_value)) {}
    ContextVar(const ContextVar&) = delete;
    ContextVar& operator=(const ContextVar&) = delete;

    /// The name given at construction. Python: `ContextVar.name`.
    const std::string& name() const noexcept { return name_; }

    /// The value in the current context, else the variable's default; throws
    /// LookupError (naming the variable) if there is neither. Returns a copy.
    /// Python: `var.get()`.
    T get() const {
        if (const void* v = detail::lookup(detail::tls_context, id_)) {
            return *static_cast<const T*>(v);
        }
        if (default_) {
            return *default_;
        }
        throw LookupError("ContextVar '" + name_ + "' has no value in the current context");
    }
    /// The value in the current context, else `fallback` (even if the
    /// variable has a default, as in Python). Python: `var.get(default)`.
    T get(T fallback) const {
        if (const void* v = detail::lookup(detail::tls_context, id_)) {
            return *static_cast<const T*>(v);
        }
        return fallback;
    }

    /// Gives the variable `value` in the current context (seen by the current
    /// task, and by the tasks and callbacks it creates from now on) and
    /// returns a Token for reset(). Python: `var.set(value)`.
    Token<T> set(T value) {
        detail::ContextCell& cell = detail::writable_context();
        cell.refs.fetch_add(1, std::memory_order_relaxed);
        detail::ContextRef ctx(&cell);
        std::shared_ptr<const void> old =
            detail::assign(cell, id_, std::make_shared<const T>(std::move(value)));
        return Token<T>(this, std::move(ctx), std::move(old));
    }

    /// Restores the value the variable had before the set() that returned
    /// `token` (or removes it, if it had none). Throws RuntimeError if the
    /// token was used already, std::invalid_argument (Python's ValueError) if
    /// it belongs to another variable or was made in another context than
    /// the current one. Python: `var.reset(token)`.
    void reset(Token<T>& token) {
        if (token.used_) {
            throw RuntimeError("Token has already been used once");
        }
        if (token.var_ != this) {
            throw std::invalid_argument("Token was created by a different ContextVar");
        }
        if (token.ctx_.get() != detail::tls_context) {
            throw std::invalid_argument("Token was created in a different Context");
        }
        detail::assign(*token.ctx_.get(), id_, token.old_);
        token.used_ = true;
    }

    /// The variable's key in contexts (internal).
    std::uint64_t id() const noexcept { return id_; }

private:
    std::uint64_t id_;
    std::string name_;
    std::optional<T> default_;
};

template <class T>
std::optional<T> Context::get(const ContextVar<T>& var) const {
    if (const void* v = detail::lookup(ref_.get(), var.id())) {
        return *static_cast<const T*>(v);
    }
    return std::nullopt;
}

}  // namespace corio
