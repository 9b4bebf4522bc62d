// src/net/write_queue.cpp - WriteQueue.
#include "write_queue.hpp"

#include <algorithm>

#include "buffer_pool.hpp"

namespace corio::net::detail {

void WriteQueue::append(std::string_view data) {
    while (!data.empty()) {
        if (blocks_.size() == first_ || blocks_.back().tail == kBlockSize) {
            blocks_.push_back(Block{take_buffer(kBlockSize), 0, 0});
        }
        Block& b = blocks_.back();
        std::size_t n = std::min(data.size(), kBlockSize - b.tail);
        std::memcpy(b.data + b.tail, data.data(), n);
        b.tail += n;
        size_ += n;
        data.remove_prefix(n);
    }
}

int WriteQueue::gather(iovec* out, std::size_t skip) const noexcept {
    int n = 0;
    for (std::size_t i = first_; i < blocks_.size(); ++i) {
        const Block& b = blocks_[i];
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
        Block& b = blocks_[first_];
        std::size_t len = b.tail - b.head;
        if (n < len) {
            b.head += n;
            return;
        }
        n -= len;
        give_buffer(b.data, kBlockSize);
        if (++first_ == blocks_.size()) {
            blocks_.clear();
            first_ = 0;
        }
    }
}

void WriteQueue::clear() noexcept {
    for (std::size_t i = first_; i < blocks_.size(); ++i) {
        give_buffer(blocks_[i].data, kBlockSize);
    }
    blocks_.clear();
    first_ = 0;
    size_ = 0;
}

}  // namespace corio::net::detail
