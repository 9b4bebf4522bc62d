// src/core/backend_uring.cpp - the io_uring backend: completions.
//
// One ring per loop. Operations become submission entries; nothing is handed
// to the kernel until the loop's next wait(), which submits everything
// queued in this iteration and waits for completions in one io_uring_enter
// (the loop polls without blocking in a busy iteration while entries are
// queued: has_unsubmitted()). Completions are dispatched in the poll phase.
//
// Transports read with one multishot receive per connection into a ring of
// buffers the kernel picks from (provided buffers), so an idle connection
// holds no receive buffer; the filled buffers wait in the fd's inbox until
// the transport pulls them (read_some hands a view, release_read gives the
// buffer back to the ring). Listening sockets accept with one multishot
// accept. Writes are one gathered sendmsg in flight at a time per fd.
//
// Lifetimes. Every entry's user_data is a pointer to what it completes,
// tagged in its low bits: an IoOp, an fd's state (UringFd: its multishot
// receive, its write, its multishot accept), a watch, the wake-up. Before an
// fd is closed, detach() cancels everything the kernel still holds for it
// and waits for the kernel to confirm (IORING_REGISTER_SYNC_CANCEL), then
// reaps those completions: no kernel work ever refers to memory freed
// after. shutdown() does the same for every fd when the loop closes.
#include "backend.hpp"

#if CORIO_HAS_IO_URING

#include <liburing.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace corio::detail {
namespace {

constexpr std::uint64_t kWakeToken = ~std::uint64_t{0};

// user_data tags (pointers are 8-aligned).
enum Tag : std::uint64_t {
    kTagOp = 0,      // IoOp*
    kTagRecv = 1,    // UringFd*: its multishot receive
    kTagWrite = 2,   // UringFd*: its write
    kTagAccept = 3,  // UringFd*: its multishot accept
    kTagWatch = 4,   // Watch*
    kTagWake = 5,    // the eventfd's multishot poll
    kTagIgnore = 6,  // cancellations: nothing to do
};
constexpr std::uint64_t kTagMask = 7;

std::uint64_t tagged(const void* p, Tag t) {
    return reinterpret_cast<std::uint64_t>(p) | t;
}

// The provided-buffer ring for transport reads.
constexpr unsigned kBufCount = 256;  // a power of two
constexpr unsigned kBufSize = 16 * 1024;
constexpr int kBufGroup = 1;

std::uint32_t from_poll(int revents) {
    std::uint32_t e = 0;
    if (revents & POLLIN) {
        e |= kIoReadable;
    }
    if (revents & POLLRDHUP) {
        e |= kIoReadable | kIoPeerClosed;
    }
    if (revents & POLLOUT) {
        e |= kIoWritable;
    }
    if (revents & POLLERR) {
        e |= kIoError;
    }
    if (revents & POLLHUP) {
        e |= kIoHangup;
    }
    return e;
}

unsigned to_poll(std::uint32_t interest) {
    unsigned m = 0;
    if (interest & kIoReadable) {
        m |= POLLIN | POLLRDHUP;
    }
    if (interest & kIoWritable) {
        m |= POLLOUT;
    }
    return m;
}

// The backend's state of one registered fd.
struct WriteSlot {
    iovec iov[64];
    msghdr msg{};
};

struct UringFd {
    IoState* io = nullptr;  // null once detached
    int fd = -1;
    unsigned in_kernel = 0;  // entries the kernel holds for this fd

