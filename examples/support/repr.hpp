// examples/support/repr.hpp - Python-style printing for the examples, so that
// they print what the tutorials print: repr() of strings, numbers, lists and
// sets, floats in Python's shortest form, timedeltas, exceptions, and a short
// description of corio tasks in the spirit of asyncio's Task repr.
//
//   repr(std::string("foo"))    'foo'          repr(2.0)      2.0
//   list_repr(v)                [0, 1, 2]      set_repr({})   set()
//   py_timedelta(1500ms)        0:00:01.500000
//   repr(exception_ptr)         std::runtime_error('fake runtime error')
//   repr(task)                  <Task finished name='Task-2' result='foo'>
//                               <Task pending name='Task-3'>
//                               <Task cancelled name='Task-3'>
//                               <Task finished name='Task-2' exception=std::runtime_error('boom')>
//   repr(concurrent_future)     <Future at 0x55d0c3a1e2b0 state=running>
//   print_traceback(e)          the exception and its causes, as a traceback shows them
//
// Python's Task repr also names the coroutine and its source line; corio's
// description keeps what is deterministic: name, state, result.
// Example code, not corio API.
#pragma once

#include <charconv>
#include <chrono>
#include <concepts>
#include <corio/corio.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "support/generator.hpp"

namespace example {

/// The line without its trailing "\n", for printing (Python's
/// `line.rstrip("\n")` after decode()).
inline std::string chomp(std::string line) {
    if (!line.empty() && line.back() == '\n') {
        line.pop_back();
    }
    return line;
}

/// Python's repr(float): the shortest digits that read back as `v`, in fixed
/// notation when the exponent is in [-4, 16), else in scientific notation.
inline std::string py_float(double v) {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    std::string sci(buf, end);  // e.g. "-2.00263e+00"
    std::string sign;
    if (sci[0] == '-') {
        sign = "-";
        sci.erase(0, 1);
    }
    std::size_t e = sci.find('e');
    int exp = std::atoi(sci.c_str() + e + 1);
    std::string digits = sci.substr(0, e);
    if (digits.size() > 1) {
        digits.erase(1, 1);  // drop the '.'
    }
    if (exp < -4 || exp >= 16) {
        std::string out = sign + digits.substr(0, 1);
        if (digits.size() > 1) {
            out += "." + digits.substr(1);
        }
        char ebuf[16];
        std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
        return out + ebuf;
    }
    if (exp < 0) {
        return sign + "0." + std::string(static_cast<std::size_t>(-exp - 1), '0') + digits;
    }
    auto point = static_cast<std::size_t>(exp) + 1;
    if (digits.size() <= point) {
        return sign + digits + std::string(point - digits.size(), '0') + ".0";
    }
    return sign + digits.substr(0, point) + "." + digits.substr(point);
}

/// Python's str(timedelta): "H:MM:SS" plus ".ffffff" when there are
/// microseconds, and "N day(s), " before it (non-negative durations).
template <class Rep, class Period>
std::string py_timedelta(std::chrono::duration<Rep, Period> d) {
    auto us =
        static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
    long long days = us / 86400000000LL;
    us %= 86400000000LL;
    long long secs = us / 1000000;
    char buf[64];
    int n = std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", secs / 3600, secs / 60 % 60,
                          secs % 60);
    if (us % 1000000 != 0) {
        std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%06lld", us % 1000000);
    }
    std::string out = buf;
    if (days != 0) {
        out = std::to_string(days) + (days == 1 ? " day, " : " days, ") + out;
    }
    return out;
}

// -- repr() of values -----------------------------------------------------------

inline std::string repr(std::string_view s) {
    return "'" + std::string(s) + "'";
}
inline std::string repr(const std::string& s) {
    return repr(std::string_view(s));
}
inline std::string repr(const char* s) {
    return repr(std::string_view(s));
}
inline std::string repr(char c) {
    return repr(std::string_view(&c, 1));
}
inline std::string repr(bool b) {
    return b ? "True" : "False";
}
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) std::string repr(T v) {
    return std::to_string(v);
}
inline std::string repr(double v) {
    return py_float(v);
}
inline std::string repr(std::monostate) {  // corio::Unit, the result of a void task
    return "None";
}
inline std::string repr(None) {
    return "None";
}

