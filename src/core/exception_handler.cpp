// src/core/exception_handler.cpp - the loop's exception handler and its
// default, which writes the report to stderr.
#include <cstdio>
#include <exception>
#include <vector>

#include "corio/errors.hpp"
#include "corio/event_loop.hpp"

namespace corio {

void EventLoop::set_exception_handler(ExceptionHandler handler) {
    handler_ = std::move(handler);
}

void EventLoop::call_exception_handler(const ExceptionContext& ctx) noexcept {
    if (!handler_) {
        default_exception_handler(ctx);
        return;
    }
    try {
        handler_(*this, ctx);
    } catch (...) {
        default_exception_handler(ExceptionContext{
            "Unhandled error in exception handler", std::current_exception(), {}, {}});
        default_exception_handler(ctx);
    }
}

void EventLoop::default_exception_handler(const ExceptionContext& ctx) noexcept {
    try {
        std::string text = "corio: " + ctx.message + "\n";
        if (!ctx.task.empty()) {
            text += "  task: " + ctx.task;
            if (!ctx.source.empty()) {
                text += " (created by " + ctx.source + ")";
            }
            text += "\n";
        } else if (!ctx.source.empty()) {
            text += "  source: " + ctx.source + "\n";
        }
        if (ctx.exception) {
            // The chain of causes, innermost first, as Python prints it.
            std::vector<std::exception_ptr> chain;
            for (std::exception_ptr e = ctx.exception; e && chain.size() < 64;
                 e = exception_cause(e)) {
                chain.push_back(e);
            }
            for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
                if (it != chain.rbegin()) {
                    text +=
                        "  The above exception was the direct cause of the following "
                        "exception:\n";
                }
                text += "  exception: " + describe_exception(*it) + "\n";
            }
        }
        std::fputs(text.c_str(), stderr);
    } catch (...) {
        std::fputs("corio: (out of memory while reporting an error)\n", stderr);
    }
}

}  // namespace corio
