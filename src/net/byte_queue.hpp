// src/net/byte_queue.hpp - a byte FIFO for the TLS engine and layer
// (private): appended at the back, consumed from the front, read as one
// contiguous view. Its memory goes back once it empties after holding more
// than kKeepCapacity, so an idle connection keeps little.
//
// It overlaps with ByteBuffer (stream_conn.hpp), which reserves room for
// reads; the two can become one when the connection engine is rewritten.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace corio::net::detail {

class ByteQueue {
public:
    static constexpr std::size_t kKeepCapacity = 64 * 1024;

    std::size_t size() const noexcept { return data_.size() - head_; }
    bool empty() const noexcept { return head_ == data_.size(); }
    /// Everything queued, in order. Valid until the next append or consume.
    std::string_view view() const noexcept { return std::string_view(data_).substr(head_); }
    void append(std::string_view s) { data_.append(s.data(), s.size()); }
    /// Drops the first `n` bytes (at most size()).
    void consume(std::size_t n) noexcept {
        head_ += n;
        if (head_ >= data_.size()) {
            clear();
        } else if (head_ > kKeepCapacity && head_ > data_.size() / 2) {
            data_.erase(0, head_);  // moves what is left once, not per consume
            head_ = 0;
        }
    }
    void clear() noexcept {
        head_ = 0;
        if (data_.capacity() > kKeepCapacity) {
            std::string().swap(data_);
        } else {
            data_.clear();
        }
    }

private:
    std::string data_;
    std::size_t head_ = 0;
};

}  // namespace corio::net::detail