    // Multishot receive (transports).
    struct Chunk {
        std::uint16_t bid;
        std::uint32_t off;
        std::uint32_t len;
    };
    // Filled buffers not yet read, oldest at inbox_head. A vector, not a
    // deque: an idle connection's empty inbox owns no memory.
    std::vector<Chunk> inbox;
    std::size_t inbox_head = 0;
    bool inbox_empty() const noexcept { return inbox_head == inbox.size(); }
    Chunk inbox_pop() noexcept {
        Chunk c = inbox[inbox_head++];
        if (inbox_head == inbox.size()) {
            inbox.clear();
            inbox_head = 0;
        }
        return c;
    }
    void inbox_push_front(Chunk c) {
        if (inbox_head > 0) {
            inbox[--inbox_head] = c;
        } else {
            inbox.insert(inbox.begin(), c);
        }
    }
    bool recv_wanted = false;
    bool recv_armed = false;
    bool recv_starved = false;  // ended for lack of buffers: re-armed when some come back
    int recv_end = 0;           // 1: EOF; < 0: -errno; 0: none

    // Write (transports): one gathered write in flight, its iovecs in a
    // slot borrowed from the backend's pool while the kernel holds them
    // (1 KiB that an idle connection does not keep).
    std::unique_ptr<WriteSlot> wslot;
    bool write_inflight = false;
    bool write_done = false;
    int write_res = 0;

    // Multishot accept (listeners).
    bool accept_armed = false;
    IoOp* accept_waiter = nullptr;
};

// A watch of add_reader/add_writer: a one-shot poll re-armed as it reports.
struct Watch {
    int fd;
    std::uint32_t interest;
    std::uint64_t token;
    bool armed = false;
    bool dead = false;  // removed: freed when its poll's completion comes
};

class UringBackend final : public Backend {
public:
    UringBackend() = default;

