// src/core/frame_allocator.cpp - the slow paths of the frame cache: slabs,
// the global depot, and the thread-exit hook.
#include "corio/detail/frame_allocator.hpp"

#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace corio::detail {

namespace {

using Block = FrameCache::Block;

#if !defined(CORIO_ASAN)
constexpr std::size_t kSlabBytes = std::size_t{64} << 10;
constexpr std::uint32_t kBatch = 256;  // blocks moved between a thread and the depot at once

// Blocks that threads gave back, per class, plus every slab ever carved.
struct Depot {
    std::mutex mu;
    Block* heads[FrameCache::kClasses] = {};
    std::uint32_t counts[FrameCache::kClasses] = {};
    std::vector<void*> slabs;  // never freed: keeps every block reachable
};

Depot& depot() {
    static Depot* d = new Depot;  // never destroyed: threads may exit after main
    return *d;
}

// The thread's current slab (bump allocation).
struct Bump {
    char* next = nullptr;
    char* end = nullptr;
};
thread_local Bump tls_bump;

void give_to_depot(std::size_t cls, Block* first, std::uint32_t n) {
    if (n == 0) {
        return;
    }
    Block* last = first;
    while (last->next != nullptr) {
        last = last->next;
    }
    Depot& d = depot();
    std::lock_guard lock(d.mu);
    last->next = d.heads[cls];
    d.heads[cls] = first;
    d.counts[cls] += n;
}

// Moves up to kBatch blocks of `cls` from the depot into this thread's list.
bool take_from_depot(FrameCache& c, std::size_t cls) {
    Depot& d = depot();
    std::lock_guard lock(d.mu);
    Block* b = d.heads[cls];
    if (b == nullptr) {
        return false;
    }
    std::uint32_t n = 1;
    Block* last = b;
    while (n < kBatch && last->next != nullptr) {
        last = last->next;
        ++n;
    }
    d.heads[cls] = last->next;
    d.counts[cls] -= n;
    last->next = c.heads[cls];
    c.heads[cls] = b;
    c.counts[cls] += n;
    return true;
}

void* carve(std::size_t bytes) {
    Bump& bump = tls_bump;
    if (static_cast<std::size_t>(bump.end - bump.next) < bytes) {
        void* slab = std::malloc(kSlabBytes);
        if (slab == nullptr) {
            return nullptr;
        }
        {
            Depot& d = depot();
            std::lock_guard lock(d.mu);
            d.slabs.push_back(slab);
        }
        bump.next = static_cast<char*>(slab);
        bump.end = bump.next + kSlabBytes;
    }
    void* p = bump.next;
    bump.next += bytes;
    return p;
}
#else
void* carve(std::size_t bytes) {
    return std::malloc(bytes);  // one malloc per block: ASan keeps its redzones
}
#endif

struct ExitHook {
    ~ExitHook() {
        FrameCache& c = tls_frame_cache;
        c.dead = true;
        for (std::size_t cls = 0; cls < FrameCache::kClasses; ++cls) {
#if defined(CORIO_ASAN)
            while (Block* b = c.heads[cls]) {
                __asan_unpoison_memory_region(b, cls * FrameCache::kGranule);
                c.heads[cls] = b->next;
                std::free(b);
            }
#else
            give_to_depot(cls, c.heads[cls], c.counts[cls]);
            c.heads[cls] = nullptr;
#endif
            c.counts[cls] = 0;
        }
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
    std::size_t cls = frame_class(size);
    void* p;
    if (cls >= FrameCache::kClasses) {
        p = std::malloc(size);
    } else {
#if !defined(CORIO_ASAN)
        if (!c.dead && take_from_depot(c, cls)) {
            return frame_allocate(size);
        }
#endif
        p = carve(cls * FrameCache::kGranule);
    }
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    return p;
}

void frame_deallocate_slow(void* p, std::size_t size) noexcept {
    std::size_t cls = frame_class(size);
    if (cls >= FrameCache::kClasses) {
        std::free(p);
        return;
    }
#if defined(CORIO_ASAN)
    std::free(p);
#else
    FrameCache& c = tls_frame_cache;
    auto* b = static_cast<Block*>(p);
    if (!c.registered || c.dead) {
        b->next = nullptr;
        give_to_depot(cls, b, 1);
        return;
    }
    // The thread's list is full: keep this block, hand the oldest half over.
    b->next = c.heads[cls];
    c.heads[cls] = b;
    ++c.counts[cls];
    std::uint32_t keep = c.counts[cls] / 2;
    Block* cut = c.heads[cls];
    for (std::uint32_t i = 1; i < keep; ++i) {
        cut = cut->next;
    }
    Block* rest = cut->next;
    cut->next = nullptr;
    std::uint32_t moved = c.counts[cls] - keep;
    c.counts[cls] = keep;
    give_to_depot(cls, rest, moved);
#endif
}

}  // namespace corio::detail
