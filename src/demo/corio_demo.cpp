// corio-demo - the web layer live: a small service on corio::http.
//
//   corio-demo [--host H] [--port P] [--threads N] [--access-log]
//
// Routes (the seeds' aiohttp app, a FastAPI-style JSON API, an echo, a
// WebSocket echo and a page that uses it):
//   GET  /                 <h1>Index</h1>
//   GET  /hello/{name}     <h1>hello, {name}!</h1>
//   POST /items            create an item from JSON; 422 + JSON on invalid input
//   GET  /items            every item, as JSON
//   GET  /items/{id}       one item, or 404 as JSON
//   POST /echo             the request body back, streamed (chunked), same type
//   GET  /ws               WebSocket echo with a 30 s heartbeat
//   GET  /chat             an HTML page that talks to /ws from the browser
//
// SIGINT (Ctrl-C) or SIGTERM stops it gracefully (requests in flight are
// answered, for up to 10 s) with exit status 0. With --threads N the same
// application is served by N event loops on N threads sharing the port
// (SO_REUSEPORT, run_app over a LoopGroup).
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "corio/corio.hpp"
#include "corio/http.hpp"
#include "corio/loop_group.hpp"

namespace http = corio::http;
namespace web = corio::http::web;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

constexpr const char* kUsage =
    "usage: corio-demo [--host HOST] [--port PORT] [--threads N] [--access-log] [--help]\n"
    "\n"
    "Serves corio's web demo until Ctrl-C or SIGTERM.\n"
    "  --host HOST    address to listen on (default 127.0.0.1)\n"
    "  --port PORT    port to listen on, 1-65535 (default 8080)\n"
    "  --threads N    serve from N event loops on N threads sharing the port (default 1)\n"
    "  --access-log   print one line per request to stdout (Combined Log Format)\n"
    "  --help         show this help and exit\n";

// HTML-escapes `s` (a path parameter goes into a page).
std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// The items, shared by every loop (handlers of different loops run on
// different threads): a mutex, never held across a suspension.
class ItemStore {
public:
    json create(json item) {
        std::lock_guard lock(mutex_);
        item["id"] = next_id_;
        items_.emplace(next_id_++, item);
        return item;
    }
    json list() const {
        std::lock_guard lock(mutex_);
        json out = json::array();
        for (const auto& [id, item] : items_) {
            out.push_back(item);
        }
        return out;
    }
    std::optional<json> get(long id) const {
        std::lock_guard lock(mutex_);
        auto it = items_.find(id);
        if (it == items_.end()) {
            return std::nullopt;
        }
        return it->second;
    }

private:
    mutable std::mutex mutex_;
    std::map<long, json> items_;
    long next_id_ = 1;
};

// A FastAPI-style validation error entry.
json error_entry(std::string_view field, std::string_view msg, std::string_view type) {
    json loc = json::array({"body"});
    if (!field.empty()) {
        loc.push_back(field);
    }
    return {{"loc", loc}, {"msg", msg}, {"type", type}};
}

// Checks a new item: {"name": non-empty string, "price": number >= 0,
// "tags": optional array of strings}. Returns the errors (empty: valid).
json validate_item(const json& in) {
    json errors = json::array();
    if (!in.is_object()) {
        errors.push_back(error_entry("", "Input should be a JSON object", "model_type"));
        return errors;
    }
    auto name = in.find("name");
    if (name == in.end()) {
        errors.push_back(error_entry("name", "Field required", "missing"));
    } else if (!name->is_string() || name->get_ref<const std::string&>().empty()) {
        errors.push_back(error_entry("name", "Input should be a non-empty string", "string_type"));
    }
    auto price = in.find("price");
    if (price == in.end()) {
        errors.push_back(error_entry("price", "Field required", "missing"));
    } else if (!price->is_number() || price->get<double>() < 0) {
        errors.push_back(
            error_entry("price", "Input should be a number greater than or equal to 0", "number"));
    }
    auto tags = in.find("tags");
    if (tags != in.end()) {
        bool ok = tags->is_array();
        for (const json& t : ok ? *tags : json::array()) {
            ok = ok && t.is_string();
        }
        if (!ok) {
            errors.push_back(error_entry("tags", "Input should be a list of strings", "list_type"));
        }
    }
    for (const auto& [key, value] : in.items()) {
        if (key != "name" && key != "price" && key != "tags") {
            errors.push_back(error_entry(key, "Extra inputs are not permitted", "extra_forbidden"));
        }
    }
    return errors;
}

