// corio/http/web.hpp - the server's objects: Request, Response,
// HTTPException, handlers, middlewares and Application with its router.
//
// Mirrors aiohttp.web: `web.Request`, `web.Response`, `web.json_response`,
// `web.HTTPException` and its subclasses, `web.Application` with
// `router.add_get/add_post/...` and `middlewares=[...]`. serve() and
// run_app() (server.hpp) put an Application on a socket. Nothing here does
// I/O; handlers and middlewares are coroutines run by the server.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "corio/http/body_reader.hpp"
#include "corio/http/cookies.hpp"
#include "corio/http/message.hpp"
#include "corio/http/multidict.hpp"
#include "corio/task.hpp"

namespace corio::net {
class Transport;
}  // namespace corio::net

namespace corio::http::detail {
class WsSession;
}  // namespace corio::http::detail

namespace corio::http {
struct Form;  // corio/http/multipart.hpp
}  // namespace corio::http

namespace corio::http::web {

class Request;
class Response;

namespace detail {

/// Where a StreamResponse writes: the server connection of its request
/// (internal; implemented by the server).
class ResponseSink {
public:
    /// Sends the head: Content-Length framing when `content_length` is set,
    /// else chunked (close-delimited for HTTP/1.0).
    virtual void start(const Request& request, const Response& head,
                       std::optional<std::uint64_t> content_length) = 0;
    /// Sends body bytes (nothing for HEAD).
    virtual void write_body(std::string_view data) = 0;
    /// Waits until the connection's write buffer is below its high-water
    /// mark; throws std::system_error(ECONNRESET) once the connection is lost.
    virtual Task<void> drain() = 0;
    /// Ends the body.
    virtual void finish() = 0;
    /// Sends `count` bytes of file `fd` from `offset` as body bytes with the
    /// transport's sendfile() and returns true, or returns false at once
    /// (nothing sent) where that cannot be used: TLS, io_uring, chunked
    /// framing. Throws what Transport::sendfile throws.
    virtual Task<bool> send_file(int fd, std::uint64_t offset, std::uint64_t count) = 0;
    /// Sends `head` (a 101 answer) and hands every later byte of the
    /// connection to `ws`; the connection closes when the handler returns.
    virtual void upgrade(std::string_view head, std::shared_ptr<http::detail::WsSession> ws) = 0;
    /// The connection's transport.
    virtual net::Transport& transport() = 0;

protected:
    ~ResponseSink() = default;
};

}  // namespace detail

/// One HTTP request as a handler sees it: everything is owned by the
/// request (no views into the connection's buffers), so a handler may keep
/// it across suspensions. The server calls the handler as soon as the head
/// has arrived: the body streams in through content() (read it piece by
/// piece), or read()/text()/json()/post() wait for all of it (up to
/// ServerOptions::max_body_size). A body the handler leaves unread is
/// discarded by the server after the response. aiohttp: `web.Request`.
class Request {
public:
    Request() = default;

