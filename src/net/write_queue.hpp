// src/net/write_queue.hpp - the bytes a transport still has to send
// (private).
//
// A list of blocks, filled at the back and sent from the front with one
// gathered write (iovecs over the blocks). Blocks never move or grow once
// made: under io_uring the kernel reads the bytes of a write in flight
// while the program appends more behind them, so an append must never
// reallocate what is already queued. Blocks (16 KiB) come from a per-thread
// pool and go back to it when sent, so an idle connection holds no write
// memory and a busy one allocates nothing in steady state; a big write spans
// several blocks (one iovec each). Never malloc'ing big buffers matters:
// glibc trims its heap when a big block at the top is freed and grows it
// again for the next, and each regrowth page-faults fresh zeroed pages.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstring>
#include <deque>
#include <memory>
#include <string_view>

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
        char* data;
        std::size_t cap;
        std::size_t head;  // first unsent byte
        std::size_t tail;  // end of the bytes
    };
    static Block take_block(std::size_t min_size);
    static void give_block(Block& b) noexcept;

    std::deque<Block> blocks_;
    std::size_t size_ = 0;
};

}  // namespace corio::net::detail
