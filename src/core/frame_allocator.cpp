// src/core/frame_allocator.cpp - slow paths of the frame cache, and the
// thread-exit hook that frees a thread's cached blocks.
#include "corio/detail/frame_allocator.hpp"

#include <cstdlib>
#include <new>

namespace corio::detail {

namespace {

struct ExitHook {
    ~ExitHook() {
        FrameCache& c = tls_frame_cache;
        c.dead = true;
        for (std::size_t cls = 0; cls < FrameCache::kClasses; ++cls) {
            while (FrameCache::Block* b = c.heads[cls]) {
#if defined(CORIO_ASAN)
                __asan_unpoison_memory_region(b, cls * FrameCache::kGranule);
#endif
                c.heads[cls] = b->next;
                std::free(b);
            }
        }
        c.cached_bytes = 0;
    }
};

void register_exit_hook() {
    static thread_local ExitHook hook;
    (void)hook;
    tls_frame_cache.registered = true;
}

}  // namespace

void* frame_allocate_slow(std::size_t size) {
    FrameCache& c = tls_frame_cache;
    if (!c.registered && !c.dead) {
        register_exit_hook();
    }
    std::size_t cls = (size + FrameCache::kGranule - 1) / FrameCache::kGranule;
    // Pooled classes get their full class size, so a block can serve any
    // request of its class later.
    std::size_t bytes = cls < FrameCache::kClasses ? cls * FrameCache::kGranule : size;
    void* p = std::malloc(bytes == 0 ? 1 : bytes);
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    return p;
}

void frame_deallocate_slow(void* p, std::size_t) noexcept {
    std::free(p);
}

}  // namespace corio::detail