    /// A server makes one Request per request, so they come from corio's
    /// per-thread block cache (as coroutine frames do) rather than malloc.
    static void* operator new(std::size_t size) { return corio::detail::frame_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept {
        corio::detail::frame_deallocate(p, size);
    }

    /// The method. aiohttp: `request.method` (as text: method_name()).
    Method method() const noexcept { return method_; }
    /// The method's name as sent ("GET", "PROPFIND").
    const std::string& method_name() const noexcept { return method_name_; }
    /// The path, percent-decoded ("/hello/a b"). aiohttp: `request.path`.
    const std::string& path() const noexcept { return path_; }
    /// The request target as sent, query included. aiohttp: `request.raw_path`.
    const std::string& raw_path() const noexcept { return raw_path_; }
    /// The query string without '?', as sent. aiohttp: `request.query_string`.
    const std::string& query_string() const noexcept { return query_string_; }
    /// The query's parameters, decoded, in order. aiohttp: `request.query`.
    const MultiDict& query() const noexcept { return query_; }
    /// The header fields. aiohttp: `request.headers`.
    const Headers& headers() const noexcept { return headers_; }
    /// HTTP/1.0 or HTTP/1.1. aiohttp: `request.version`.
    HttpVersion version() const noexcept { return version_; }
    /// Whether the connection stays open after the response.
    /// aiohttp: `request.keep_alive`.
    bool keep_alive() const noexcept { return keep_alive_; }
    /// The path parameters of the matched route (`/hello/{name}` ->
    /// match_info().at("name")), percent-decoded. aiohttp: `request.match_info`.
    const std::map<std::string, std::string, std::less<>>& match_info() const noexcept {
        return match_info_;
    }
    /// The cookies of the request's Cookie fields, name -> value (see
    /// parse_cookie_header). Parsed on each call. aiohttp: `request.cookies`.
    Cookies cookies() const;
    /// The peer's address ("127.0.0.1"). aiohttp: `request.remote`.
    const std::string& remote() const noexcept { return remote_; }
    /// The Content-Type without parameters ("" when absent).
    /// aiohttp: `request.content_type`.
    std::string_view content_type() const noexcept;
    /// The body: the bytes not yet taken from content() up to its end,
    /// kept, so that later calls return the same. Suspends until the body
    /// has arrived (the first call answers `Expect: 100-continue`); throws
    /// what BodyReader::read() throws (HTTPException(413) past
    /// max_body_size). aiohttp: `await request.read()`.
    Task<std::string> read() const;
    /// The body as text (bytes as sent; no charset conversion); as read().
    /// aiohttp: `await request.text()`.
    Task<std::string> text() const;
    /// The body parsed as JSON (nlohmann-json; the Content-Type is not
    /// checked, as aiohttp's default); waits as read(). Throws
    /// JSONDecodeError, an HTTPException(400), for a body that is empty or
    /// not valid JSON: a handler that does not catch it answers 400
    /// "invalid JSON body: ..." by itself; one that wants another answer
    /// catches it. aiohttp: `await request.json()`.
    Task<nlohmann::json> json() const;
    /// The body parsed as a form (corio/http/multipart.hpp):
    /// application/x-www-form-urlencoded or multipart/form-data, files
    /// apart; another Content-Type gives an empty Form. Waits as read().
    /// Throws MultipartError, an HTTPException(400), for a malformed body
    /// (uncaught, it answers 400). aiohttp: `await request.post()`.
    Task<Form> post() const;
    /// The body as a stream, read while it arrives (see BodyReader). Reading
    /// it after read() finds it at its end. aiohttp: `request.content`.
    BodyReader& content() const;
    /// The body kept by read() (empty before it; for a request made with
    /// RequestBuilder::body, that body).
    const std::string& body() const noexcept { return body_; }
    /// Whether the request has a body (Content-Length or chunked).
    /// aiohttp: `request.body_exists`.
    bool body_exists() const noexcept { return has_body_ || !body_.empty(); }
    /// Whether body bytes are still to be read from content().
    /// aiohttp: `request.can_read_body`.
    bool can_read_body() const noexcept { return content_ ? !content_->at_eof() : false; }

private:
    friend struct RequestBuilder;
    friend class StreamResponse;
    friend class WebSocketResponse;
    detail::ResponseSink* sink_ = nullptr;
    Method method_ = Method::GET;
    std::string method_name_ = "GET";
    std::string path_ = "/";
    std::string raw_path_ = "/";
    std::string query_string_;
    MultiDict query_;
    Headers headers_;
    HttpVersion version_ = HttpVersion11;
    bool keep_alive_ = true;
    std::map<std::string, std::string, std::less<>> match_info_;
    std::string remote_;
    // Reads the rest of content_ into body_ (read(), json() and post()
    // parse body_ where it is, without a copy).
    Task<void> load() const;
    mutable std::string body_;
    mutable bool body_read_ = false;  // read() took the rest of content_
    bool has_body_ = false;
    mutable std::shared_ptr<BodyReader> content_;
};

/// Fills a Request (used by the server and by tests of handlers).
struct RequestBuilder {
    static Request& method(Request& r, Method m, std::string_view name);
    static Request& target(Request& r, std::string_view raw_path, std::string path,
                           std::string_view query_string, MultiDict query);
    static Request& headers(Request& r, Headers h) noexcept;
    static Request& version(Request& r, HttpVersion v, bool keep_alive) noexcept;
    static Request& remote(Request& r, std::string remote) noexcept;
    static std::string& body(Request& r) noexcept { return r.body_; }
    /// The stream the server feeds; `has_body`: the head announced one.
    static void content(Request& r, std::shared_ptr<BodyReader> content, bool has_body) noexcept {
        r.content_ = std::move(content);
        r.has_body_ = has_body;
    }
    static void sink(Request& r, detail::ResponseSink* sink) noexcept { r.sink_ = sink; }
    static auto& match_info(Request& r) noexcept { return r.match_info_; }
};

/// A complete response: status, reason, headers and a body known in
/// advance. The server adds Content-Length, Date and Connection itself
/// (setting Content-Length or Transfer-Encoding here makes the server
/// answer 500). aiohttp: `web.Response`.
class Response {
public:
    /// 200 with an empty body.
    Response() = default;
    /// `status` with `body` of type `content_type` (none when empty).
    /// aiohttp: `web.Response(body=..., status=..., content_type=...)`.
    explicit Response(std::string body, int status = 200, std::string_view content_type = {});