    // Returns an error text, or empty on success.
    std::string init() {
        io_uring_params p{};
        p.flags = IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
        int rc = ::io_uring_queue_init_params(4096, &ring_, &p);
        if (rc == -EINVAL) {  // older kernels: without the task-run flags
            p = {};
            rc = ::io_uring_queue_init_params(4096, &ring_, &p);
        }
        if (rc < 0) {
            return std::string("io_uring_setup: ") + std::strerror(-rc);
        }
        ring_ok_ = true;
        const unsigned need = IORING_FEAT_FAST_POLL | IORING_FEAT_EXT_ARG | IORING_FEAT_NODROP;
        if ((p.features & need) != need) {
            return "io_uring lacks fast poll, timeouts in io_uring_enter or no-drop (kernel too "
                   "old)";
        }
        // Multishot receive with provided buffers and synchronous cancel:
        // Linux 6.0; asked for 6.1 (the first long-term kernel with both).
        utsname u{};
        unsigned major = 0, minor = 0;
        if (::uname(&u) == 0) {
            std::sscanf(u.release, "%u.%u", &major, &minor);
        }
        if (major < 6 || (major == 6 && minor < 1)) {
            return std::string("kernel ") + u.release + " is older than 6.1";
        }
        std::size_t ring_bytes = kBufCount * sizeof(io_uring_buf);
        void* mem =
            ::mmap(nullptr, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
        if (mem == MAP_FAILED) {
            return std::string("mmap of the buffer ring: ") + std::strerror(errno);
        }
        br_ = static_cast<io_uring_buf_ring*>(mem);
        br_bytes_ = ring_bytes;
        io_uring_buf_reg reg{};
        reg.ring_addr = reinterpret_cast<std::uint64_t>(br_);
        reg.ring_entries = kBufCount;
        reg.bgid = kBufGroup;
        rc = ::io_uring_register_buf_ring(&ring_, &reg, 0);
        if (rc < 0) {
            return std::string("io_uring_register_buf_ring: ") + std::strerror(-rc);
        }
        br_registered_ = true;
        ::io_uring_buf_ring_init(br_);
        bufs_.reset(new char[std::size_t{kBufCount} * kBufSize]);
        for (unsigned i = 0; i < kBufCount; ++i) {
            ::io_uring_buf_ring_add(br_, bufs_.get() + std::size_t{i} * kBufSize, kBufSize,
                                    static_cast<unsigned short>(i),
                                    ::io_uring_buf_ring_mask(kBufCount), static_cast<int>(i));
        }
        ::io_uring_buf_ring_advance(br_, kBufCount);
        return {};
    }

    ~UringBackend() override {
        for (auto& [token, w] : watches_) {
            delete w;
        }
        for (Watch* w : dead_watches_) {
            delete w;
        }
        if (br_registered_) {
            ::io_uring_unregister_buf_ring(&ring_, kBufGroup);
        }
        if (br_ != nullptr) {
            ::munmap(br_, br_bytes_);
        }
        if (ring_ok_) {
            ::io_uring_queue_exit(&ring_);
        }
    }

    const char* name() const noexcept override { return "io_uring"; }

    // -- registered fds ----------------------------------------------------------

    void attach(IoState& io) override {
        auto* uf = new UringFd;
        uf->io = &io;
        uf->fd = io.fd;
        io.backend_state = uf;
        fds_.push_back(uf);
    }

    void detach(IoState& io) noexcept override {
        auto* uf = static_cast<UringFd*>(io.backend_state);
        io.backend_state = nullptr;
        detach_ops(io, /*backend_confirms=*/true);
        if (uf == nullptr) {
            return;
        }
        uf->io = nullptr;
        fail_accept_waiter(*uf);
        cancel_all_of(*uf);
        recycle_inbox(*uf);
        for (std::size_t i = 0; i < fds_.size(); ++i) {
            if (fds_[i] == uf) {
                fds_[i] = fds_.back();
                fds_.pop_back();
                break;
            }
        }
        delete uf;
    }

    // -- operations ------------------------------------------------------------

    bool start(IoOp& op) override {
        IoState& io = *op.io;
        auto* uf = static_cast<UringFd*>(io.backend_state);
        if (op.kind == OpKind::accept) {
            return start_accept(*uf, op);
        }
        if (op.kind == OpKind::poll || op.kind == OpKind::poll_in || op.kind == OpKind::poll_out) {
            check_pollable(io.fd);  // as epoll: a regular file is always "ready"
        }
        io_uring_sqe* sqe = get_sqe();
        switch (op.kind) {
            case OpKind::recv:
                ::io_uring_prep_recv(sqe, io.fd, op.buf, op.len, op.flags);
                break;
            case OpKind::recvmsg:
                ::io_uring_prep_recvmsg(sqe, io.fd, op.msg, static_cast<unsigned>(op.flags));
                break;
            case OpKind::read:
                ::io_uring_prep_read(sqe, io.fd, op.buf, static_cast<unsigned>(op.len),
                                     static_cast<std::uint64_t>(-1));
                break;
            case OpKind::poll_in:
                ::io_uring_prep_poll_add(sqe, io.fd, POLLIN | POLLRDHUP);
                break;
            case OpKind::poll:
                ::io_uring_prep_poll_add(sqe, io.fd, to_poll(static_cast<std::uint32_t>(op.flags)));
                break;
            case OpKind::poll_out:
                ::io_uring_prep_poll_add(sqe, io.fd, POLLOUT);
                break;
            case OpKind::send:
                ::io_uring_prep_send(sqe, io.fd, op.buf, op.len, op.flags | MSG_NOSIGNAL);
                break;
            case OpKind::sendmsg:
                ::io_uring_prep_sendmsg(sqe, io.fd, op.msg,
                                        static_cast<unsigned>(op.flags | MSG_NOSIGNAL));
                break;
            case OpKind::write:
                ::io_uring_prep_write(sqe, io.fd, op.buf, static_cast<unsigned>(op.len),
                                      static_cast<std::uint64_t>(-1));
                break;
            case OpKind::connect:
                ::io_uring_prep_connect(sqe, io.fd, op.addr, op.addrlen);
                break;
            case OpKind::accept:
                break;  // handled above
        }
        ::io_uring_sqe_set_data64(sqe, tagged(&op, kTagOp));
        op.backend_ref = uf;
        ++uf->in_kernel;
        return false;
    }

    bool cancel(IoOp& op) noexcept override {
        auto* uf = static_cast<UringFd*>(op.backend_ref);
        if (op.kind == OpKind::accept) {
            if (uf != nullptr && uf->accept_waiter == &op) {
                uf->accept_waiter = nullptr;  // the multishot accept stays armed: nothing is lost
            }
            return true;
        }
        io_uring_sqe* sqe = get_sqe();
        ::io_uring_prep_cancel64(sqe, tagged(&op, kTagOp), 0);
        ::io_uring_sqe_set_data64(sqe, tagged(nullptr, kTagIgnore));
        return false;  // the operation's completion says how it ended
    }

    // -- transports --------------------------------------------------------------

    void read_start(IoState& io) override {
        auto* uf = static_cast<UringFd*>(io.backend_state);
        uf->recv_wanted = true;
        arm_recv(*uf);
    }

    void read_stop(IoState& io) noexcept override {
        auto* uf = static_cast<UringFd*>(io.backend_state);
        if (uf == nullptr) {
            return;
        }
        uf->recv_wanted = false;
        if (uf->recv_armed) {
            io_uring_sqe* sqe = get_sqe();
            ::io_uring_prep_cancel64(sqe, tagged(uf, kTagRecv), 0);
            ::io_uring_sqe_set_data64(sqe, tagged(nullptr, kTagIgnore));
        }
    }

    StreamRead read_some(IoState& io, char*, std::size_t) override {
        auto* uf = static_cast<UringFd*>(io.backend_state);
        StreamRead r;
        if (!uf->inbox_empty()) {
            UringFd::Chunk c = uf->inbox_pop();
            r.kind = StreamRead::got;
            r.data = buffer(c.bid) + c.off;
            r.n = c.len;
            r.token = c.bid;
            r.borrowed = true;
            return r;
        }
        if (uf->recv_end == 1) {
            r.kind = StreamRead::eof;
        } else if (uf->recv_end < 0) {
            r.kind = StreamRead::error;
            r.err = -uf->recv_end;
        }
        return r;
    }

    void release_read(IoState* io, const StreamRead& r, std::size_t used) noexcept override {
        if (used < r.n && io != nullptr) {
            if (auto* uf = static_cast<UringFd*>(io->backend_state)) {
                std::uint32_t off = static_cast<std::uint32_t>(
                    r.data - buffer(static_cast<std::uint16_t>(r.token)));
                uf->inbox_push_front({static_cast<std::uint16_t>(r.token),
                                      static_cast<std::uint32_t>(off + used),
                                      static_cast<std::uint32_t>(r.n - used)});
                return;
            }
        }
        give_buffer(static_cast<std::uint16_t>(r.token));
    }

    bool has_read_data(const IoState& io) const noexcept override {
        auto* uf = static_cast<const UringFd*>(io.backend_state);
        return uf != nullptr && (!uf->inbox_empty() || uf->recv_end != 0);
    }

    StreamWrite write_some(IoState& io, const iovec* iov, int n) override {
        auto* uf = static_cast<UringFd*>(io.backend_state);
        if (uf->write_inflight) {
            return {StreamWrite::pending, 0, 0};
        }
        n = std::min(n, 64);
        if (!uf->wslot) {
            if (slots_.empty()) {
                uf->wslot = std::make_unique<WriteSlot>();
            } else {
                uf->wslot = std::move(slots_.back());
                slots_.pop_back();
            }
        }
        WriteSlot& ws = *uf->wslot;
        std::memcpy(ws.iov, iov, sizeof(iovec) * static_cast<std::size_t>(n));
        io_uring_sqe* sqe = get_sqe();
        if (io.is_socket) {
            ws.msg = {};
            ws.msg.msg_iov = ws.iov;
            ws.msg.msg_iovlen = static_cast<std::size_t>(n);
            ::io_uring_prep_sendmsg(sqe, io.fd, &ws.msg, MSG_NOSIGNAL);
        } else {
            ::io_uring_prep_writev(sqe, io.fd, ws.iov, static_cast<unsigned>(n),
                                   static_cast<std::uint64_t>(-1));
        }
        ::io_uring_sqe_set_data64(sqe, tagged(uf, kTagWrite));
        uf->write_inflight = true;
        uf->write_done = false;
        ++uf->in_kernel;
        return {StreamWrite::pending, 0, 0};
    }

    StreamWrite write_result(IoState& io) noexcept override {
        auto* uf = static_cast<UringFd*>(io.backend_state);
        if (uf == nullptr || uf->write_inflight || !uf->write_done) {
            return {StreamWrite::pending, 0, 0};
        }
        uf->write_done = false;
        if (uf->write_res >= 0) {
            return {StreamWrite::done, static_cast<std::size_t>(uf->write_res), 0};
        }
        return {StreamWrite::error, 0, -uf->write_res};
    }

    // -- add_reader / add_writer -------------------------------------------------

    void watch(int fd, std::uint32_t interest, std::uint32_t old_interest,
               std::uint64_t token) override {
        (void)old_interest;
        auto it = watches_.find(token);
        if (it != watches_.end()) {
            Watch* w = it->second;
            watches_.erase(it);
            retire(w);
        }
        if (interest == 0) {
            return;
        }
        check_pollable(fd);
        auto* w = new Watch{fd, interest, token};
        watches_.emplace(token, w);
        arm_watch(*w);
    }

    // -- waiting -------------------------------------------------------------------

    void set_wake_fd(int fd) override {
        wake_fd_ = fd;
        arm_wake();
    }

    bool has_unsubmitted() const noexcept override { return ::io_uring_sq_ready(&ring_) > 0; }

    int wait(IoEvent* out, int max, int& nevents, std::int64_t timeout_ns) override {
        out_ = out;
        out_max_ = max;
        nevents_ = 0;
        int rc;
        if (timeout_ns == 0) {
            rc = ::io_uring_submit_and_get_events(&ring_);
        } else if (timeout_ns < 0) {
            rc = ::io_uring_submit_and_wait(&ring_, 1);
        } else {
            __kernel_timespec ts{timeout_ns / 1000000000, timeout_ns % 1000000000};
            io_uring_cqe* cqe = nullptr;
            rc = ::io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
        }
        if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) {
            throw std::system_error(-rc, std::generic_category(), "io_uring_enter");
        }
        int n = reap();
        nevents = nevents_;
        out_ = nullptr;
        return n;
    }

