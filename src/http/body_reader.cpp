// http/body_reader.cpp - BodyReader (body_reader.hpp).
#include "corio/http/body_reader.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include "corio/errors.hpp"

namespace corio::http::web {

void BodyReader::feed_data(std::string_view data) {
    if (data.empty() || eof_ || error_) {
        return;
    }
    total_ += data.size();
    if (discarding_) {
        return;
    }
    if (pos_ > 0 && pos_ >= buf_.size() / 2) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    buf_.append(data);
    peak_ = std::max(peak_, buffered());
    data_.set();
}

void BodyReader::feed_eof() noexcept {
    eof_ = true;
    source_ = nullptr;  // nothing more to ask of the connection
    data_.set();
}

void BodyReader::set_exception(std::exception_ptr error) noexcept {
    if (eof_ || error_) {
        return;
    }
    error_ = std::move(error);
    source_ = nullptr;
    data_.set();
}

void BodyReader::discard() noexcept {
    discarding_ = true;
    buf_.clear();
    buf_.shrink_to_fit();
    pos_ = 0;
}

Task<void> BodyReader::wait_data() {
    while (buffered() == 0 && !eof_ && !error_) {
        if (source_ != nullptr) {
            source_->body_wanted();
        }
        data_.clear();
        co_await data_.wait();
    }
    if (buffered() == 0 && error_) {
        std::rethrow_exception(error_);
    }
}

std::string BodyReader::take(std::size_t n) {
    n = std::min(n, buffered());
    std::string out;
    if (pos_ == 0 && n == buf_.size()) {
        out.swap(buf_);
    } else {
        out.assign(buf_, pos_, n);
        pos_ += n;
    }
    if (pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    }
    consumed();
    return out;
}

void BodyReader::consumed() {
    if (source_ != nullptr) {
        source_->body_consumed();
    }
}

Task<std::string> BodyReader::read(std::ptrdiff_t n) {
    if (n == 0) {
        co_return std::string();
    }
    if (n > 0) {
        co_await wait_data();
        co_return take(static_cast<std::size_t>(n));
    }
    std::string out;
    for (;;) {
        co_await wait_data();
        if (buffered() == 0) {
            co_return out;  // the end
        }
        if (out.empty()) {
            out = take(buffered());
        } else {
            out += take(buffered());
        }
    }
}

Task<std::string> BodyReader::readany() {
    co_await wait_data();
    co_return take(buffered());
}

Task<std::string> BodyReader::readexactly(std::size_t n) {
    std::string out;
    while (out.size() < n) {
        co_await wait_data();
        if (buffered() == 0) {
            throw IncompleteReadError(std::move(out), n);
        }
        out += take(n - out.size());
    }
    co_return out;
}

Task<std::string> BodyReader::readline() {
    for (;;) {
        std::string_view unread(buf_.data() + pos_, buffered());
        std::size_t nl = unread.find('\n');
        if (nl != std::string_view::npos) {
            co_return take(nl + 1);
        }
        if (eof_ || (error_ && buffered() > 0)) {
            co_return take(buffered());
        }
        if (buffered() >= limit_) {
            throw LimitOverrunError("BodyReader::readline: no line end within the buffer limit",
                                    buffered());
        }
        // Waits for more than what is buffered now.
        const std::size_t have = buffered();
        while (buffered() == have && !eof_ && !error_) {
            if (source_ != nullptr) {
                source_->body_wanted();
            }
            data_.clear();
            co_await data_.wait();
        }
        if (error_ && buffered() == 0) {
            std::rethrow_exception(error_);
        }
    }
}

AsyncGenerator<std::string> BodyReader::iter_chunked(std::size_t n) {
    if (n == 0) {
        n = 1;
    }
    for (;;) {
        std::string piece;
        while (piece.size() < n) {
            co_await wait_data();
            if (buffered() == 0) {
                break;
            }
            piece += take(n - piece.size());
        }
        if (piece.empty()) {
            co_return;
        }
        co_yield std::move(piece);
    }
}

AsyncGenerator<std::string> BodyReader::iter_any() {
    for (;;) {
        std::string piece = co_await readany();
        if (piece.empty()) {
            co_return;
        }
        co_yield std::move(piece);
    }
}

}  // namespace corio::http::web