    /// A text/plain (UTF-8) response. aiohttp: `web.Response(text=...)`.
    static Response text(std::string text, int status = 200,
                         std::string_view content_type = "text/plain; charset=utf-8");
    /// A response whose body is already-serialized JSON, typed
    /// application/json. aiohttp: `web.json_response(text=...)`.
    static Response json(std::string json_text, int status = 200);

    /// The status code. aiohttp: `response.status`.
    int status() const noexcept { return status_; }
    /// Sets the status (100..999) and optionally the reason (default: the
    /// registered phrase). Throws std::invalid_argument for another status.
    /// aiohttp: `response.set_status`.
    void set_status(int status, std::string_view reason = {});
    /// The reason phrase set, or "" for the registered one.
    const std::string& reason() const noexcept { return reason_; }
    /// The header fields to send (the server adds the framing ones).
    /// aiohttp: `response.headers`.
    Headers& headers() noexcept { return headers_; }
    /// The header fields to send.
    const Headers& headers() const noexcept { return headers_; }
    /// The body. aiohttp: `response.body`.
    const std::string& body() const noexcept { return body_; }
    /// Replaces the body. aiohttp: `response.body = ...` / `response.text = ...`.
    void set_body(std::string body) { body_ = std::move(body); }
    /// Sets Content-Type. aiohttp: `response.content_type = ...`.
    void set_content_type(std::string_view type) { headers_.set("Content-Type", type); }
    /// Adds a Set-Cookie field (format_set_cookie; a cookie of the same
    /// name set before on this response is replaced). Throws
    /// std::invalid_argument for a name, value or attribute that cannot be
    /// sent. aiohttp: `response.set_cookie(name, value, path=..., ...)`.
    void set_cookie(std::string_view name, std::string_view value,
                    const CookieOptions& options = {});
    /// Tells the client to delete cookie `name` (empty value, Max-Age=0 and
    /// an Expires in 1970) for `path` and `domain`. aiohttp: `response.del_cookie`.
    void del_cookie(std::string_view name, std::string_view path = "/",
                    std::string_view domain = {});
    /// Whether this is a StreamResponse that was prepared: its head (and
    /// maybe its body) already went out. aiohttp: `response.prepared`.
    bool prepared() const noexcept { return prepared_; }
    /// Whether a prepared response's body was ended (write_eof).
    bool eof_written() const noexcept { return eof_; }

protected:
    bool prepared_ = false;
    bool eof_ = false;

private:
    int status_ = 200;
    std::string reason_;
    Headers headers_;
    std::string body_;
};

/// A response whose body is written piece by piece after its head:
/// prepare(), then write() as often as needed, then write_eof(); the
/// handler returns it (`co_return resp;`, which keeps what the server
/// needs). The body goes out chunked (HTTP/1.1) or until the connection
/// closes (HTTP/1.0); HEAD gets the head only. A handler that returns
/// without write_eof() has its body ended by the server. Set the status
/// and headers before prepare(). aiohttp: `web.StreamResponse`.
class StreamResponse : public Response {
public:
    explicit StreamResponse(int status = 200, std::string_view reason = {}) {
        set_status(status, reason);
    }
    /// Sends the status line and headers (after a `100 Continue` when the
    /// request asked for one and its body has not come yet: a handler that
    /// streams its answer reads the body). Does not suspend in this version.
    /// Throws RuntimeError when called twice, when the body was set (use
    /// write()), or for a request that did not come from a server;
    /// std::invalid_argument for headers the server owns
    /// (Content-Length, Transfer-Encoding). aiohttp: `await resp.prepare(request)`.
    Task<void> prepare(Request& request);
    /// Sends `data` as part of the body, then waits while the connection's
    /// write buffer is above its high-water mark (backpressure). Throws
    /// RuntimeError before prepare() or after write_eof(),
    /// std::system_error(ECONNRESET) when the client went away.
    /// Cancellation while waiting leaves `data` queued. aiohttp: `await resp.write(data)`.
    Task<void> write(std::string_view data);
    /// Waits as write() does, without writing. aiohttp: `await resp.drain()`.
    Task<void> drain();
    /// Sends `data` (if any) and ends the body; later calls do nothing.
    /// Throws as write(). aiohttp: `await resp.write_eof()`.
    Task<void> write_eof(std::string_view data = {});
    /// Announces the body's length before prepare(): the body then goes
    /// out with Content-Length instead of chunked (also to HTTP/1.0
    /// clients, whose connection can then stay open). write() throws
    /// RuntimeError past that many bytes; a body ended short of it closes
    /// the connection (the client sees an incomplete message). Throws
    /// RuntimeError after prepare(). aiohttp: `resp.content_length = n`.
    void set_content_length(std::uint64_t length);
    /// The length announced, if any. aiohttp: `resp.content_length`.
    std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }

protected:
    /// For FileResponse: `count` bytes of file `fd` from `offset` as the
    /// next body bytes through sendfile(2), then waits as write(); false
    /// (nothing sent) where the connection cannot (see ResponseSink::send_file).
    Task<bool> send_file(int fd, std::uint64_t offset, std::uint64_t count);

private:
    detail::ResponseSink* sink_ = nullptr;
    std::optional<std::uint64_t> content_length_;
    std::uint64_t written_ = 0;
};

/// A file as the answer, with conditional and range requests: the handler
/// makes it, calls prepare(), which sends everything, and returns it
/// (`co_return resp;`). It sets Content-Type from the file's extension
/// (unless set before; unknown: application/octet-stream), ETag (strong,
/// from the modification time and size), Last-Modified and `Accept-Ranges:
/// bytes`. For GET and HEAD, `If-None-Match` (weak comparison, `*`) or else
/// `If-Modified-Since` answers 304 Not Modified; a single `Range: bytes=`
/// range (`a-b`, `a-`, `-n`) answers 206 with Content-Range, unless
/// `If-Range` names another validator; a range beyond the end answers 416
/// with `Content-Range: bytes */<size>`; several ranges are ignored (200,
/// the whole file, as RFC 9110 14.2 allows). The body goes out with
/// Content-Length in pieces of `chunk_size`, each write waiting on
/// backpressure. aiohttp: `web.FileResponse(path, chunk_size=...)`.
///
/// On a plain TCP connection on the epoll backend the body goes out with
/// sendfile(2) (Transport::sendfile: after the head is flushed, straight
/// from the page cache, an offset for a range, waiting while the socket is
/// full). Over TLS and on io_uring the file is read with pread() on the
/// loop's thread and written in pieces of `chunk_size`.
class FileResponse : public StreamResponse {
public:
    explicit FileResponse(std::filesystem::path path, std::size_t chunk_size = 256 * 1024);
    /// Checks the file and the request's conditions and sends the answer
    /// (200, 206, 304, or nothing but the head for HEAD). Suspends while
    /// the body is written. Throws HTTPException(404) when the file does not
    /// exist or is not a regular file, HTTPException(403) when it cannot be
    /// read, HTTPException(416) for an unsatisfiable range (all before
    /// anything is sent, so the server answers them); RuntimeError as
    /// StreamResponse::prepare; std::system_error(ECONNRESET) when the
    /// client goes away. Cancellation stops sending (the connection closes).
    /// aiohttp: `await resp.prepare(request)` (run_app prepares it for you).
    Task<void> prepare(Request& request);
    /// The file's path.
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
    std::size_t chunk_size_;
};

/// An HTTP error answer that a handler or middleware throws; the server
/// sends as_response() (and a middleware may catch it). aiohttp:
/// `web.HTTPException` (HTTPNotFound is `HTTPException(404)`).
class HTTPException : public std::runtime_error {
public:
    /// `status` with `text` as a text/plain body (default: "<status>:
    /// <reason>", aiohttp's body) and extra `headers`.
    explicit HTTPException(int status, std::string text = {}, Headers headers = {});
    /// The status answered. aiohttp: `exc.status`.
    int status() const noexcept { return status_; }
    /// The extra header fields answered. aiohttp: `exc.headers`.
    const Headers& headers() const noexcept { return headers_; }
    /// The text/plain body answered. aiohttp: `exc.text`.
    const std::string& text() const noexcept { return text_; }
    /// The response this error is answered with.
    Response as_response() const;

private:
    int status_;
    std::string text_;
    Headers headers_;
};

/// The request body is not valid JSON (Request::json()). An
/// HTTPException(400) with a text/plain body "400: Bad Request: invalid
/// JSON body: <where and why>", so it answers 400 when not caught;
/// parse_error() is nlohmann-json's message. aiohttp: `json.JSONDecodeError`
/// (which aiohttp leaves to the handler).
class JSONDecodeError : public HTTPException {
public:
    explicit JSONDecodeError(std::string parse_error);
    /// What nlohmann-json reported (position and reason).
    const std::string& parse_error() const noexcept { return parse_error_; }

private:
    std::string parse_error_;
};

/// A response with `data` serialized as compact JSON, typed
/// `application/json; charset=utf-8`, with `status` and extra `headers`.
/// Throws nlohmann::json::type_error when a string in `data` is not UTF-8.
/// aiohttp: `web.json_response(data, status=..., headers=...)`.
Response json_response(const nlohmann::json& data, int status = 200, Headers headers = {});

/// A request handler: a coroutine from Request to Response. It may throw
/// HTTPException (answered as such) or anything else (answered 500 and
/// reported to the loop's exception handler). aiohttp: `async def handler(request)`.
using Handler = std::function<Task<Response>(Request&)>;
/// A middleware: gets the request and the next handler (the rest of the
/// onion) and returns a response. aiohttp: `@web.middleware async def
/// mw(request, handler)`.
using Middleware = std::function<Task<Response>(Request&, const Handler&)>;

/// A start-up, shutdown or clean-up step of an Application (a coroutine;
/// capture the state it sets up). aiohttp: an `on_startup` /
/// `on_shutdown` / `on_cleanup` signal handler `async def f(app)`.
using AppHook = std::function<Task<void>()>;

/// An application: routes and middlewares. Configure it before serving it;
/// it must outlive its servers. aiohttp: `web.Application`.
class Application {
public:
    /// No routes, no middlewares.
    Application();
    ~Application();
    Application(Application&&) noexcept;
    Application& operator=(Application&&) noexcept;