    void shutdown() noexcept override {
        for (UringFd* uf : fds_) {
            if (uf->io != nullptr) {
                detach_ops(*uf->io, /*backend_confirms=*/true);
                uf->io->backend_state = nullptr;
                uf->io = nullptr;
            }
            fail_accept_waiter(*uf);
            cancel_all_of(*uf);
            recycle_inbox(*uf);
            delete uf;
        }
        fds_.clear();
        if (ring_ok_) {
            // Watches and the wake-up: cancel everything left and reap it
            // (the wake-up arms itself again: close() may still wait for
            // work other threads finish).
            io_uring_sync_cancel_reg reg{};
            reg.flags = IORING_ASYNC_CANCEL_ANY;
            reg.fd = -1;
            reg.timeout = {1, 0};
            ::io_uring_register_sync_cancel(&ring_, &reg);
            ::io_uring_get_events(&ring_);
            reap();
        }
    }

private:
    io_uring_sqe* get_sqe() {
        io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
        while (sqe == nullptr) {
            // The submission queue is full: hand it over, then retry.
            int rc = ::io_uring_submit(&ring_);
            if (rc < 0 && rc != -EBUSY && rc != -EAGAIN && rc != -EINTR) {
                throw std::system_error(-rc, std::generic_category(), "io_uring_submit");
            }
            if (rc <= 0) {
                reap();  // the completion queue must make room first
            }
            sqe = ::io_uring_get_sqe(&ring_);
        }
        return sqe;
    }

