// http/router.cpp - Application: the route table and the middleware onion.
//
// A route's path compiles to an ECMAScript regex when it has parameters
// (`{name}` -> `([^{}/]+)`, `{name:re}` -> `(re)`), to an exact string
// otherwise. Paths are matched as sent (percent-encoded); captured
// parameters are percent-decoded afterwards, so "%2F" inside a parameter
// never splits a segment. aiohttp: `UrlDispatcher`, `DynamicResource`.
#include <algorithm>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/http/url.hpp"
#include "corio/http/web.hpp"

namespace corio::http::web {

namespace {

struct Route {
    std::string method;   // "*" for any
    std::string literal;  // the path when it has no parameters
    std::optional<std::regex> pattern;
    std::vector<std::string> names;   // parameter names, in order
    std::vector<std::size_t> groups;  // the capture group of each name
    Handler handler;
};

std::string escape_regex(std::string_view s) {
    static constexpr std::string_view kSpecial = R"(\^$.|?*+()[]{}/)";
    std::string out;
    for (char c : s) {
        if (kSpecial.find(c) != std::string_view::npos) {
            out += '\\';
        }
        out += c;
    }
    return out;
}

[[noreturn]] void bad_path(std::string_view path, std::string_view why) {
    throw std::invalid_argument("add_route: path \"" + std::string(path) +
                                "\": " + std::string(why));
}

// Parses `{name}` / `{name:re}` starting after '{' at `i`; returns the index
// after the closing brace. Braces inside `re` must balance.
std::size_t parse_param(std::string_view path, std::size_t i, std::string& name, std::string& re) {
    int depth = 1;
    std::size_t start = i;
    for (; i < path.size(); ++i) {
        if (path[i] == '{') {
            ++depth;
        } else if (path[i] == '}' && --depth == 0) {
            break;
        }
    }
    if (depth != 0) {
        bad_path(path, "unbalanced '{'");
    }
    std::string_view inner = path.substr(start, i - start);
    std::size_t colon = inner.find(':');
    name.assign(inner.substr(0, colon));
    re = colon == std::string_view::npos ? std::string("[^{}/]+")
                                         : std::string(inner.substr(colon + 1));
    if (name.empty() || re.empty()) {
        bad_path(path, "empty parameter name or pattern");
    }
    return i + 1;
}

Route compile(std::string_view method, std::string_view path, Handler handler) {
    if (path.empty() || path[0] != '/') {
        bad_path(path, "must start with '/'");
    }
    if (!handler) {
        throw std::invalid_argument("add_route: handler is null");
    }
    Route r{std::string(method), {}, std::nullopt, {}, {}, std::move(handler)};
    if (path.find_first_of("{}") == std::string_view::npos) {
        r.literal.assign(path);
        return r;
    }
    std::string re;
    std::size_t group = 1;
    std::size_t i = 0;
    while (i < path.size()) {
        std::size_t brace = path.find_first_of("{}", i);
        re += escape_regex(path.substr(i, brace - i));
        if (brace == std::string_view::npos) {
            break;
        }
        if (path[brace] == '}') {
            bad_path(path, "unbalanced '}'");
        }
        std::string name, sub;
        i = parse_param(path, brace + 1, name, sub);
        std::size_t inner_groups = 0;
        try {
            inner_groups = std::regex(sub).mark_count();
        } catch (const std::regex_error& e) {
            bad_path(path, std::string("bad pattern for {") + name + "}: " + e.what());
        }
        r.names.push_back(name);
        r.groups.push_back(group);
        group += 1 + inner_groups;
        re += "(" + sub + ")";
    }
    r.pattern.emplace(re, std::regex::ECMAScript | std::regex::optimize);
    return r;
}

// Whether `r` matches `path`; fills `params` (decoded) when it does.
bool match(const Route& r, std::string_view path,
           std::map<std::string, std::string, std::less<>>& params) {
    if (!r.pattern) {
        return r.literal == path;
    }
    std::cmatch m;
    if (!std::regex_match(path.data(), path.data() + path.size(), m, *r.pattern)) {
        return false;
    }
    params.clear();
    for (std::size_t k = 0; k < r.names.size(); ++k) {
        std::optional<std::string> v = percent_decode(m[static_cast<int>(r.groups[k])].str());
        if (!v) {
            return false;
        }
        params[r.names[k]] = std::move(*v);
    }
    return true;
}

}  // namespace

struct Application::Impl {
    std::vector<Route> routes;
    std::vector<Middleware> middlewares;

    // Finds the handler for `req`; throws HTTPException(404/405).
    const Handler& resolve(Request& req) const {
        std::string_view raw = req.raw_path();
        raw = raw.substr(0, raw.find('?'));
        std::vector<std::string> allowed;
        std::map<std::string, std::string, std::less<>> params;
        for (const Route& r : routes) {
            if (!match(r, raw, params)) {
                continue;
            }
            if (r.method == "*" || r.method == req.method_name()) {
                RequestBuilder::match_info(req) = std::move(params);
                return r.handler;
            }
            allowed.push_back(r.method);
        }
        if (allowed.empty()) {
            throw HTTPException(404);
        }
        std::sort(allowed.begin(), allowed.end());
        allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
        std::string allow;
        for (const std::string& m : allowed) {
            allow += (allow.empty() ? "" : ", ") + m;
        }
        throw HTTPException(405, {}, Headers{{"Allow", allow}});
    }

    // Layer `i` of the onion; the innermost resolves and runs the route.
    Task<Response> run(std::size_t i, Request& req) const {
        if (i == middlewares.size()) {
            const Handler& h = resolve(req);
            co_return co_await h(req);
        }
        Handler next = [this, i](Request& r) { return run(i + 1, r); };
        co_return co_await middlewares[i](req, next);
    }
};

Application::Application() : impl_(std::make_unique<Impl>()) {}
Application::~Application() = default;
Application::Application(Application&&) noexcept = default;
Application& Application::operator=(Application&&) noexcept = default;

void Application::add_route(std::string_view method, std::string_view path, Handler handler) {
    if (method != "*" && !is_token(method)) {
        throw std::invalid_argument("add_route: method \"" + std::string(method) +
                                    "\" is not a token");
    }
    impl_->routes.push_back(compile(method, path, std::move(handler)));
}

void Application::add_get(std::string_view path, Handler handler) {
    add_route("GET", path, handler);
    add_route("HEAD", path, std::move(handler));
}
void Application::add_post(std::string_view path, Handler handler) {
    add_route("POST", path, std::move(handler));
}
void Application::add_put(std::string_view path, Handler handler) {
    add_route("PUT", path, std::move(handler));
}
void Application::add_patch(std::string_view path, Handler handler) {
    add_route("PATCH", path, std::move(handler));
}
void Application::add_delete(std::string_view path, Handler handler) {
    add_route("DELETE", path, std::move(handler));
}

void Application::add_middleware(Middleware middleware) {
    if (!middleware) {
        throw std::invalid_argument("add_middleware: middleware is null");
    }
    impl_->middlewares.push_back(std::move(middleware));
}

Task<Response> Application::handle(Request& request) const {
    return impl_->run(0, request);
}

}  // namespace corio::http::web