    /// Routes `method` ("GET", "*" for any) on `path` to `handler`. `path`
    /// starts with '/' and may hold parameters: `{name}` matches one
    /// non-empty segment (no '/'), `{name:regex}` what the ECMAScript regex
    /// matches (use non-capturing groups inside). Routes are tried in the
    /// order added. A non-empty `name` names the route for url_for(). Throws
    /// std::invalid_argument for a path without a leading '/', an
    /// unbalanced brace, a bad regex, a null handler or a name already used.
    /// aiohttp: `app.router.add_route(method, path, handler, name=...)`.
    void add_route(std::string_view method, std::string_view path, Handler handler,
                   std::string_view name = {});
    /// GET (and HEAD, answered without the body). aiohttp: `add_get`.
    void add_get(std::string_view path, Handler handler, std::string_view name = {});
    /// add_route("POST", path, handler, name). aiohttp: `add_post`.
    void add_post(std::string_view path, Handler handler, std::string_view name = {});
    /// add_route("PUT", path, handler, name). aiohttp: `add_put`.
    void add_put(std::string_view path, Handler handler, std::string_view name = {});
    /// add_route("PATCH", path, handler, name). aiohttp: `add_patch`.
    void add_patch(std::string_view path, Handler handler, std::string_view name = {});
    /// add_route("DELETE", path, handler, name). aiohttp: `add_delete`.
    void add_delete(std::string_view path, Handler handler, std::string_view name = {});
    /// Serves the files under `directory` at `prefix` ("/static": GET and
    /// HEAD of "/static/css/a.css" answer FileResponse(directory/css/a.css)).
    /// The path after the prefix is percent-decoded first, then refused with
    /// 403 when any segment is "..", when it holds a NUL or a backslash, or
    /// when the file it names (symbolic links resolved) is outside
    /// `directory`; a directory answers 403 (no listings), a missing file
    /// 404. Throws std::invalid_argument when `prefix` does not start with
    /// '/' or `directory` is not a directory.
    /// aiohttp: `app.router.add_static(prefix, path)` (follow_symlinks=False).
    void add_static(std::string_view prefix, const std::filesystem::path& directory);
    /// Appends a middleware: the first added is the outermost.
    /// aiohttp: `web.Application(middlewares=[...])`.
    void add_middleware(Middleware middleware);