    char* buffer(std::uint16_t bid) const noexcept {
        return bufs_.get() + std::size_t{bid} * kBufSize;
    }

    void give_buffer(std::uint16_t bid) noexcept {
        ::io_uring_buf_ring_add(br_, buffer(bid), kBufSize, bid,
                                ::io_uring_buf_ring_mask(kBufCount), 0);
        ::io_uring_buf_ring_advance(br_, 1);
        if (!starved_.empty()) {
            // Receives that ended for lack of buffers start again.
            std::vector<UringFd*> again;
            again.swap(starved_);
            for (UringFd* uf : again) {
                uf->recv_starved = false;
                try {
                    arm_recv(*uf);
                } catch (...) {
                    starved_.push_back(uf);
                    uf->recv_starved = true;
                }
            }
        }
    }

    void recycle_inbox(UringFd& uf) noexcept {
        while (!uf.inbox_empty()) {
            give_buffer(uf.inbox_pop().bid);
        }
        std::erase(starved_, &uf);
    }

    void arm_recv(UringFd& uf) {
        if (uf.recv_armed || !uf.recv_wanted || uf.recv_end != 0 || uf.recv_starved) {
            return;
        }
        io_uring_sqe* sqe = get_sqe();
        if (uf.io != nullptr && !uf.io->is_socket) {
            // A pipe: one read at a time (no multishot read before Linux
            // 6.7), into a buffer the kernel picks; re-armed as it completes.
            ::io_uring_prep_read(sqe, uf.fd, nullptr, kBufSize, static_cast<std::uint64_t>(-1));
        } else {
            ::io_uring_prep_recv_multishot(sqe, uf.fd, nullptr, 0, 0);
        }
        sqe->flags |= IOSQE_BUFFER_SELECT;
        sqe->buf_group = kBufGroup;
        ::io_uring_sqe_set_data64(sqe, tagged(&uf, kTagRecv));
        uf.recv_armed = true;
        ++uf.in_kernel;
    }

