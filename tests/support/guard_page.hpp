// tests/support/guard_page.hpp - places bytes so that they end exactly where
// an inaccessible page begins (picohttpparser's test trick): a parser that
// reads one byte past its input faults at once instead of reading garbage.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string_view>

namespace corio_test {

class GuardPage {
public:
    /// Room for inputs of up to `capacity` bytes.
    explicit GuardPage(std::size_t capacity = 1 << 16) {
        page_ = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
        room_ = (capacity + page_ - 1) / page_ * page_;
        void* p = ::mmap(nullptr, room_ + page_, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            throw std::bad_alloc();
        }
        base_ = static_cast<char*>(p);
        if (::mprotect(base_ + room_, page_, PROT_NONE) != 0) {
            ::munmap(base_, room_ + page_);
            throw std::bad_alloc();
        }
    }
    GuardPage(const GuardPage&) = delete;
    GuardPage& operator=(const GuardPage&) = delete;
    ~GuardPage() { ::munmap(base_, room_ + page_); }

    /// A copy of `bytes` whose last byte is the last readable one; the
    /// previous placement is overwritten.
    std::string_view place(std::string_view bytes) {
        if (bytes.size() > room_) {
            throw std::length_error("GuardPage::place: input larger than the capacity");
        }
        char* at = base_ + room_ - bytes.size();
        if (!bytes.empty()) {
            std::memcpy(at, bytes.data(), bytes.size());
        }
        return {at, bytes.size()};
    }

private:
    char* base_ = nullptr;
    std::size_t page_ = 0;
    std::size_t room_ = 0;
};

}  // namespace corio_test