constexpr const char* kChatPage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>corio chat</title>
<style>
  body { font-family: sans-serif; max-width: 40em; margin: 2em auto; }
  #log { border: 1px solid #ccc; height: 20em; overflow-y: auto; padding: .5em; }
  #log p { margin: .2em 0; }
  .me { color: #555; } .echo { color: #070; } .sys { color: #a00; }
</style>
</head>
<body>
<h1>corio chat</h1>
<p>Messages go to <code>/ws</code> over a WebSocket; the server echoes them back.</p>
<div id="log"></div>
<form id="form"><input id="msg" autocomplete="off" size="40" autofocus>
<button id="send" type="submit" disabled>Send</button></form>
<script>
const log = document.getElementById("log");
function show(cls, text) {
  const p = document.createElement("p");
  p.className = cls;
  p.textContent = text;
  log.appendChild(p);
  log.scrollTop = log.scrollHeight;
}
const scheme = location.protocol === "https:" ? "wss://" : "ws://";
const ws = new WebSocket(scheme + location.host + "/ws");
ws.onopen = () => { document.getElementById("send").disabled = false; show("sys", "connected"); };
ws.onmessage = (ev) => show("echo", "echo: " + ev.data);
ws.onclose = (ev) => { document.getElementById("send").disabled = true; show("sys", "closed (" + ev.code + ")"); };
document.getElementById("form").onsubmit = (ev) => {
  ev.preventDefault();
  const input = document.getElementById("msg");
  if (input.value) { ws.send(input.value); show("me", "me: " + input.value); input.value = ""; }
};
</script>
</body>
</html>
)html";

web::Application make_app(ItemStore& store) {
    web::Application app;
    app.add_get("/", [](web::Request&) -> corio::Task<web::Response> {
        co_return web::Response("<h1>Index</h1>", 200, "text/html; charset=utf-8");
    });
    app.add_get("/hello/{name}", [](web::Request& req) -> corio::Task<web::Response> {
        co_return web::Response("<h1>hello, " + html_escape(req.match_info().at("name")) + "!</h1>",
                                200, "text/html; charset=utf-8");
    });
    app.add_post("/items", [&store](web::Request& req) -> corio::Task<web::Response> {
        json in;
        try {
            in = co_await req.json();
        } catch (const web::JSONDecodeError& e) {
            co_return web::json_response(
                {{"detail", json::array({error_entry("", "Invalid JSON: " + e.parse_error(),
                                                     "json_invalid")})}},
                422);
        }
        json errors = validate_item(in);
        if (!errors.empty()) {
            co_return web::json_response({{"detail", errors}}, 422);
        }
        co_return web::json_response(store.create(std::move(in)), 201);
    });
    app.add_get("/items", [&store](web::Request&) -> corio::Task<web::Response> {
        co_return web::json_response(store.list());
    });
    app.add_get("/items/{id:\\d+}", [&store](web::Request& req) -> corio::Task<web::Response> {
        const std::string& text = req.match_info().at("id");
        long id = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
        std::optional<json> item;
        if (ec == std::errc()) {
            item = store.get(id);
        }
        if (!item) {
            co_return web::json_response({{"detail", "Item not found"}}, 404);
        }
        co_return web::json_response(*item);
    });
    app.add_post("/echo", [](web::Request& req) -> corio::Task<web::Response> {
        // The body (chunked or not, up to the server's body limit) streams
        // back as it arrives: each piece is written before the next is read,
        // and each write waits while the socket is full, so the server reads
        // the request only as fast as the client takes the response.
        web::StreamResponse resp;
        resp.set_content_type(req.headers().get("Content-Type", "application/octet-stream"));
        co_await resp.prepare(req);
        auto pieces = req.content().iter_any();
        while (auto piece = co_await pieces.next()) {
            co_await resp.write(*piece);
        }
        co_await resp.write_eof();
        co_return resp;
    });
    app.add_get("/ws", [](web::Request& req) -> corio::Task<web::Response> {
        web::WebSocketResponse ws(http::WebSocketOptions{.heartbeat = 30s});
        co_await ws.prepare(req);
        for (;;) {
            http::WSMessage msg = co_await ws.receive();
            if (msg.type == http::WSMsgType::TEXT) {
                co_await ws.send_str(msg.data);
            } else if (msg.type == http::WSMsgType::BINARY) {
                co_await ws.send_bytes(msg.data);
            } else {
                break;  // CLOSE (answered), ERROR or CLOSED
            }
        }
        co_return ws;
    });
    app.add_get("/chat", [](web::Request&) -> corio::Task<web::Response> {
        co_return web::Response(kChatPage, 200, "text/html; charset=utf-8");
    });
    // Unknown paths under /items answer 404 as JSON too.
    app.add_middleware(
        [](web::Request& req, const web::Handler& next) -> corio::Task<web::Response> {
            try {
                co_return co_await next(req);
            } catch (const web::HTTPException& e) {
                if (e.status() != 404 || !req.path().starts_with("/items")) {
                    throw;
                }
            }
            co_return web::json_response({{"detail", "Not Found"}}, 404);
        });
    return app;
}

