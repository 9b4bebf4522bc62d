// http/server.cpp - the HTTP/1.1 server connection (a BufferedProtocol on
// the socket transport), serve() and run_app().
//
// One Connection per accepted socket. Invariants:
//  - buf_[begin_, end_) holds the bytes not yet consumed by the parser; a
//    head that is still incomplete stays there (the parser keeps offsets).
//    A connection with no such bytes reads into the thread's shared buffer
//    instead and parses there; what is left unparsed moves into buf_.
//  - queue_ holds requests whose head is complete (or one final parse
//    error) in arrival order; one handler task at a time (`handling_`)
//    answers them in that order, so pipelined responses can never be
//    reordered. Only the last one's body can still be arriving: `reader_`
//    (its BodyReader) gets the body bytes as they are parsed.
//  - reading pauses while queue_ holds max_pipelined requests between
//    messages, or while reader_ buffers more than body_buffer_limit unread
//    bytes (`body_paused_`; the handler's reads resume it).
//  - after a handler returned, the rest of its unread body is dropped
//    (`discarding_`, at most discard_limit bytes) or the connection closes.
//  - the handler task keeps the transport (and so this protocol, which the
//    transport owns) alive with a local shared_ptr until it returns. It
//    starts eagerly, inside process(): its first step may parse further
//    pipelined requests (a nested process()) before the outer one returns.
//  - the idle timer runs while no request is queued or being handled and
//    no head is complete: it is the keep-alive and header timeout at once
//    (408 when part of a head had come, a plain close otherwise). It is
//    lazy, as nginx's timers are: a request moves its deadline, not the
//    loop's timer; the timer, when it fires early, sleeps again until the
//    deadline (so a keep-alive request costs no timer cancel and re-arm).
#include "corio/http/server.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "chunked.hpp"
#include "corio/errors.hpp"
#include "corio/http/status.hpp"
#include "corio/http/url.hpp"
#include "corio/locks.hpp"
#include "corio/loop_group.hpp"
#include "corio/net/transports.hpp"
#include "corio/shield.hpp"
#include "corio/timeouts.hpp"
#include "date.hpp"
#include "parser.hpp"
#include "serializer.hpp"
#include "ws_session.hpp"

