// tests/support/guard_page.hpp - places codec input so that its last byte
// is the last readable byte before an inaccessible page (picohttpparser's
// test trick): a codec that reads one byte past its input crashes at once,
// in every build, not only under AddressSanitizer.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string_view>

namespace corio_test {

class GuardPage {
public:
    /// Room for inputs of up to `capacity` bytes.
    explicit GuardPage(std::size_t capacity = 1 << 16) {
        page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        size_ = (capacity + page_ - 1) / page_ * page_ + page_;
        void* p = ::mmap(nullptr, size_ + page_, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            throw std::runtime_error("GuardPage: mmap failed");
        }
        base_ = static_cast<char*>(p);
        if (::mprotect(base_ + size_, page_, PROT_NONE) != 0) {
            ::munmap(base_, size_ + page_);
            throw std::runtime_error("GuardPage: mprotect failed");
        }
    }
    GuardPage(const GuardPage&) = delete;
    GuardPage& operator=(const GuardPage&) = delete;
    ~GuardPage() { ::munmap(base_, size_ + page_); }

    /// Copies `data` to end right at the guard page and returns the copy.
    /// The previous placement is overwritten with 0xA5 first, so a view
    /// into it that a codec kept reads garbage, not the old bytes.
    std::string_view place(std::string_view data) {
        if (data.size() > size_) {
            throw std::length_error("GuardPage: input larger than the capacity");
        }
        std::memset(base_ + size_ - last_, 0xA5, last_);
        char* at = base_ + size_ - data.size();
        std::memcpy(at, data.data(), data.size());
        last_ = data.size();
        return std::string_view(at, data.size());
    }

private:
    char* base_ = nullptr;
    std::size_t page_ = 0;
    std::size_t size_ = 0;  // readable bytes; the guard page follows
    std::size_t last_ = 0;  // size of the current placement
};

}  // namespace corio_test

namespace corio::testing {
using corio_test::GuardPage;
}  // namespace corio::testing