    // An accept waiting for the multishot accept of a listener being closed.
    static void fail_accept_waiter(UringFd& uf) noexcept {
        if (IoOp* op = std::exchange(uf.accept_waiter, nullptr)) {
            op->backend_ref = nullptr;
            complete_op(*op, -EBADF);
        }
    }

    bool start_accept(UringFd& uf, IoOp& op) {
        op.backend_ref = &uf;
        uf.accept_waiter = &op;
        if (!uf.accept_armed) {
            io_uring_sqe* sqe = get_sqe();
            ::io_uring_prep_multishot_accept(sqe, uf.fd, nullptr, nullptr,
                                             SOCK_NONBLOCK | SOCK_CLOEXEC);
            ::io_uring_sqe_set_data64(sqe, tagged(&uf, kTagAccept));
            uf.accept_armed = true;
            ++uf.in_kernel;
        }
        return false;
    }

    // Cancels everything the kernel holds for `uf` and waits until it has
    // let go, then reaps the completions (which find `uf` still alive).
    void cancel_all_of(UringFd& uf) noexcept {
        if (uf.in_kernel == 0) {
            return;
        }
        io_uring_sync_cancel_reg reg{};
        reg.fd = uf.fd;
        reg.flags = IORING_ASYNC_CANCEL_FD | IORING_ASYNC_CANCEL_ALL;
        reg.timeout = {1, 0};
        // Entries still queued must reach the kernel first to be cancelled.
        ::io_uring_submit(&ring_);
        ::io_uring_register_sync_cancel(&ring_, &reg);
        for (int round = 0; uf.in_kernel > 0 && round < 1000; ++round) {
            ::io_uring_get_events(&ring_);
            if (reap() == 0 && uf.in_kernel > 0) {
                __kernel_timespec ts{0, 1000000};
                io_uring_cqe* cqe = nullptr;
                ::io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
            }
        }
    }

    void arm_watch(Watch& w) {
        io_uring_sqe* sqe = get_sqe();
        ::io_uring_prep_poll_add(sqe, w.fd, to_poll(w.interest));
        ::io_uring_sqe_set_data64(sqe, tagged(&w, kTagWatch));
        w.armed = true;
    }

