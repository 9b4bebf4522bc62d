// src/net/socket_transport.hpp - the connection engine (private): one
// Transport over a stream socket or a pipe, on either backend. Everything
// above it stands on it: Protocol users directly, streams through their
// protocol (StreamConn), TLS as a layer between it and the user's protocol.
//
// Reading: the backend calls IoState::on_ready when there is something to
// pull (a readiness edge under epoll, completed receives under io_uring);
// that posts io_ready() once per burst (PostedIo), which pulls up to
// kReadsPerTurn chunks into the protocol - straight into a
// BufferedProtocol's buffer where the backend reads into the caller's
// memory, a view of the backend's buffer for data_received otherwise.
//
// Writing: write() copies into the WriteQueue and queues an end-of-iteration
// hook; the hook sends everything queued in one gathered write. More than
// kFlushThreshold bytes queued flush at once. Under io_uring a write is in
// flight until its completion: the queue's blocks stay put meanwhile (new
// writes go behind them), and closing waits for the completion before the
// socket is closed, so the kernel never reads freed memory.
//
// sendfile (epoll, sockets): flushes the queue, then sendfile(2) straight
// from the file while the socket takes it, waiting for the writable edge
// (io_ready wakes it) when it does not; close() waits for it as for the
// queue.
//
// Lifetime: the transport holds itself (`self_`) from start() until
// connection_lost has run, as asyncio's loop holds a transport; a posted
// io_ready and a queued flush hold references of their own.
#pragma once

#include <any>
#include <memory>
#include <optional>
#include <string>

#include "channel.hpp"
#include "corio/locks.hpp"
#include "corio/net/transports.hpp"
#include "server_state.hpp"
#include "write_queue.hpp"

namespace corio::net::detail {

class SocketTransport final : public Transport, public ServerClient, PostedIo<SocketTransport> {
    friend class PostedIo<SocketTransport>;

public:
    /// Flush at once when this much is queued, not at the end of the iteration.
    static constexpr std::size_t kFlushThreshold = 64 * 1024;

    /// A transport over `sock`: a socket, or a pipe end (is_socket = false:
    /// read/write instead of recv/send; write_eof closes it).
    explicit SocketTransport(Socket sock, bool is_socket = true);
    ~SocketTransport() override;

    /// Registers with the running loop, installs `proto` and calls its
    /// connection_made. `reading` = false: start paused (a pipe we only
    /// write to). Throws what registration throws.
    void start(std::unique_ptr<Protocol> proto, bool reading = true);

    // -- Transport ------------------------------------------------------------
    void write(std::string_view data) override;
    void writelines(std::span<const std::string_view> pieces) override;
    void write_eof() override;
    bool can_write_eof() const noexcept override { return is_socket_; }
    void close() override;
    void abort() override;
    bool is_closing() const noexcept override { return closing_; }
    void pause_reading() override;
    void resume_reading() override;
    bool is_reading() const noexcept override { return reading_ && !closing_; }
    void set_write_buffer_limits(std::optional<std::size_t> high = std::nullopt,
                                 std::optional<std::size_t> low = std::nullopt) override;
    std::size_t get_write_buffer_size() const noexcept override { return wq_.size(); }
    SocketAddress peername() const override { return peer_; }
    SocketAddress sockname() const override { return local_; }
    std::any get_extra_info(std::string_view name) const override;
    Protocol& get_protocol() noexcept override { return *proto_; }
    std::unique_ptr<Protocol> set_protocol(std::unique_ptr<Protocol> protocol) override;
    bool can_sendfile() const noexcept override;
    Task<void> sendfile(int fd, std::uint64_t offset, std::uint64_t count) override;

    /// The transport a server closes for this connection (close_clients):
    /// itself, or the TLS layer on top of it.
    void set_server_face(Transport* face) noexcept { face_ = face; }

private:
    // ServerClient: close_clients / abort_clients.
    void close_client() override;
    void abort_client() override;

    static void run_flush(corio::detail::IterationHook* hook, bool run) noexcept;
    void io_ready();
    void read_some_buffers();
    void on_eof();
    void queued();
    void flush();
    void after_write();
    void write_failed(int err);
    void shutdown_write();
    void maybe_pause_protocol();
    void maybe_resume_protocol();
    template <class F>
    void guarded(F&& f, const char* what);
    void fatal(std::exception_ptr e, const char* what);
    void force_close(std::exception_ptr e);
    void schedule_connection_lost(std::exception_ptr e);
    void call_connection_lost(std::exception_ptr e);
    corio::detail::IoState& io() noexcept { return *sock_.io_state(); }
    Task<void> wait_writable();

    Socket sock_;
    bool is_socket_;
    std::unique_ptr<Protocol> proto_;
    BufferedProtocol* buffered_ = nullptr;  // proto_, when it lends buffers
    Transport* face_ = this;
    SocketAddress peer_;
    SocketAddress local_;

    WriteQueue wq_;
    std::size_t inflight_ = 0;  // io_uring: bytes of the queue's front in a write in flight
    std::size_t high_ = 64 * 1024;
    std::size_t low_ = 16 * 1024;
    struct FlushHook : corio::detail::IterationHook {
        SocketTransport* owner;
        std::shared_ptr<SocketTransport> keep;  // while queued
    } flush_hook_;

    bool protocol_paused_ = false;
    bool reading_ = true;
    bool eof_kept_ = false;  // eof_received() returned true: the socket is not read
    bool closing_ = false;
    bool eof_requested_ = false;
    bool eof_sent_ = false;
    bool lost_ = false;             // connection_lost is scheduled (or ran)
    bool write_failed_ = false;     // nothing more goes out
    bool sendfile_active_ = false;  // a sendfile() runs: close() waits for it
    Event sendfile_wake_;           // set by io_ready and the lost connection
};

}  // namespace corio::net::detail
