// corio/detail/frame_allocator.hpp - the per-thread recycling allocator behind
// every coroutine frame and task record.
//
// Blocks are grouped in 16-byte size classes up to kMaxPooled bytes. A freed
// block goes onto its class's free list in the freeing thread's cache and is
// handed out again by the next allocation of that class on that thread, so a
// steady stream of tasks costs a few loads and stores instead of malloc/free.
// New blocks are carved from slabs, without malloc's per-block header (W1's
// bytes-per-parked-task budget counts every byte): 64 KiB slabs at first, and
// 2 MiB slabs advised for transparent huge pages once a thread has carved
// 4 MiB, so a program with a million parked tasks takes one page fault per
// 2 MiB instead of one per 4 KiB. A thread whose list of a class is full
// (kMaxCachedPerClass) collects further frees into batches of 256 and hands
// each whole batch to a global depot; a thread whose list runs dry takes a
// batch back before carving, and a thread that exits gives the depot
// everything. Both hand-overs are O(1): no chain is walked. Slabs are never
// returned to the system: they stay reachable from a global registry. Larger
// blocks go straight to malloc.
//
// Under AddressSanitizer each block is its own malloc (with redzones) and a
// cached block is poisoned, so overflows and uses after free are still caught.
//
// Poisoning is decided once, by how the library was built: CORIO_FRAME_POISONING
// is a public compile definition of corio::core built with CORIO_SANITIZE
// containing "address", so the library and every program built against it
// poison and unpoison alike. A program that instruments itself against a
// plain corio (or the other way round) then neither poisons nor unpoisons:
// deciding per translation unit made a block that a plain library freed and
// an instrumented program reused (or vice versa) stay poisoned, a false
// "use-after-poison".
//
// Invariant: a thread pushes onto its lists only after registering its exit
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
#if defined(CORIO_FRAME_POISONING)
#include <sanitizer/asan_interface.h>
#endif

namespace corio::detail {

struct FrameCache {
    static constexpr std::size_t kGranule = 16;
    static constexpr std::size_t kMaxPooled = 1024;
    static constexpr std::size_t kClasses = kMaxPooled / kGranule + 1;
    static constexpr std::uint32_t kMaxCachedPerClass = 8192;

    struct Block {
        Block* next;
    };
    Block* heads[kClasses];
    std::uint32_t counts[kClasses];
    bool registered;
    bool dead;
};

// Constant-initialised and trivially destructible, so access needs no TLS guard.
inline thread_local FrameCache tls_frame_cache{};

void* frame_allocate_slow(std::size_t size);
void frame_deallocate_slow(void* p, std::size_t size) noexcept;

inline std::size_t frame_class(std::size_t size) noexcept {
    return (size + FrameCache::kGranule - 1) / FrameCache::kGranule;
}

inline void* frame_allocate(std::size_t size) {
    std::size_t cls = frame_class(size);
    FrameCache& c = tls_frame_cache;
    if (cls < FrameCache::kClasses) {
        if (FrameCache::Block* b = c.heads[cls]) {
#if defined(CORIO_FRAME_POISONING)
            __asan_unpoison_memory_region(b, cls * FrameCache::kGranule);
#endif
            c.heads[cls] = b->next;
            --c.counts[cls];
            return b;
        }
    }
    return frame_allocate_slow(size);
}

inline void frame_deallocate(void* p, std::size_t size) noexcept {
    std::size_t cls = frame_class(size);
    FrameCache& c = tls_frame_cache;
    if (cls < FrameCache::kClasses && c.registered && !c.dead &&
        c.counts[cls] < FrameCache::kMaxCachedPerClass) {
        auto* b = static_cast<FrameCache::Block*>(p);
        b->next = c.heads[cls];
        c.heads[cls] = b;
        ++c.counts[cls];
#if defined(CORIO_FRAME_POISONING)
        __asan_poison_memory_region(b, cls * FrameCache::kGranule);
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
