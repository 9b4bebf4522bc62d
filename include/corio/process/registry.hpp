// corio/process/registry.hpp - functions that can run in another process,
// and the hook that turns a process into a worker.
//
// Python sends a function to a worker process by pickling a reference to
// it (its module and name); the worker imports it. C++ has no import by
// name, so a function that may run in another process is registered under
// its name, in the program itself:
//
//   int add(int a, int b) { return a + b; }
//   CORIO_PROCESS_REGISTER(add);
//
// Workers are started by fork+exec of the same executable (/proc/self/exe),
// never by a bare fork: a fork copies one thread of a process whose other
// threads may hold locks (the allocator's, stdio's), which a child can then
// never take; exec starts clean and is safe whatever threads the parent runs.
// The executable learns that it is a worker from a marker argument, so its
// main() must begin with
//
//   int main(int argc, char** argv) {
//       corio::process::worker_main_if_child(argc, argv);
//       ...
//
// We chose an explicit call over an automatic static hook: a hook in a
// static library is dropped by the linker unless something references it,
// and it would run before the program's own registrations (static
// initialisation order), so it could not find them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "corio/process/codec.hpp"
#include "corio/process/errors.hpp"
#include "corio/run.hpp"
#include "corio/task.hpp"

namespace corio::process {

/// If this process was started as a corio::process worker (its argv[1] is
/// the marker the pools pass), runs the worker until its parent is done
/// with it and ends the process with _exit (never returning); otherwise
/// returns at once. Call it first in main(), before the program starts
/// threads or prints: in a worker, main's own code never runs.
void worker_main_if_child(int argc, char** argv);

namespace detail {

/// A registered function's identity in this process (its address).
using FnKey = void (*)();

/// Decodes the arguments from `args`, calls the function and appends the
/// encoded result to `out` (a coroutine function runs to completion on a
/// new event loop). Throws what the function throws, or CodecError.
using SyncInvoker = void (*)(std::string_view args, std::string& out);
/// The same as a coroutine on the running loop (AsyncPool's workers run
/// several at once); a plain function runs inline.
using AsyncInvoker = Task<std::string> (*)(std::string args);

struct FunctionEntry {
    std::string name;
    SyncInvoker run;
    AsyncInvoker run_async;
};

/// Registers `name` (aborts the program on a duplicate name: two
/// registrations would make a worker run the wrong function).
void register_function(FnKey key, const char* name, SyncInvoker run, AsyncInvoker run_async);
/// The name `key` was registered under; throws std::invalid_argument naming
/// the problem if it was not.
const std::string& registered_name(FnKey key);
/// The entry registered as `name`, or null.
const FunctionEntry* find_function(std::string_view name);

template <class T>
using carried_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

template <class R>
struct Unwrap {
    using type = R;
    static constexpr bool is_task = false;
};
template <class U>
struct Unwrap<Task<U>> {
    using type = U;
    static constexpr bool is_task = true;
};

template <class F>
struct FnTraits;
template <class R, class... P>
struct FnTraits<R (*)(P...)> {
    using Args = std::tuple<std::decay_t<P>...>;
    /// What the call produces: R, or U for a coroutine function Task<U>.
    using Result = typename Unwrap<R>::type;
    static constexpr bool is_coroutine = Unwrap<R>::is_task;
};
template <class R, class... P>
struct FnTraits<R (*)(P...) noexcept> : FnTraits<R (*)(P...)> {};

template <class F>
FnKey key_of(F* fn) noexcept {
    return reinterpret_cast<FnKey>(fn);
}

/// The encoded argument tuple for `fn(args...)`, converted to fn's own
/// parameter types first, so both processes agree on the layout.
template <class F, class... A>
std::string encode_args(F* fn, A&&... args) {
    (void)fn;
    using Args = typename FnTraits<F*>::Args;
    static_assert(std::tuple_size_v<Args> == sizeof...(A), "wrong number of arguments");
    return encode(Args(std::forward<A>(args)...));
}

template <auto F>
void invoke_sync(std::string_view bytes, std::string& out) {
    using T = FnTraits<decltype(F)>;
    auto args = decode<typename T::Args>(bytes);
    if constexpr (T::is_coroutine) {
        if constexpr (std::is_void_v<typename T::Result>) {
            corio::run(std::apply(F, std::move(args)));
            encode_into(out, std::monostate{});
        } else {
            encode_into(out, corio::run(std::apply(F, std::move(args))));
        }
    } else if constexpr (std::is_void_v<typename T::Result>) {
        std::apply(F, std::move(args));
        encode_into(out, std::monostate{});
    } else {
        encode_into(out, std::apply(F, std::move(args)));
    }
}

template <auto F>
Task<std::string> invoke_async(std::string bytes) {
    using T = FnTraits<decltype(F)>;
    std::string out;
    if constexpr (T::is_coroutine) {
        auto args = decode<typename T::Args>(bytes);
        if constexpr (std::is_void_v<typename T::Result>) {
            co_await std::apply(F, std::move(args));
            encode_into(out, std::monostate{});
        } else {
            encode_into(out, co_await std::apply(F, std::move(args)));
        }
    } else {
        invoke_sync<F>(bytes, out);
    }
    co_return out;
}

/// What travels to a worker: which function, and one argument tuple per
/// call (a chunk of map()). `kind` says how the calls run.
struct Request {
    enum Kind : std::uint8_t {
        call = 1,        // one after another
        call_async = 2,  // concurrently, as tasks on the worker's event loop
        init = 3,        // the pool's initializer (one argument tuple)
    };
    std::uint8_t kind = call;
    std::string name;
    std::vector<std::string> args;
    CORIO_PROCESS_FIELDS(kind, name, args)
};

/// One call's outcome: its encoded result, or its exception's type and
/// message.
struct Outcome {
    bool ok = false;
    std::string value;  // the encoded result, or the exception's message
    std::string error_type;
    CORIO_PROCESS_FIELDS(ok, value, error_type)
    bool operator==(const Outcome&) const = default;
};

/// Decodes one outcome as the caller's result type; throws RemoteError for
/// a failed call.
template <class R>
carried_t<R> take_outcome(Outcome& o);

}  // namespace detail

/// Registers function `F` under `name` at static-initialisation time; use
/// CORIO_PROCESS_REGISTER. F is a plain function (a lambda cannot be named
/// in another process); its parameters and result must be encodable
/// (codec.hpp). A coroutine function returning Task<T> is registered the
/// same way: a worker runs it on an event loop.
template <auto F>
struct Registrar {
    explicit Registrar(const char* name) {
        detail::register_function(detail::key_of(F), name, &detail::invoke_sync<F>,
                                  &detail::invoke_async<F>);
    }
};

}  // namespace corio::process

#define CORIO_PROCESS_CAT2(a, b) a##b
#define CORIO_PROCESS_CAT(a, b) CORIO_PROCESS_CAT2(a, b)
/// Registers `fn` under its own spelling, at namespace scope:
/// `CORIO_PROCESS_REGISTER(add);`, `CORIO_PROCESS_REGISTER(work::crunch);`.
#define CORIO_PROCESS_REGISTER(fn) CORIO_PROCESS_REGISTER_AS(fn, #fn)
/// Registers `fn` under `name`. (An overloaded function cannot be named by
/// address: wrap the overload you mean in a function of its own.)
#define CORIO_PROCESS_REGISTER_AS(fn, name)                                           \
    [[maybe_unused]] static const ::corio::process::Registrar<&fn> CORIO_PROCESS_CAT( \
        corio_process_registrar_, __COUNTER__) {                                      \
        name                                                                          \
    }

namespace corio::process::detail {

template <class R>
carried_t<R> take_outcome(Outcome& o) {
    if (!o.ok) {
        throw RemoteError(std::move(o.error_type), std::move(o.value));
    }
    return decode<carried_t<R>>(o.value);
}

}  // namespace corio::process::detail