/// An exception as Python shows one in a list: `type('message')`.
inline std::string repr(const std::exception_ptr& e) {
    std::string d = corio::describe_exception(e);  // "type: what" or "type"
    std::size_t colon = d.find(": ");
    if (colon == std::string::npos) {
        return d + "()";
    }
    return d.substr(0, colon) + "(" + repr(std::string_view(d).substr(colon + 2)) + ")";
}

/// What Python's traceback prints for an exception, without the stack
/// frames: its chain of causes, innermost first, each followed by "The above
/// exception was the direct cause of the following exception:" (see
/// corio::format_exception). Python: `traceback.print_exception(e)`.
inline void print_traceback(const std::exception_ptr& e) {
    std::fputs(corio::format_exception(e).c_str(), stdout);
}

template <class... Ts>
std::string repr(const std::variant<Ts...>& v);
template <class T>
std::string repr(const corio::Outcome<T>& o);
template <class T>
std::string repr(const corio::TaskHandle<T>& t);

template <class... Ts>
std::string repr(const std::variant<Ts...>& v) {
    return std::visit([](const auto& x) { return repr(x); }, v);
}

/// One result of gather_settled(): the value, or the exception in its place.
template <class T>
std::string repr(const corio::Outcome<T>& o) {
    if (o.has_value()) {
        return repr(const_cast<corio::Outcome<T>&>(o).value());
    }
    return repr(o.error());
}

/// A task: `<Task STATE name='NAME'[ result=R | exception=E]>`.
template <class T>
std::string repr(const corio::TaskHandle<T>& t) {
    std::string head = "name=" + repr(t.get_name());
    if (!t.done()) {
        return "<Task pending " + head + ">";
    }
    if (t.cancelled()) {
        return "<Task cancelled " + head + ">";
    }
    if (std::exception_ptr e = t.exception()) {
        return "<Task finished " + head + " exception=" + repr(e) + ">";
    }
    if constexpr (std::is_void_v<T>) {
        return "<Task finished " + head + " result=None>";
    } else {
        return "<Task finished " + head + " result=" + repr(t.result()) + ">";
    }
}

/// A concurrent future, as Python prints a concurrent.futures.Future:
/// `<Future at 0xADDRESS state=pending|running|cancelled>`, and once finished
/// `<Future at 0xADDRESS state=finished returned|raised TYPE>` (TYPE: Python's
/// type name for void, int, double and strings, else the C++ exception type).
template <class T>
std::string repr(const corio::ConcurrentFuture<T>& f) {
    char head[64];
    std::snprintf(head, sizeof head, "<Future at %p state=", static_cast<void*>(f.state().get()));
    if (f.cancelled()) {
        return head + std::string("cancelled>");
    }
    if (!f.done()) {
        return head + std::string(f.running() ? "running>" : "pending>");
    }
    if (std::exception_ptr e = f.exception()) {
        std::string d = corio::describe_exception(e);
        return head + ("finished raised " + d.substr(0, d.find(": ")) + ">");
    }
    const char* type = "object";
    if constexpr (std::is_void_v<T>) {
        type = "NoneType";
    } else if constexpr (std::is_same_v<T, bool>) {
        type = "bool";
    } else if constexpr (std::is_integral_v<T>) {
        type = "int";
    } else if constexpr (std::is_floating_point_v<T>) {
        type = "float";
    } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
        type = "str";
    }
    return head + ("finished returned " + std::string(type) + ">");
}

// -- containers -----------------------------------------------------------------

/// Python's list repr: `[a, b, c]`.
template <class Range>
std::string list_repr(const Range& items) {
    std::string out = "[";
    for (const auto& x : items) {
        out += (out.size() > 1 ? ", " : "") + repr(x);
    }
    return out + "]";
}
/// A tuple (e.g. gather's results) printed as Python's list.
template <class... Ts>
std::string list_repr(const std::tuple<Ts...>& items) {
    std::string out = "[";
    std::apply([&](const auto&... x) { ((out += (out.size() > 1 ? ", " : "") + repr(x)), ...); },
               items);
    return out + "]";
}
/// Python's set repr: `{a, b}`, or `set()` when empty (in the given order).
template <class T>
std::string set_repr(const std::vector<T>& items) {
    if (items.empty()) {
        return "set()";
    }
    std::string out = list_repr(items);
    return "{" + out.substr(1, out.size() - 2) + "}";
}

}  // namespace example