struct Args {
    std::string host = "127.0.0.1";
    unsigned port = 8080;
    unsigned threads = 1;
    bool access_log = false;
};

bool parse_number(std::string_view s, unsigned lo, unsigned hi, unsigned& out) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || v < lo || v > hi) {
        return false;
    }
    out = v;
    return true;
}

// Returns the exit status to use now, or -1 to go on serving.
int parse_args(int argc, char** argv, Args& args) {
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--help" || a == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (a == "--access-log") {
            args.access_log = true;
            continue;
        }
        std::string_view value;
        std::string_view name = a;
        if (auto eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
            name = a.substr(0, eq);
            value = a.substr(eq + 1);
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            std::fprintf(stderr, "corio-demo: %s needs a value\n%s", argv[i], kUsage);
            return 2;
        }
        bool ok = true;
        if (name == "--host") {
            args.host = std::string(value);
            ok = !value.empty();
        } else if (name == "--port") {
            ok = parse_number(value, 1, 65535, args.port);
        } else if (name == "--threads") {
            ok = parse_number(value, 1, 1024, args.threads);
        } else {
            std::fprintf(stderr, "corio-demo: unknown option %.*s\n%s",
                         static_cast<int>(name.size()), name.data(), kUsage);
            return 2;
        }
        if (!ok) {
            std::fprintf(stderr, "corio-demo: bad value for %.*s: '%.*s'\n%s",
                         static_cast<int>(name.size()), name.data(), static_cast<int>(value.size()),
                         value.data(), kUsage);
            return 2;
        }
    }
    return -1;
}

void print_banner(const Args& args) {
    std::string host = args.host.find(':') != std::string::npos ? "[" + args.host + "]" : args.host;
    std::string url = "http://" + host + ":" + std::to_string(args.port);
    std::printf("corio-demo: serving on %s with %u event loop%s (Ctrl-C to stop)\n", url.c_str(),
                args.threads, args.threads == 1 ? "" : "s");
    std::printf("try:\n");
    std::printf("  curl %s/\n", url.c_str());
    std::printf("  curl %s/hello/corio\n", url.c_str());
    std::printf(
        "  curl -H 'Content-Type: application/json' -d '{\"name\": \"pen\", \"price\": 1.5}' "
        "%s/items\n",
        url.c_str());
    std::printf("  curl %s/items\n", url.c_str());
    std::printf("  curl %s/items/1\n", url.c_str());
    std::printf("  curl --data-binary @README.md %s/echo\n", url.c_str());
    std::printf("  open %s/chat in a browser (WebSocket echo at %s/ws)\n", url.c_str(),
                ("ws://" + host + ":" + std::to_string(args.port)).c_str());
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    if (int status = parse_args(argc, argv, args); status >= 0) {
        return status;
    }
    ItemStore store;
    web::Application app = make_app(store);
    web::ServerOptions options;
    if (args.access_log) {
        options.access_log = stdout;
    }
    try {
        print_banner(args);
        if (args.threads == 1) {
            corio::run(
                web::run_app(app, args.host, static_cast<std::uint16_t>(args.port), options, 10s));
        } else {
            corio::LoopGroup group({.threads = args.threads});
            web::run_app(group, app, args.host, static_cast<std::uint16_t>(args.port), options,
                         10s);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "corio-demo: %s\n", e.what());
        return 1;
    }
    std::printf("corio-demo: stopped\n");
    return 0;
}
