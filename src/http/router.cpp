// http/router.cpp - Application: the route table and the middleware onion.
//
// A route's path compiles to an ECMAScript regex when it has parameters
// (`{name}` -> `([^{}/]+)`, `{name:re}` -> `(re)`), to an exact string
// otherwise. Paths are matched as sent (percent-encoded); captured
// parameters are percent-decoded afterwards, so "%2F" inside a parameter
// never splits a segment. aiohttp: `UrlDispatcher`, `DynamicResource`.
#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/http/url.hpp"
#include "corio/http/web.hpp"
#include "url_encode.hpp"

namespace corio::http::web {

namespace {

struct Route {
    std::string method;   // "*" for any
    std::string literal;  // the path when it has no parameters
    std::optional<std::regex> pattern;
    std::vector<std::string> names;   // parameter names, in order
    std::vector<std::size_t> groups;  // the capture group of each name
    Handler handler;
    std::string name;  // for url_for; may be empty
    std::string path;  // as given to add_route
    // A sub-application mounted at `prefix` instead of a handler.
    std::string prefix;
    std::shared_ptr<const Application> sub;
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
    Route r{std::string(method), {}, std::nullopt,      {}, {},
            std::move(handler),  {}, std::string(path), {}, nullptr};
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
    std::vector<AppHook> startup, shutdown, cleanup;

    // What serves a request: a handler, or a sub-application with the path
    // left after its prefix.
    struct Target {
        const Handler* handler = nullptr;
        const Application* sub = nullptr;
        std::string_view rest;
    };

