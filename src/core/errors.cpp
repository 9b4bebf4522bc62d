// src/core/errors.cpp - ExceptionGroup and describe_exception.
#include "corio/errors.hpp"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <memory>
#include <typeinfo>

namespace corio {

namespace {

std::string demangle(const char* name) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status),
                                               std::free);
    return status == 0 && out ? std::string(out.get()) : std::string(name);
}

std::string group_text(const std::string& message, const std::vector<std::exception_ptr>& errs) {
    std::string text = message + " (" + std::to_string(errs.size()) + " sub-exception" +
                       (errs.size() == 1 ? "" : "s") + ")";
    for (const auto& e : errs) {
        text += "\n  - " + describe_exception(e);
    }
    return text;
}

// std::throw_with_nested(E) throws a library class derived from E and from
// std::nested_exception (libstdc++: std::_Nested_exception<E>, libc++:
// std::__nested<E>): name it by E.
std::string type_name(const std::exception& x) {
    std::string name = demangle(typeid(x).name());
    if (dynamic_cast<const std::nested_exception*>(&x) != nullptr && name.rfind("std::", 0) == 0 &&
        name.back() == '>') {
        std::size_t open = name.find('<');
        if (open != std::string::npos) {
            return name.substr(open + 1, name.size() - open - 2);
        }
    }
    return name;
}

}  // namespace

ExceptionGroup::ExceptionGroup(std::string message, std::vector<std::exception_ptr> exceptions)
    : Error(group_text(message, exceptions)),
      message_(std::move(message)),
      exceptions_(std::move(exceptions)) {}

std::string describe_exception(const std::exception_ptr& e) {
    if (!e) {
        return "(no exception)";
    }
    try {
        std::rethrow_exception(e);
    } catch (const CancelledError& c) {
        return c.message().empty() ? "corio::CancelledError"
                                   : "corio::CancelledError: " + c.message();
    } catch (const std::exception& x) {
        return type_name(x) + ": " + x.what();
    } catch (...) {
        const std::type_info* t = abi::__cxa_current_exception_type();
        return t ? demangle(t->name()) : std::string("unknown exception");
    }
}

std::exception_ptr exception_cause(const std::exception_ptr& e) {
    if (!e) {
        return nullptr;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::nested_exception& n) {
        return n.nested_ptr();
    } catch (...) {
        return nullptr;
    }
}

std::string format_exception(const std::exception_ptr& e) {
    std::vector<std::exception_ptr> chain;  // e, its cause, the cause's cause, ...
    for (std::exception_ptr x = e; x && chain.size() < 64; x = exception_cause(x)) {
        chain.push_back(x);
    }
    if (chain.empty()) {
        return describe_exception(e) + "\n";
    }
    std::string text;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        if (it != chain.rbegin()) {
            text += "\nThe above exception was the direct cause of the following exception:\n\n";
        }
        text += describe_exception(*it) + "\n";
    }
    return text;
}

}  // namespace corio
