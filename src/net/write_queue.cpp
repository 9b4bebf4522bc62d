// src/net/write_queue.cpp - WriteQueue and its per-thread block pool.
#include "write_queue.hpp"

#include <algorithm>
#include <vector>

namespace corio::net::detail {

namespace {

// Standard blocks freed on this thread, for the next append. Bounded, so a
// burst of big buffers does not stay cached forever.
constexpr std::size_t kPoolMax = 256;  // 4 MiB of 16 KiB blocks

struct Pool {
    std::vector<char*> free;
    ~Pool() {
        for (char* p : free) {
            delete[] p;
        }
    }
};

Pool& pool() {
    thread_local Pool p;
    return p;
}

}  // namespace

WriteQueue::Block WriteQueue::take_block(std::size_t) {
    Pool& p = pool();
    if (!p.free.empty()) {
        char* data = p.free.back();
        p.free.pop_back();
        return Block{data, kBlockSize, 0, 0};
    }
    return Block{new char[kBlockSize], kBlockSize, 0, 0};
}

void WriteQueue::give_block(Block& b) noexcept {
    Pool& p = pool();
    if (p.free.size() < kPoolMax) {
        try {
            p.free.push_back(b.data);
            b.data = nullptr;
            return;
        } catch (...) {
        }
    }
    delete[] b.data;
    b.data = nullptr;
}

void WriteQueue::append(std::string_view data) {
    while (!data.empty()) {
        if (blocks_.empty() || blocks_.back().tail == blocks_.back().cap) {
            blocks_.push_back(take_block(kBlockSize));
        }
        Block& b = blocks_.back();
        std::size_t n = std::min(data.size(), b.cap - b.tail);
        std::memcpy(b.data + b.tail, data.data(), n);
        b.tail += n;
        size_ += n;
        data.remove_prefix(n);
    }
}

int WriteQueue::gather(iovec* out, std::size_t skip) const noexcept {
    int n = 0;
    for (const Block& b : blocks_) {
        std::size_t len = b.tail - b.head;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        out[n].iov_base = b.data + b.head + skip;
        out[n].iov_len = len - skip;
        skip = 0;
        if (++n == kMaxIov) {
            break;
        }
    }
    return n;
}

void WriteQueue::consume(std::size_t n) noexcept {
    size_ -= n;
    while (n > 0) {
        Block& b = blocks_.front();
        std::size_t len = b.tail - b.head;
        if (n < len) {
            b.head += n;
            return;
        }
        n -= len;
        give_block(b);
        blocks_.pop_front();
    }
    if (!blocks_.empty() && blocks_.front().head == blocks_.front().tail) {
        give_block(blocks_.front());
        blocks_.pop_front();
    }
}

void WriteQueue::clear() noexcept {
    for (Block& b : blocks_) {
        give_block(b);
    }
    blocks_.clear();
    size_ = 0;
}

}  // namespace corio::net::detail
