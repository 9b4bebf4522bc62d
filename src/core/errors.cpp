// src/core/errors.cpp - ExceptionGroup and describe_exception.
#include "corio/errors.hpp"

#include <cxxabi.h>

#include <cstdlib>
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
        return demangle(typeid(x).name()) + ": " + x.what();
    } catch (...) {
        const std::type_info* t = abi::__cxa_current_exception_type();
        return t ? demangle(t->name()) : std::string("unknown exception");
    }
}

}  // namespace corio
