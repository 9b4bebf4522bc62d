// corio/detail/frame_allocator.hpp - the per-thread recycling allocator behind
// every coroutine frame and task record.
//
// Blocks are grouped in 16-byte size classes up to kMaxPooled bytes. A freed
// block goes onto its class's free list in the freeing thread's cache and is
// handed out again by the next allocation of that class on that thread, so a
// steady stream of tasks costs a few loads and stores instead of malloc/free.
// Larger blocks, and blocks freed once a thread's cache holds kMaxCachedBytes,
// go straight back to malloc. A block may be freed on another thread than the
// one that allocated it: every block comes from malloc, so any thread may keep
// or free it. A thread's cached blocks are freed when the thread exits.
//
// Invariant: a thread pushes onto its lists only after registering the exit
// hook (`registered`), and never after the hook ran (`dead`).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__SANITIZE_ADDRESS__)
#define CORIO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CORIO_ASAN 1
#endif
#endif
#if defined(CORIO_ASAN)
#include <sanitizer/asan_interface.h>
#endif

namespace corio::detail {

struct FrameCache {
    static constexpr std::size_t kGranule = 16;
    static constexpr std::size_t kMaxPooled = 1024;
    static constexpr std::size_t kClasses = kMaxPooled / kGranule + 1;
    static constexpr std::size_t kMaxCachedBytes = std::size_t{64} << 20;

    struct Block {
        Block* next;
    };
    Block* heads[kClasses];
    std::size_t cached_bytes;
    bool registered;
    bool dead;
};

// Constant-initialised and trivially destructible, so access needs no TLS guard.
inline thread_local FrameCache tls_frame_cache{};

void* frame_allocate_slow(std::size_t size);
void frame_deallocate_slow(void* p, std::size_t size) noexcept;

inline void* frame_allocate(std::size_t size) {
    std::size_t cls = (size + FrameCache::kGranule - 1) / FrameCache::kGranule;
    FrameCache& c = tls_frame_cache;
    if (cls < FrameCache::kClasses) {
        if (FrameCache::Block* b = c.heads[cls]) {
#if defined(CORIO_ASAN)
            __asan_unpoison_memory_region(b, cls * FrameCache::kGranule);
#endif
            c.heads[cls] = b->next;
            c.cached_bytes -= cls * FrameCache::kGranule;
            return b;
        }
    }
    return frame_allocate_slow(size);
}

inline void frame_deallocate(void* p, std::size_t size) noexcept {
    std::size_t cls = (size + FrameCache::kGranule - 1) / FrameCache::kGranule;
    FrameCache& c = tls_frame_cache;
    std::size_t bytes = cls * FrameCache::kGranule;
    if (cls < FrameCache::kClasses && c.registered && !c.dead &&
        c.cached_bytes + bytes <= FrameCache::kMaxCachedBytes) {
        auto* b = static_cast<FrameCache::Block*>(p);
        b->next = c.heads[cls];
        c.heads[cls] = b;
        c.cached_bytes += bytes;
#if defined(CORIO_ASAN)
        __asan_poison_memory_region(b, bytes);
#endif
        return;
    }
    frame_deallocate_slow(p, size);
}

/// Base for objects allocated from the frame cache (task records, handles).
struct FrameAllocated {
    static void* operator new(std::size_t size) { return frame_allocate(size); }
    static void operator delete(void* p, std::size_t size) noexcept { frame_deallocate(p, size); }
};

}  // namespace corio::detail