    void retire(Watch* w) {
        w->dead = true;
        if (!w->armed) {
            delete w;
            return;
        }
        io_uring_sqe* sqe = get_sqe();
        ::io_uring_prep_cancel64(sqe, tagged(w, kTagWatch), 0);
        ::io_uring_sqe_set_data64(sqe, tagged(nullptr, kTagIgnore));
        dead_watches_.push_back(w);
    }

    // epoll refuses regular files with EPERM; add_reader promises the same.
    static void check_pollable(int fd) {
        struct stat sb;
        if (::fstat(fd, &sb) < 0) {
            throw std::system_error(errno, std::generic_category(),
                                    "watch(fd " + std::to_string(fd) + ")");
        }
        if (S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)) {
            throw std::system_error(EPERM, std::generic_category(),
                                    "watch(fd " + std::to_string(fd) + ")");
        }
    }

    void arm_wake() {
        io_uring_sqe* sqe = get_sqe();
        ::io_uring_prep_poll_multishot(sqe, wake_fd_, POLLIN);
        ::io_uring_sqe_set_data64(sqe, tagged(nullptr, kTagWake));
    }

    void report(std::uint64_t token, std::uint32_t events) {
        if (out_ != nullptr && nevents_ < out_max_) {
            out_[nevents_++] = IoEvent{token, events};
        }
    }

    // Handles every completion waiting; returns how many.
    int reap() {
        int n = 0;
        io_uring_cqe* cqe;
        unsigned head;
        unsigned count = 0;
        io_uring_for_each_cqe(&ring_, head, cqe) {
            ++count;
            dispatch(cqe->user_data, cqe->res, cqe->flags);
        }
        ::io_uring_cq_advance(&ring_, count);
        n += static_cast<int>(count);
        return n;
    }

    void dispatch(std::uint64_t data, int res, unsigned flags) {
        void* p = reinterpret_cast<void*>(data & ~kTagMask);
        switch (static_cast<Tag>(data & kTagMask)) {
            case kTagOp:
                op_done(*static_cast<IoOp*>(p), res);
                break;
            case kTagRecv:
                recv_done(*static_cast<UringFd*>(p), res, flags);
                break;
            case kTagWrite:
                write_done(*static_cast<UringFd*>(p), res);
                break;
            case kTagAccept:
                accept_done(*static_cast<UringFd*>(p), res, flags);
                break;
            case kTagWatch:
                watch_done(*static_cast<Watch*>(p), res);
                break;
            case kTagWake:
                report(kWakeToken, kIoReadable);
                if (!(flags & IORING_CQE_F_MORE)) {
                    arm_wake();
                }
                break;
            case kTagIgnore:
                break;
        }
    }

    void op_done(IoOp& op, int res) {
        if (auto* uf = static_cast<UringFd*>(op.backend_ref)) {
            --uf->in_kernel;
        }
        op.backend_ref = nullptr;
        if (op.io == nullptr && res == -ECANCELED) {
            res = -EBADF;  // its fd was closed under it
        }
        if (res >= 0 && (op.kind == OpKind::poll_in || op.kind == OpKind::poll ||
                         op.kind == OpKind::poll_out)) {
            std::uint32_t seen = from_poll(res);
            if (op.io != nullptr) {
                op.io->ready |= seen;
            }
            res = static_cast<int>(seen);
        }
        complete_op(op, res);
    }

