// src/net/write_queue.hpp - the bytes a transport still has to send
// (private).
//
// A list of blocks, filled at the back and sent from the front with one
// gathered write (iovecs over the blocks). Blocks never move or grow once
// made: under io_uring the kernel reads the bytes of a write in flight
// while the program appends more behind them, so an append must never
// reallocate what is already queued. Blocks (16 KiB) come from the
// per-thread buffer pool (buffer_pool.hpp) and go back to it when sent; a
// big write spans several blocks (one iovec each).
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace corio::net::detail {

class WriteQueue {
public:
    static constexpr std::size_t kBlockSize = 16 * 1024;
    static constexpr int kMaxIov = 64;

    WriteQueue() = default;
    WriteQueue(const WriteQueue&) = delete;
    WriteQueue& operator=(const WriteQueue&) = delete;
    ~WriteQueue() { clear(); }

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

    /// Copies `data` to the back.
    void append(std::string_view data);
    /// Up to kMaxIov iovecs over the first bytes, skipping `skip` bytes (the
    /// part already in flight). Returns how many.
    int gather(iovec* out, std::size_t skip = 0) const noexcept;
    /// Drops `n` sent bytes from the front.
    void consume(std::size_t n) noexcept;
    /// Drops everything (the blocks go back to the pool).
    void clear() noexcept;

private:
    struct Block {
        char* data;        // kBlockSize bytes from the buffer pool
        std::size_t head;  // first unsent byte
        std::size_t tail;  // end of the bytes
    };

    // The blocks from first_ on hold bytes; the ones before were sent (a
    // vector, not a deque: an idle connection's empty queue owns no memory).
    std::vector<Block> blocks_;
    std::size_t first_ = 0;
    std::size_t size_ = 0;
};

}  // namespace corio::net::detail