    /// The path of the route named `name` with its parameters filled in
    /// from `params` (percent-encoded), followed by `query` as a query
    /// string. Routes of sub-applications are found too, their prefix
    /// included. Throws std::invalid_argument for an unknown name, a
    /// missing parameter, or a value its {name:regex} does not match.
    /// aiohttp: `app.router[name].url_for(**params).with_query(query)`.
    std::string url_for(
        std::string_view name,
        std::initializer_list<std::pair<std::string_view, std::string_view>> params = {},
        std::initializer_list<std::pair<std::string_view, std::string_view>> query = {}) const;
    /// Serves `app` under `prefix` ("/admin": a request for "/admin/users"
    /// is matched against app's routes as "/users"; "/admin" itself as
    /// "/"). The sub-application's middlewares run inside this one's; its
    /// 404 and 405 answers are final (this application's later routes are
    /// not tried). Routes and sub-applications are tried in the order they
    /// were added. Its hooks run with this application's, after them.
    /// Throws std::invalid_argument for a prefix that does not start with
    /// '/' or ends with '/'. aiohttp: `app.add_subapp(prefix, subapp)`.
    void add_subapp(std::string_view prefix, Application app);

    /// Appends a start-up step: run_app runs them in order before it
    /// listens; one that throws stops the start, and the shutdown and
    /// clean-up steps run. aiohttp: `app.on_startup.append(f)`.
    void on_startup(AppHook hook);
    /// Appends a shutdown step: run_app runs them in order when it is told
    /// to stop, before it stops listening and lets requests in flight end
    /// (aiohttp runs them once the listener is closed). For closing
    /// long-lived connections (WebSockets). aiohttp: `app.on_shutdown`.
    void on_shutdown(AppHook hook);
    /// Appends a clean-up step: run_app runs every one, in order, after the
    /// last connection closed, even when one throws (the first error is
    /// rethrown after the others ran). aiohttp: `app.on_cleanup`.
    void on_cleanup(AppHook hook);
    /// Runs the start-up steps (sub-applications' after this one's). run_app
    /// calls it; call it yourself around serve(). aiohttp: `app.startup()`.
    Task<void> startup() const;
    /// Runs the shutdown steps. aiohttp: `app.shutdown()`.
    Task<void> shutdown() const;
    /// Runs every clean-up step; rethrows the first error after all ran.
    /// aiohttp: `app.cleanup()`.
    Task<void> cleanup() const;

    /// Runs `request` through the middlewares and the matching route, sets
    /// request.match_info(), and returns the response. No route for the
    /// path: HTTPException(404); routes for the path but not the method:
    /// HTTPException(405) with Allow. Either is thrown inside the
    /// middlewares, so they see it. Suspends while the handler does;
    /// throws what the handler or a middleware throws.
    Task<Response> handle(Request& request) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace corio::http::web