    void recv_done(UringFd& uf, int res, unsigned flags) {
        if (!(flags & IORING_CQE_F_MORE)) {
            uf.recv_armed = false;
            --uf.in_kernel;
        }
        if (res > 0 && (flags & IORING_CQE_F_BUFFER)) {
            auto bid = static_cast<std::uint16_t>(flags >> IORING_CQE_BUFFER_SHIFT);
            if (uf.io == nullptr) {
                give_buffer(bid);  // detached: nobody will read it
                return;
            }
            uf.inbox.push_back({bid, 0, static_cast<std::uint32_t>(res)});
        } else if (res == 0) {
            uf.recv_end = 1;
        } else if (res == -ENOBUFS) {
            if (!uf.recv_starved) {
                uf.recv_starved = true;
                starved_.push_back(&uf);
            }
        } else if (res < 0 && res != -ECANCELED) {
            uf.recv_end = res;
        }
        if (uf.io == nullptr) {
            return;
        }
        if (!uf.recv_armed) {
            arm_recv(uf);  // the kernel ended it (not for EOF, an error or read_stop): go on
        }
        if (uf.io->on_ready != nullptr && (!uf.inbox_empty() || uf.recv_end != 0)) {
            uf.io->on_ready(uf.io);
        }
    }

    void write_done(UringFd& uf, int res) {
        --uf.in_kernel;
        uf.write_inflight = false;
        if (uf.wslot && slots_.size() < kMaxPooledSlots) {  // the kernel is done with it
            slots_.push_back(std::move(uf.wslot));
        }
        uf.wslot.reset();
        uf.write_done = true;
        uf.write_res = res;
        if (uf.io != nullptr && uf.io->on_ready != nullptr) {
            uf.io->on_ready(uf.io);
        }
    }

    void accept_done(UringFd& uf, int res, unsigned flags) {
        if (!(flags & IORING_CQE_F_MORE)) {
            uf.accept_armed = false;
            --uf.in_kernel;
        }
        if (res == -ECANCELED) {
            return;
        }
        if (uf.io == nullptr) {
            if (res >= 0) {
                ::close(res);
            }
            return;
        }
        IoState::Accepted a{res, sizeof(sockaddr_storage), {}};
        if (res >= 0 && ::getpeername(res, reinterpret_cast<sockaddr*>(&a.addr), &a.addrlen) < 0) {
            a.addrlen = 0;
        }
        if (IoOp* op = std::exchange(uf.accept_waiter, nullptr)) {
            if (res >= 0 && op->addr != nullptr) {
                op->addrlen = std::min(op->addrlen, a.addrlen);
                std::memcpy(op->addr, &a.addr, op->addrlen);
            }
            op->backend_ref = nullptr;
            complete_op(*op, res);
        } else if (res >= 0) {
            uf.io->accepted.push_back(a);  // for the next accept
        }
    }

    void watch_done(Watch& w, int res) {
        w.armed = false;
        if (w.dead) {
            std::erase(dead_watches_, &w);
            delete &w;
            return;
        }
        if (res == -ECANCELED) {
            return;
        }
        std::uint32_t e = res < 0 ? (kIoError | kIoHangup) : from_poll(res);
        report(w.token, e);
        arm_watch(w);  // level-triggered: evaluated again at the next submit
    }

    io_uring ring_{};
    bool ring_ok_ = false;
    io_uring_buf_ring* br_ = nullptr;
    std::size_t br_bytes_ = 0;
    bool br_registered_ = false;
    std::unique_ptr<char[]> bufs_;
    std::vector<UringFd*> fds_;
    static constexpr std::size_t kMaxPooledSlots = 1024;
    std::vector<std::unique_ptr<WriteSlot>> slots_;  // free write slots
    std::vector<UringFd*> starved_;
    std::unordered_map<std::uint64_t, Watch*> watches_;
    std::vector<Watch*> dead_watches_;
    int wake_fd_ = -1;
    IoEvent* out_ = nullptr;
    int out_max_ = 0;
    int nevents_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_uring_backend(std::string* why) {
    auto b = std::make_unique<UringBackend>();
    std::string err = b->init();
    if (!err.empty()) {
        if (why != nullptr) {
            *why = err;
        }
        return nullptr;
    }
    return b;
}

}  // namespace corio::detail

#else  // !CORIO_HAS_IO_URING

namespace corio::detail {

std::unique_ptr<Backend> make_uring_backend(std::string* why) {
    if (why != nullptr) {
        *why = "corio was built without liburing";
    }
    return nullptr;
}

}  // namespace corio::detail

#endif