    // Finds what serves `path` for `req`; throws HTTPException(404/405).
    Target resolve(Request& req, std::string_view path) const {
        std::vector<std::string> allowed;
        std::map<std::string, std::string, std::less<>> params;
        for (const Route& r : routes) {
            if (r.sub) {
                if (path == r.prefix) {
                    return Target{nullptr, r.sub.get(), "/"};
                }
                if (path.size() > r.prefix.size() && path.starts_with(r.prefix) &&
                    path[r.prefix.size()] == '/') {
                    return Target{nullptr, r.sub.get(), path.substr(r.prefix.size())};
                }
                continue;
            }
            if (!match(r, path, params)) {
                continue;
            }
            if (r.method == "*" || r.method == req.method_name()) {
                RequestBuilder::match_info(req) = std::move(params);
                return Target{&r.handler, nullptr, {}};
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

    // Layer `i` of the onion; the innermost resolves and runs the route (or
    // the sub-application's own onion). `path` views into the request.
    Task<Response> run(std::size_t i, Request& req, std::string_view path) const {
        if (i == middlewares.size()) {
            Target t = resolve(req, path);
            if (t.sub != nullptr) {
                co_return co_await t.sub->impl_->run(0, req, t.rest);
            }
            co_return co_await (*t.handler)(req);
        }
        // The layer's state lives in this frame; `next` captures one pointer,
        // which std::function stores in place (no allocation per layer).
        struct Layer {
            const Impl* impl;
            std::size_t next;
            std::string_view path;
        } layer{this, i + 1, path};
        Handler next = [l = &layer](Request& r) { return l->impl->run(l->next, r, l->path); };
        co_return co_await middlewares[i](req, next);
    }

    // The path of the route named `name`, or nothing.
    using Params = std::initializer_list<std::pair<std::string_view, std::string_view>>;
    std::optional<std::string> find_url(std::string_view name, Params params) const {
        for (const Route& r : routes) {
            if (r.sub) {
                if (auto inner = r.sub->impl_->find_url(name, params)) {
                    return r.prefix + (*inner == "/" ? std::string() : *inner);
                }
                continue;
            }
            if (r.name != name) {
                continue;
            }
            if (!r.pattern) {
                return r.literal;
            }
            return fill(r, params);
        }
        return std::nullopt;
    }

    // r.path with each {param} replaced by its quoted value.
    static std::string fill(const Route& r, Params params) {
        std::string out;
        std::string_view path = r.path;
        std::size_t i = 0;
        while (i < path.size()) {
            std::size_t brace = path.find('{', i);
            out.append(path.substr(i, brace - i));
            if (brace == std::string_view::npos) {
                break;
            }
            std::string pname, sub;
            i = parse_param(path, brace + 1, pname, sub);
            const std::string_view* value = nullptr;
            for (const auto& [k, v] : params) {
                if (k == pname) {
                    value = &v;
                }
            }
            if (value == nullptr) {
                throw std::invalid_argument("url_for(\"" + r.name + "\"): no value for {" + pname +
                                            "}");
            }
            out += http::detail::quote_segment(*value);
        }
        std::map<std::string, std::string, std::less<>> ignored;
        if (!match(r, out, ignored)) {
            throw std::invalid_argument("url_for(\"" + r.name + "\"): \"" + out +
                                        "\" does not match the route's path " + r.path);
        }
        return out;
    }

    bool has_name(std::string_view name) const {
        for (const Route& r : routes) {
            if ((!r.sub && r.name == name) || (r.sub && r.sub->impl_->has_name(name))) {
                return true;
            }
        }
        return false;
    }

    // Runs `pick(impl)`'s hooks of this application, then its
    // sub-applications'. With `all`, every hook runs and the first error is
    // rethrown at the end; else the first error stops the rest.
    template <class Pick>
    Task<void> run_hooks(Pick pick, bool all) const {
        std::exception_ptr first;
        for (const AppHook& h : pick(*this)) {
            try {
                co_await h();
            } catch (...) {
                if (!all) {
                    throw;
                }
                if (!first) {
                    first = std::current_exception();
                }
            }
        }
        for (const Route& r : routes) {
            if (!r.sub) {
                continue;
            }
            try {
                co_await r.sub->impl_->run_hooks(pick, all);
            } catch (...) {
                if (!all) {
                    throw;
                }
                if (!first) {
                    first = std::current_exception();
                }
            }
        }
        if (first) {
            std::rethrow_exception(first);
        }
    }
};

Application::Application() : impl_(std::make_unique<Impl>()) {}
Application::~Application() = default;
Application::Application(Application&&) noexcept = default;
Application& Application::operator=(Application&&) noexcept = default;

void Application::add_route(std::string_view method, std::string_view path, Handler handler,
                            std::string_view name) {
    if (method != "*" && !is_token(method)) {
        throw std::invalid_argument("add_route: method \"" + std::string(method) +
                                    "\" is not a token");
    }
    if (!name.empty() && impl_->has_name(name)) {
        throw std::invalid_argument("add_route: the name \"" + std::string(name) +
                                    "\" is already used");
    }
    Route r = compile(method, path, std::move(handler));
    r.name.assign(name);
    impl_->routes.push_back(std::move(r));
}

void Application::add_get(std::string_view path, Handler handler, std::string_view name) {
    add_route("GET", path, handler, name);
    add_route("HEAD", path, std::move(handler));
}
void Application::add_post(std::string_view path, Handler handler, std::string_view name) {
    add_route("POST", path, std::move(handler), name);
}
void Application::add_put(std::string_view path, Handler handler, std::string_view name) {
    add_route("PUT", path, std::move(handler), name);
}
void Application::add_patch(std::string_view path, Handler handler, std::string_view name) {
    add_route("PATCH", path, std::move(handler), name);
}
void Application::add_delete(std::string_view path, Handler handler, std::string_view name) {
    add_route("DELETE", path, std::move(handler), name);
}

std::string Application::url_for(std::string_view name, Impl::Params params,
                                 Impl::Params query) const {
    std::optional<std::string> url = impl_->find_url(name, params);
    if (!url) {
        throw std::invalid_argument("url_for: no route named \"" + std::string(name) + "\"");
    }
    char sep = '?';
    for (const auto& [k, v] : query) {
        *url += sep;
        *url += http::detail::form_urlencode(k) + "=" + http::detail::form_urlencode(v);
        sep = '&';
    }
    return *url;
}

void Application::add_subapp(std::string_view prefix, Application app) {
    if (prefix.size() < 2 || prefix.front() != '/' || prefix.back() == '/') {
        throw std::invalid_argument("add_subapp: prefix \"" + std::string(prefix) +
                                    "\" must start with '/', not end with it, and not be \"/\"");
    }
    Route r{};
    r.prefix.assign(prefix);
    r.sub = std::make_shared<const Application>(std::move(app));
    impl_->routes.push_back(std::move(r));
}

void Application::on_startup(AppHook hook) {
    impl_->startup.push_back(std::move(hook));
}
void Application::on_shutdown(AppHook hook) {
    impl_->shutdown.push_back(std::move(hook));
}
void Application::on_cleanup(AppHook hook) {
    impl_->cleanup.push_back(std::move(hook));
}
Task<void> Application::startup() const {
    return impl_->run_hooks(
        [](const Impl& i) -> const auto& { return i.startup; }, false);
}
Task<void> Application::shutdown() const {
    return impl_->run_hooks(
        [](const Impl& i) -> const auto& { return i.shutdown; }, false);
}
Task<void> Application::cleanup() const {
    return impl_->run_hooks(
        [](const Impl& i) -> const auto& { return i.cleanup; }, true);
}

void Application::add_middleware(Middleware middleware) {
    if (!middleware) {
        throw std::invalid_argument("add_middleware: middleware is null");
    }
    impl_->middlewares.push_back(std::move(middleware));
}

Task<Response> Application::handle(Request& request) const {
    std::string_view raw = request.raw_path();
    return impl_->run(0, request, raw.substr(0, raw.find('?')));
}

}  // namespace corio::http::web
