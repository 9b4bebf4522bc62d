// The function registry, and the worker side of the protocol: what a
// process started with the worker marker runs instead of main().
#include <cxxabi.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "child.hpp"
#include "corio/process/registry.hpp"
#include "corio/task.hpp"

namespace corio::process {

namespace detail {

namespace {

// Written during static initialisation (registrations), read afterwards;
// the mutex covers registrations made later, from any thread.
struct Registry {
    std::mutex mu;
    std::map<std::string, FunctionEntry, std::less<>> by_name;
    std::unordered_map<FnKey, std::string> by_key;
};

Registry& registry() {
    static Registry r;
    return r;
}

std::string demangle(const char* name) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                             std::free);
    return status == 0 && d ? std::string(d.get()) : std::string(name);
}

// The outcome of the exception being handled.
Outcome failed_outcome() {
    Outcome o;
    try {
        throw;
    } catch (const std::exception& e) {
        o.error_type = demangle(typeid(e).name());
        o.value = e.what();
    } catch (const CancelledError& e) {
        o.error_type = "corio::CancelledError";
        o.value = e.what();
    } catch (...) {
        std::type_info* t = abi::__cxa_current_exception_type();
        o.error_type = t ? demangle(t->name()) : "unknown exception";
        o.value = "a non-standard exception";
    }
    return o;
}

Outcome not_found(const std::string& name) {
    Outcome o;
    o.error_type = "corio::LookupError";
    o.value =
        "no function is registered as '" + name + "' in this program (CORIO_PROCESS_REGISTER)";
    return o;
}

Outcome run_one(const FunctionEntry& f, std::string_view args) {
    Outcome o;
    try {
        f.run(args, o.value);
        o.ok = true;
    } catch (...) {
        o = failed_outcome();
    }
    return o;
}

Task<Outcome> run_one_async(const FunctionEntry* f, std::string args) {
    Outcome o;
    try {
        o.value = co_await f->run_async(std::move(args));
        o.ok = true;
    } catch (...) {
        o = failed_outcome();
    }
    co_return o;
}

// Request::call_async: the calls run as concurrent tasks on one loop.
Task<std::vector<Outcome>> run_chunk_async(const FunctionEntry* f, std::vector<std::string> args) {
    std::vector<TaskHandle<Outcome>> tasks;
    tasks.reserve(args.size());
    for (auto& a : args) {
        tasks.push_back(create_task(run_one_async(f, std::move(a))));
    }
    std::vector<Outcome> out;
    out.reserve(tasks.size());
    for (auto& t : tasks) {
        out.push_back(co_await t);
    }
    co_return out;
}

std::vector<Outcome> serve(const Request& req) {
    std::vector<Outcome> out;
    const FunctionEntry* f = find_function(req.name);
    if (!f) {
        out.assign(req.args.size(), not_found(req.name));
    } else if (req.kind == Request::call_async) {
        out = corio::run(run_chunk_async(f, req.args));
    } else {
        for (const auto& a : req.args) {
            out.push_back(run_one(*f, a));
        }
    }
    return out;
}

// Mode::pool: requests until the parent closes the channel.
// A frame carries a batch of requests (the jobs a feeding thread took at
// once); the reply carries one outcome list per request, in order.
int serve_pool(int fd) {
    std::string frame;
    while (recv_frame(fd, frame)) {
        std::vector<std::vector<Outcome>> reply;
        try {
            for (const Request& req : decode<std::vector<Request>>(frame)) {
                reply.push_back(serve(req));
            }
        } catch (...) {
            reply.assign(1, std::vector<Outcome>{failed_outcome()});
        }
        std::fflush(nullptr);  // what the calls printed comes before their results
        if (!send_frame(fd, encode(reply))) {
            return 1;
        }
    }
    return 0;
}

// Mode::once: one call; exit code 1 if it threw (Python's Process prints
// the traceback to stderr and exits with 1).
int serve_once(int fd) {
    std::string frame;
    if (!recv_frame(fd, frame)) {
        return 1;
    }
    std::vector<Outcome> reply;
    try {
        reply = serve(decode<Request>(frame));
    } catch (...) {
        reply.push_back(failed_outcome());
    }
    bool ok = !reply.empty() && reply.front().ok;
    if (!ok && !reply.empty()) {
        std::fprintf(stderr, "corio::process (pid %d): %s: %s\n", static_cast<int>(::getpid()),
                     reply.front().error_type.c_str(), reply.front().value.c_str());
    }
    std::fflush(nullptr);           // the child's output comes before the parent sees the result
    send_frame(fd, encode(reply));  // nobody may be listening (Process): that is fine
    return ok ? 0 : 1;
}

}  // namespace

void register_function(FnKey key, const char* name, SyncInvoker run, AsyncInvoker run_async) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    auto [it, fresh] = r.by_name.try_emplace(name, FunctionEntry{name, run, run_async});
    if (!fresh && it->second.run != run) {
        std::fprintf(stderr, "corio::process: two functions are registered as '%s'\n", name);
        std::abort();
    }
    r.by_key.try_emplace(key, name);
}

const std::string& registered_name(FnKey key) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.by_key.find(key);
    if (it == r.by_key.end()) {
        throw std::invalid_argument(
            "corio::process: fn is not registered (add CORIO_PROCESS_REGISTER(fn) at namespace "
            "scope)");
    }
    return it->second;
}

const FunctionEntry* find_function(std::string_view name) {
    Registry& r = registry();
    std::lock_guard lock(r.mu);
    auto it = r.by_name.find(name);
    return it == r.by_name.end() ? nullptr : &it->second;
}

}  // namespace detail

void worker_main_if_child(int argc, char** argv) {
    const std::size_t len = std::strlen(detail::kWorkerMarker);
    if (argc < 2 || std::strncmp(argv[1], detail::kWorkerMarker, len) != 0) {
        return;
    }
    const char* spec = argv[1] + len;
    int fd = -1;
    int code = 2;
    if (std::strncmp(spec, "pool:", 5) == 0) {
        fd = std::atoi(spec + 5);
        code = detail::serve_pool(fd);
    } else if (std::strncmp(spec, "once:", 5) == 0) {
        fd = std::atoi(spec + 5);
        code = detail::serve_once(fd);
    } else {
        std::fprintf(stderr, "corio::process: bad worker marker '%s'\n", argv[1]);
    }
    std::fflush(nullptr);
    ::_exit(code);
}

}  // namespace corio::process