namespace corio::http::web {

class Connection;

struct AppServer::State {
    const Application* app = nullptr;
    ServerOptions options;
    http::detail::ParserLimits limits;
    http::detail::DateCache date;
    std::optional<net::Server> server;
    std::uint16_t port = 0;
    std::set<Connection*> connections;
    std::size_t admitted = 0;  // connections within max_connections
    std::uint64_t served = 0;
    bool closing = false;
    Event drained;  // set when closing and the last connection is gone
};

namespace {

constexpr std::size_t kMinRoom = 4096;
constexpr std::size_t kInitialBuffer = 16384;
constexpr std::size_t kSharedReadBuffer = kInitialBuffer;  // a read brings what it did before

// Every connection of this thread reads into this buffer while it holds no
// unparsed bytes (Connection::get_buffer); the few that keep some copy them out.
std::span<char> shared_read_buffer() noexcept {
    thread_local std::unique_ptr<char[]> buf(new char[kSharedReadBuffer]);
    return {buf.get(), kSharedReadBuffer};
}

struct Pending {
    std::unique_ptr<Request> request;  // null: a parse error to answer
    int error_status = 0;
    std::shared_ptr<BodyReader> body;  // the request's body stream
};

std::exception_ptr connection_reset() {
    return std::make_exception_ptr(std::system_error(
        ECONNRESET, std::generic_category(), "Connection lost before the end of the request body"));
}

// "[07/Dec/2026:03:04:05 +0000]" for the access log.
std::string clf_time(std::chrono::system_clock::time_point now) {
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto secs = std::chrono::floor<std::chrono::seconds>(now);
    const auto days = std::chrono::floor<std::chrono::days>(secs);
    const std::chrono::year_month_day ymd{days};
    const std::chrono::hh_mm_ss hms{secs - days};
    char buf[40];
    std::snprintf(buf, sizeof buf, "[%02u/%s/%04d:%02d:%02d:%02d +0000]",
                  static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1],
                  static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    return buf;
}

// A field of the access log line: "-" when empty, '"' and '\\' escaped.
void append_log_field(std::string& line, std::string_view v) {
    if (v.empty()) {
        line += '-';
        return;
    }
    for (char c : v) {
        if (c == '"' || c == '\\') {
            line += '\\';
        }
        line += c;
    }
}

}  // namespace

class Connection final : public net::BufferedProtocol,
                         public web::detail::ResponseSink,
                         public web::detail::BodySource {
public:
    explicit Connection(std::shared_ptr<AppServer::State> st)
        : st_(std::move(st)), parser_(st_->limits) {
        writable_.set();
    }

    void connection_made(net::Transport& t) override {
        tr_ = &t;
        remote_ = t.peername().host();
        st_->connections.insert(this);
        const std::size_t limit = st_->options.max_connections;
        over_limit_ = limit != 0 && st_->admitted >= limit;
        if (!over_limit_) {
            ++st_->admitted;
        }
        arm_idle_timer();
    }

    std::span<char> get_buffer(std::size_t /*sizehint*/) override {
        if (begin_ == end_) {
            begin_ = end_ = 0;
            if (!ws_ && !upgrade_pending_) {
                // Nothing kept: read into the thread's shared buffer, as nginx
                // reads a keep-alive connection's next request into a buffer it
                // takes only then. An idle connection holds no read buffer.
                in_shared_ = true;
                return shared_read_buffer();
            }
        } else if (begin_ > 0 && buf_.size() - end_ < kMinRoom) {
            // Moves the unconsumed bytes to the front; the size stays.
            std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        in_shared_ = false;
        reserve_room(kMinRoom);
        return {buf_.data() + end_, buf_.size() - end_};
    }

    void buffer_updated(std::size_t nbytes) override {
        end_ += nbytes;
        if (in_shared_) {
            try {
                process();
            } catch (...) {
                // The transport closes the connection for this; until it is
                // gone, nothing may parse what the shared buffer holds next.
                in_shared_ = false;
                begin_ = end_ = 0;
                parsing_done_ = true;
                throw;
            }
            keep_unparsed();
            return;
        }
        if (ws_) {
            feed_websocket();
            return;
        }
        process();
    }

    // After parsing from the shared buffer: the bytes not consumed (part of
    // a head, requests beyond max_pipelined, what follows an Upgrade) move to
    // the connection's own buffer, where the parser finds them at the same
    // offsets from the head's start.
    void keep_unparsed() {
        in_shared_ = false;
        const std::size_t left = end_ - begin_;
        if (left == 0) {
            begin_ = end_ = 0;
            return;
        }
        const char* from = shared_read_buffer().data() + begin_;
        begin_ = end_ = 0;
        reserve_room(left + kMinRoom);
        std::memcpy(buf_.data(), from, left);
        end_ = left;
    }

    // At least `room` bytes free after end_. The buffer starts at 16 KiB and
    // doubles only when a request outgrows it (not the transport's 64 KiB
    // hint: 1,000 connections that keep part of a request would hold 64 MB).
    void reserve_room(std::size_t room) {
        if (buf_.size() - end_ < room) {
            buf_.resize(std::max(buf_.size() * 2, std::max(end_ + room, kInitialBuffer)));
        }
    }

    // The bytes being parsed: the shared buffer's or the connection's own.
    const char* data() const noexcept {
        return in_shared_ ? shared_read_buffer().data() : buf_.data();
    }

    bool eof_received() override {
        if (ws_) {
            ws_->connection_lost();
            return false;
        }
        if (!parsing_done_) {
            parsing_done_ = true;
            // An EOF inside a message is not answered unless its handler
            // already runs (its body read fails); the peer cannot read it.
            end_body(connection_reset(), true);
        }
        return handling_ || !queue_.empty();  // answer what was asked, then close
    }

    void pause_writing() override { writable_.clear(); }
    void resume_writing() override { writable_.set(); }

    void connection_lost(std::exception_ptr) override {
        lost_ = true;
        writable_.set();
        if (ws_) {
            ws_->connection_lost();
            ws_.reset();  // breaks transport -> protocol -> session -> transport
        }
        idle_timer_.cancel();
        end_body(connection_reset(), false);
        st_->connections.erase(this);
        if (!over_limit_) {
            --st_->admitted;
        }
        if (st_->closing && st_->connections.empty()) {
            st_->drained.set();
        }
    }

    bool idle() const noexcept { return !handling_ && queue_.empty(); }
    /// Server shutdown: a WebSocket gets a 1001 close frame, so that its
    /// handler sees the peer's answer and returns.
    void going_away() {
        if (ws_) {
            ws_->going_away();
        }
    }
    TaskHandle<void>& handler_task() noexcept { return task_; }

    // ResponseSink: a StreamResponse of the request being handled.
    void start(const Request& req, const Response& head,
               std::optional<std::uint64_t> content_length) override {
        const int status = head.status();
        const bool no_body = status < 200 || status == 204 || status == 304;
        stream_body_ = req.method() != Method::HEAD && !no_body;
        stream_sized_ = content_length.has_value() && !no_body;
        stream_length_ = stream_body_ && stream_sized_ ? *content_length : 0;
        stream_chunked_ = !stream_sized_ && req.version() >= HttpVersion11;
        stream_keep_alive_ =
            req.keep_alive() && !st_->closing && (stream_chunked_ || stream_sized_ || no_body);
        http::detail::ResponseHeadOptions o;
        o.status = status;
        o.reason = head.reason();
        o.version = req.version();
        o.keep_alive = stream_keep_alive_;
        o.framing = stream_sized_ ? http::detail::ResponseFraming::content_length
                                  : http::detail::ResponseFraming::chunked;
        // With a known length the head says it and the body follows
        // separately: serialized as for HEAD (Content-Length, no body).
        o.head_request = req.method() == Method::HEAD || stream_sized_;
        o.content_length = content_length.value_or(0);
        o.date = st_->date.get(std::chrono::system_clock::now());
        out_.clear();
        http::detail::serialize_response(out_, o, head.headers());  // may throw: nothing sent
        if (&req == reader_req_) {
            // A streamed answer to a body still owed its 100 Continue (an
            // echo): it would come after the head otherwise.
            body_wanted();
        }
        tr_->write(out_);
        stream_started_ = true;
    }
    void write_body(std::string_view data) override {
        if (!stream_body_ || lost_ || data.empty()) {
            return;
        }
        stream_bytes_ += data.size();
        if (!stream_chunked_) {
            tr_->write(data);
            return;
        }
        std::array<char, http::detail::kChunkHeaderMax> hbuf;
        const std::string_view pieces[] = {http::detail::chunk_header(data.size(), hbuf), data,
                                           http::detail::kChunkEnd};
        tr_->writelines(std::span<const std::string_view>(pieces));
    }
    Task<void> drain() override {
        while (!writable_.is_set()) {  // connection_lost() sets it too
            co_await writable_.wait();
        }
        if (lost_) {
            throw std::system_error(ECONNRESET, std::generic_category(), "Connection lost");
        }
    }
    void upgrade(std::string_view head, std::shared_ptr<http::detail::WsSession> ws) override {
        stream_started_ = true;
        stream_keep_alive_ = false;
        stream_body_ = false;
        parsing_done_ = true;
        tr_->write(head);
        ws_ = std::move(ws);
        if (!tr_->is_reading()) {
            tr_->resume_reading();
        }
        feed_websocket();  // frames that came with the handshake
    }
    Task<bool> send_file(int fd, std::uint64_t offset, std::uint64_t count) override {
        if (!stream_body_ || stream_chunked_ || lost_ || !tr_->can_sendfile()) {
            co_return false;
        }
        std::shared_ptr<net::Transport> keep = tr_->shared_from_this();
        co_await tr_->sendfile(fd, offset, count);
        stream_bytes_ += count;
        co_return true;
    }
    net::Transport& transport() override { return *tr_; }
    void finish() override {
        if (stream_body_ && stream_chunked_ && !lost_) {
            tr_->write(http::detail::kLastChunk);
        }
    }

    // BodySource: the handler of the request whose body is arriving reads it.
    void body_wanted() override {
        if (expect_continue_ && !lost_) {
            expect_continue_ = false;
            tr_->write("HTTP/1.1 100 Continue\r\n\r\n");
        }
    }
    void body_consumed() override {
        if (!body_paused_ || resume_scheduled_ || !reader_ ||
            reader_->buffered() > st_->options.body_buffer_limit / 2) {
            return;
        }
        resume_scheduled_ = true;
        std::shared_ptr<net::Transport> keep = tr_->shared_from_this();
        get_running_loop().call_soon([this, keep] {
            resume_scheduled_ = false;
            if (lost_ || !body_paused_) {
                return;
            }
            body_paused_ = false;
            process();
        });
    }

private:
    // The body being received ends without its last byte: `error` for its
    // reader; a request not handled yet is dropped (`drop_queued`) or
    // answered `status`.
    void end_body(std::exception_ptr error, bool drop_queued, int status = 0) {
        if (!reader_) {
            return;
        }
        auto it = queue_.begin();
        while (it != queue_.end() && it->request.get() != reader_req_) {
            ++it;
        }
        if (it != queue_.end()) {  // its handler has not started
            if (drop_queued) {
                queue_.erase(it);
            } else {
                *it = Pending{nullptr, status, nullptr};
            }
        }
        reader_->set_exception(std::move(error));
        reader_.reset();
        reader_req_ = nullptr;
        discarding_ = false;
        body_paused_ = false;
    }

    // After the handler of `p` returned: whether the connection can carry
    // another request, the rest of an unread body being discarded.
    bool settle_body(const Pending& p) {
        BodyReader* rd = p.body.get();
        if (rd == nullptr || rd->eof_received()) {
            return true;
        }
        if (rd->failed() || rd != reader_.get()) {
            return false;
        }
        rd->discard();
        if (expect_continue_) {
            return false;  // the client waits for a 100 Continue never sent
        }
        const std::uint64_t limit = st_->options.discard_limit;
        if (body_length_ && *body_length_ - rd->total_bytes() > limit) {
            return false;
        }
        discarding_ = true;
        discard_left_ = limit;
        body_paused_ = false;
        return true;
    }

    void feed_websocket() {
        // data(): the handshake's handler may run inside the read that brought
        // the request (an eager task), while its bytes are in the shared buffer.
        std::string_view data(this->data() + begin_, end_ - begin_);
        begin_ = end_ = 0;
        std::shared_ptr<http::detail::WsSession> keep = ws_;
        keep->feed(data);
    }

    // Parses what is buffered into queue_, then starts the handler.
    void process() {
        while (!parsing_done_ && !upgrade_pending_ && !body_paused_ &&
               (reader_ || queue_.size() < st_->options.max_pipelined)) {
            http::detail::ParseStep s =
                parser_.parse(std::string_view(data() + begin_, end_ - begin_));
            begin_ += s.consumed;
            if (s.event == http::detail::ParseStep::need_data) {
                break;
            }
            on_event(s);
        }
        // Too many requests ahead, an Upgrade awaiting its handler's decision
        // (frames must not pile up in the buffer meanwhile), or a body
        // buffered beyond the limit for its handler: stop reading.
        const bool hold = (!reader_ && queue_.size() >= st_->options.max_pipelined) ||
                          upgrade_pending_ || body_paused_;
        if (!parsing_done_ && hold && tr_->is_reading()) {
            tr_->pause_reading();
        } else if (!parsing_done_ && !hold && !tr_->is_reading() && !lost_) {
            tr_->resume_reading();
        }
        if (!handling_ && !queue_.empty()) {
            start_handler();
        } else if (parsing_done_ && idle() && !lost_) {
            tr_->close();  // e.g. an unread body too long to discard
        }
    }

    void on_event(const http::detail::ParseStep& s) {
        switch (s.event) {
            case http::detail::ParseStep::head: {
                // The handler may start now: the body streams to it.
                idle_counting_ = false;
                const http::detail::RequestHead& h = parser_.head();
                std::unique_ptr<Request> req = make_request();
                const bool has_body = h.framing != http::detail::BodyFraming::none;
                if (has_body) {  // else content() makes an empty one if asked
                    reader_ = std::make_shared<BodyReader>(st_->options.body_buffer_limit);
                    reader_->set_source(this);
                    RequestBuilder::content(*req, reader_, true);
                }
                expect_continue_ = has_body && h.expect_continue;
                body_length_.reset();
                if (h.framing == http::detail::BodyFraming::content_length) {
                    body_length_ = h.content_length;
                }
                reader_req_ = req.get();
                queue_.push_back(Pending{std::move(req), 0, reader_});
                break;
            }
            case http::detail::ParseStep::body:
                if (discarding_) {
                    reader_->feed_data(s.bytes);  // counted, not kept
                    if (s.bytes.size() > discard_left_) {
                        parsing_done_ = true;  // too much to drop: close
                        end_body(connection_reset(), true);
                    } else {
                        discard_left_ -= s.bytes.size();
                    }
                    break;
                }
                reader_->feed_data(s.bytes);
                if (reader_->buffered() > st_->options.body_buffer_limit) {
                    body_paused_ = true;
                }
                break;
            case http::detail::ParseStep::message_complete:
                if (reader_) {
                    reader_->feed_eof();
                    reader_.reset();
                }
                reader_req_ = nullptr;
                discarding_ = false;
                expect_continue_ = false;
                break;
            case http::detail::ParseStep::upgrade:
                // The request (queued at message_complete) asked to switch
                // protocols: the bytes after it are the new protocol's if the
                // handler accepts (WebSocketResponse); parsing waits for its decision.
                upgrade_pending_ = true;
                break;
            case http::detail::ParseStep::closed:
                parsing_done_ = true;
                break;
            case http::detail::ParseStep::error: {
                parsing_done_ = true;
                const int status = http::detail::error_status(parser_.error());
                if (reader_) {
                    // Inside a body: answered by the request's handler (its
                    // read throws the status), or instead of it if not started.
                    end_body(std::make_exception_ptr(HTTPException(status)), false, status);
                } else {
                    queue_.push_back(Pending{nullptr, status, nullptr});
                }
                break;
            }
            case http::detail::ParseStep::need_data:
                break;
        }
    }

    std::unique_ptr<Request> make_request() const {
        const http::detail::RequestHead& h = parser_.head();
        auto r = std::make_unique<Request>();
        RequestBuilder::method(*r, h.method, h.method_name);
        std::optional<std::string> path = percent_decode(h.path);
        std::optional<MultiDict> query = parse_query(h.query);
        RequestBuilder::target(*r, h.target, path ? std::move(*path) : std::string(h.path), h.query,
                               query ? std::move(*query) : MultiDict());
        RequestBuilder::headers(*r, h.headers.to_headers());
        RequestBuilder::version(*r, h.version, h.keep_alive);
        RequestBuilder::remote(*r, remote_);
        return r;
    }

    // The handler task starts eagerly, as nginx handles a request in the read
    // that completed it: a handler that does not suspend has written its
    // response before the next connection is read. (No task name: a name
    // costs an allocation per request.)
    void start_handler() {
        handling_ = true;
        task_ = create_eager_task(handle_queue());
    }

    Task<void> handle_queue() {
        std::shared_ptr<net::Transport> keep = tr_->shared_from_this();
        while (!queue_.empty() && !lost_) {
            Pending p = std::move(queue_.front());
            queue_.pop_front();
            if (!parsing_done_ && !body_paused_ && !tr_->is_reading()) {
                tr_->resume_reading();
            }
            if (!p.request) {
                write_error(p.error_status);
                log_access(nullptr, p.error_status, last_error_bytes_);
                break;
            }
            if (over_limit_) {
                // Beyond max_connections: this connection is refused.
                write_error(503, true);
                log_access(p.request.get(), 503, last_error_bytes_);
                break;
            }
            RequestBuilder::sink(*p.request, this);
            stream_started_ = false;
            stream_bytes_ = 0;
            Response resp = co_await respond(*p.request, p.body.get());
            if (lost_) {
                break;
            }
            bool keep_alive = p.request->keep_alive() && !st_->closing && settle_body(p);
            if (resp.prepared()) {
                if (!resp.eof_written()) {
                    finish();
                }
                keep_alive = keep_alive && stream_keep_alive_;
                if (stream_sized_ && stream_bytes_ != stream_length_) {
                    keep_alive = false;  // a body short of its Content-Length: cut off
                }
            } else if (stream_started_) {
                keep_alive = false;  // failed after prepare(): the body is cut short
            } else {
                write_response(*p.request, resp, keep_alive);
            }
            ++st_->served;
            log_access(p.request.get(), resp.status(), stream_bytes_);
            if (!keep_alive) {
                parsing_done_ = true;
                queue_.clear();
                break;
            }
            if (upgrade_pending_ && !parsing_done_) {
                upgrade_pending_ = false;  // answered without switching: HTTP goes on
                parser_.decline_upgrade();
                if (!tr_->is_reading()) {
                    tr_->resume_reading();
                }
            }
            if (queue_.empty() && !parsing_done_) {
                process();  // requests parsed ahead while this one was handled
            }
        }
        handling_ = false;
        if (lost_) {
            co_return;
        }
        if (parsing_done_ || st_->closing) {
            tr_->close();
        } else {
            arm_idle_timer();
        }
    }

    Task<Response> respond(Request& req, const BodyReader* body) {
        std::exception_ptr failure;
        try {
            co_return co_await st_->app->handle(req);
        } catch (const HTTPException& e) {
            try {
                co_return e.as_response();
            } catch (...) {  // e.g. a status outside 100..999
                failure = std::current_exception();
            }
        } catch (const CancelledError&) {
            throw;
        } catch (...) {
            failure = std::current_exception();
        }
        if (body != nullptr && body->failed()) {
            // Most likely the body's own error (the peer went away): not a bug.
            co_return HTTPException(400).as_response();
        }
        get_running_loop().call_exception_handler(
            {"Error handling request " + req.method_name() + " " + req.raw_path(),
             failure,
             {},
             {}});
        co_return HTTPException(500).as_response();
    }

    void write_response(const Request& req, const Response& resp, bool keep_alive) {
        http::detail::ResponseHeadOptions o;
        o.status = resp.status();
        o.reason = resp.reason();
        o.version = req.version();
        o.keep_alive = keep_alive;
        o.head_request = req.method() == Method::HEAD;
        o.content_length = resp.body().size();
        o.date = st_->date.get(std::chrono::system_clock::now());
        out_.clear();
        try {
            http::detail::serialize_response(out_, o, resp.headers(),
                                             o.head_request ? std::string_view() : resp.body());
        } catch (const std::invalid_argument&) {
            get_running_loop().call_exception_handler(
                {"Invalid response to " + req.method_name() + " " + req.raw_path(),
                 std::current_exception(),
                 {},
                 {}});
            out_.clear();
            Response err = HTTPException(500).as_response();
            o.status = 500;
            o.reason = {};
            o.content_length = err.body().size();
            http::detail::serialize_response(out_, o, err.headers(),
                                             o.head_request ? std::string_view() : err.body());
        }
        tr_->write(out_);
        stream_bytes_ = o.head_request ? 0 : o.content_length;
    }

    // One access-log line (ServerOptions::access_log) for a response.
    void log_access(const Request* req, int status, std::uint64_t bytes) {
        std::FILE* log = st_->options.access_log;
        if (log == nullptr) {
            return;
        }
        std::string line = remote_.empty() ? "-" : remote_;
        line += " - - ";
        line += clf_time(std::chrono::system_clock::now());
        line += " \"";
        if (req != nullptr) {
            std::string request_line = req->method_name() + " " + req->raw_path() + " HTTP/" +
                                       std::to_string(req->version().major) + "." +
                                       std::to_string(req->version().minor);
            append_log_field(line, request_line);
        } else {
            line += '-';
        }
        line += "\" " + std::to_string(status) + " " + std::to_string(bytes) + " \"";
        append_log_field(line, req != nullptr ? req->headers().get("Referer", "") : "");
        line += "\" \"";
        append_log_field(line, req != nullptr ? req->headers().get("User-Agent", "") : "");
        line += "\"\n";
        std::fwrite(line.data(), 1, line.size(), log);
        std::fflush(log);
    }

    void write_error(int status, bool retry_after = false) {
        Response err = HTTPException(status).as_response();
        if (retry_after) {
            err.headers().set("Retry-After", "1");
        }
        last_error_bytes_ = err.body().size();
        http::detail::ResponseHeadOptions o;
        o.status = status;
        o.keep_alive = false;
        o.date = st_->date.get(std::chrono::system_clock::now());
        out_.clear();
        http::detail::serialize_response(out_, o, err.headers(), err.body());
        tr_->write(out_);
        parsing_done_ = true;
    }

    // The idle period starts now: it ends keepalive_timeout later unless a
    // head completes first. The loop's timer is re-armed only when none is
    // pending (a pending one fires earlier and sleeps again till the deadline).
    void arm_idle_timer() {
        EventLoop& loop = get_running_loop();
        idle_counting_ = true;
        idle_deadline_ = loop.time() + st_->options.keepalive_timeout;
        if (!idle_timer_pending_) {
            schedule_idle_timer(loop);
        }
    }

    void schedule_idle_timer(EventLoop& loop) {
        idle_timer_pending_ = true;
        idle_timer_ = loop.call_at(idle_deadline_, [this] { idle_timer_fired(); });
    }

    void idle_timer_fired() {
        idle_timer_pending_ = false;
        if (lost_ || !idle_counting_ || !idle()) {
            return;  // a request came: its end starts the next idle period
        }
        EventLoop& loop = get_running_loop();
        if (loop.time() < idle_deadline_) {
            schedule_idle_timer(loop);  // requests came and went since it was armed
            return;
        }
        if (begin_ != end_ && !parsing_done_ && !reader_) {
            write_error(408);  // part of a head came, the rest did not
        }
        parsing_done_ = true;
        tr_->close();
    }

    std::shared_ptr<AppServer::State> st_;
    net::Transport* tr_ = nullptr;
    std::string remote_;
    http::detail::RequestParser parser_;
    std::string buf_;
    std::size_t begin_ = 0, end_ = 0;
    bool in_shared_ = false;  // the bytes [begin_, end_) are in shared_read_buffer()
    std::deque<Pending> queue_;
    // The request whose body is arriving (null between messages).
    std::shared_ptr<BodyReader> reader_;
    Request* reader_req_ = nullptr;
    std::optional<std::uint64_t> body_length_;  // its Content-Length
    bool expect_continue_ = false;              // it asked for a 100 Continue, not sent yet
    bool body_paused_ = false;                  // its unread bytes reached body_buffer_limit
    bool resume_scheduled_ = false;
    bool discarding_ = false;  // its handler returned: bytes are dropped
    std::uint64_t discard_left_ = 0;
    bool handling_ = false;
    bool parsing_done_ = false;
    bool lost_ = false;
    std::string out_;
    TimerHandle idle_timer_;
    TimePoint idle_deadline_{};
    bool idle_counting_ = false;       // an idle period runs (no head since it began)
    bool idle_timer_pending_ = false;  // idle_timer_ is in the loop's heap
    TaskHandle<void> task_;
    // The write side, for StreamResponse: clear while the transport has
    // paused writing.
    Event writable_;
    bool stream_started_ = false;
    bool stream_body_ = false;
    bool stream_chunked_ = false;
    bool stream_keep_alive_ = false;
    bool upgrade_pending_ = false;
    bool stream_sized_ = false;        // Content-Length framing (set_content_length)
    std::uint64_t stream_length_ = 0;  // its body bytes (0 for HEAD)
    bool over_limit_ = false;          // beyond max_connections: answered 503
    std::uint64_t stream_bytes_ = 0;   // body bytes of the current response
    std::uint64_t last_error_bytes_ = 0;
    std::shared_ptr<http::detail::WsSession> ws_;  // after a WebSocket handshake
};

AppServer::AppServer(std::shared_ptr<State> state) noexcept : state_(std::move(state)) {}
AppServer::AppServer(AppServer&&) noexcept = default;
AppServer& AppServer::operator=(AppServer&&) noexcept = default;

AppServer::~AppServer() {
    if (!state_ || !state_->server) {
        return;
    }
    state_->closing = true;
    state_->server->close();
    for (Connection* c : std::set<Connection*>(state_->connections)) {
        c->transport().abort();
    }
}

std::uint16_t AppServer::port() const noexcept {
    return state_->port;
}
std::size_t AppServer::connections() const noexcept {
    return state_->connections.size();
}
std::uint64_t AppServer::requests_served() const noexcept {
    return state_->served;
}

Task<void> AppServer::shutdown(Duration timeout) {
    std::shared_ptr<State> st = state_;
    if (!st->server) {
        co_return;
    }
    st->closing = true;
    st->server->close();
    for (Connection* c : std::set<Connection*>(st->connections)) {
        if (c->idle()) {
            c->transport().close();
        } else {
            c->going_away();
        }
    }
    if (st->connections.empty()) {
        st->drained.set();
    }
    bool timed_out = false;
    try {
        co_await wait_for(st->drained.wait(), timeout);
    } catch (const TimeoutError&) {
        timed_out = true;
    }
    if (timed_out) {
        std::vector<TaskHandle<void>> tasks;
        for (Connection* c : std::set<Connection*>(st->connections)) {
            if (c->handler_task() && !c->handler_task().done()) {
                c->handler_task().cancel("server shutdown");
                tasks.push_back(c->handler_task());
            }
            c->transport().abort();
        }
        for (TaskHandle<void>& t : tasks) {
            try {
                co_await t;
            } catch (const CancelledError&) {
            }
        }
    }
    co_await st->server->wait_closed();
    st->server.reset();
}

Task<AppServer> serve(const Application& app, std::string host, std::uint16_t port,
                      ServerOptions options) {
    auto st = std::make_shared<AppServer::State>();
    st->app = &app;
    st->options = options;
    st->limits.max_uri_size = options.max_uri_size;
    st->limits.max_head_size = options.max_head_size;
    st->limits.max_headers = options.max_headers;
    st->limits.max_body_size = options.max_body_size;
    if (st->options.max_pipelined == 0) {
        st->options.max_pipelined = 1;
    }
    net::ServerOptions so;
    so.reuse_port = options.reuse_port;
    so.ssl = options.ssl;
    std::weak_ptr<AppServer::State> weak = st;
    // A named factory: GCC 12 may destroy a temporary made inside co_await twice.
    net::ProtocolFactory factory = [weak]() -> std::unique_ptr<net::Protocol> {
        return std::make_unique<Connection>(weak.lock());
    };
    net::Server server = co_await net::create_server(std::move(factory), std::move(host), port, so);
    st->port = server.sockets().at(0).port();
    st->server.emplace(std::move(server));
    co_return AppServer(std::move(st));
}

namespace {

// run_app's life cycle on one loop: start-up steps, serve until `stop`
// (a signal) or cancellation, then shutdown steps, the graceful shutdown,
// clean-up steps. A failed start-up still runs the shutdown and clean-up
// steps (aiohttp's runner.cleanup() in run_app's finally). Returns whether
// it was cancelled.
Task<bool> serve_app(const Application& app, std::string host, std::uint16_t port,
                     ServerOptions options, Duration shutdown_timeout, Event& stop) {
    std::optional<AppServer> server;
    std::exception_ptr failed;
    bool cancelled = false;
    try {
        co_await app.startup();
        server.emplace(co_await serve(app, std::move(host), port, options));
        co_await stop.wait();
    } catch (const CancelledError&) {
        cancelled = true;
    } catch (...) {
        failed = std::current_exception();
    }
    try {
        co_await app.shutdown();
    } catch (...) {
        if (!failed) {
            failed = std::current_exception();
        }
    }
    if (server) {
        co_await server->shutdown(cancelled ? Duration::zero() : shutdown_timeout);
    }
    try {
        co_await app.cleanup();
    } catch (...) {
        if (!failed) {
            failed = std::current_exception();
        }
    }
    if (failed) {
        std::rethrow_exception(failed);
    }
    co_return cancelled;
}

}  // namespace

Task<void> run_app(const Application& app, std::string host, std::uint16_t port,
                   ServerOptions options, Duration shutdown_timeout) {
    EventLoop& loop = get_running_loop();
    Event stop;
    loop.add_signal_handler(SIGINT, [&stop] { stop.set(); });
    loop.add_signal_handler(SIGTERM, [&stop] { stop.set(); });
    struct RemoveHandlers {
        EventLoop& loop;
        ~RemoveHandlers() {
            loop.remove_signal_handler(SIGINT);
            loop.remove_signal_handler(SIGTERM);
        }
    } remove{loop};
    if (co_await serve_app(app, std::move(host), port, options, shutdown_timeout, stop)) {
        throw CancelledError("run_app cancelled");
    }
}

namespace {

// One loop's part of run_app(group, ...): the app's steps and its server on
// this loop, until cancelled (the group cancels every main on SIGINT/SIGTERM
// or stop()), then a graceful shutdown; returns normally then, so that the
// group counts the main as returned.
Task<void> serve_until_cancelled(const Application& app, std::string host, std::uint16_t port,
                                 ServerOptions options, Duration shutdown_timeout) {
    Event stop;
    auto serving =
        create_task(serve_app(app, std::move(host), port, options, shutdown_timeout, stop));
    try {
        co_await shield(serving);
        co_return;
    } catch (const CancelledError&) {
        stop.set();
    }
    co_await serving;
}

}  // namespace

void run_app(LoopGroup& group, const Application& app, std::string host, std::uint16_t port,
             ServerOptions options, Duration shutdown_timeout) {
    if (port == 0) {
        throw std::invalid_argument(
            "run_app on a LoopGroup: port 0 is not allowed (every loop must bind the same port)");
    }
    options.reuse_port = true;
    group.run([&](EventLoop&, std::size_t) {
        return serve_until_cancelled(app, host, port, options, shutdown_timeout);
    });
}

}  // namespace corio::http::web
