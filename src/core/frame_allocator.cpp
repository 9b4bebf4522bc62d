// src/core/frame_allocator.cpp - the slow paths of the frame cache: slabs,
// the global depot, and the thread-exit hook.
#include "corio/detail/frame_allocator.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

namespace corio::detail {

namespace {

using Block = FrameCache::Block;

#if !defined(CORIO_ASAN)
constexpr std::size_t kSmallSlabBytes = std::size_t{64} << 10;
constexpr std::size_t kHugeSlabBytes = std::size_t{2} << 20;
// A thread that has carved this much switches to 2 MiB slabs backed by
// transparent huge pages: one page fault per 2 MiB instead of 512.
constexpr std::size_t kHugeAfterBytes = std::size_t{4} << 20;
constexpr std::uint32_t kBatch = 256;  // blocks per batch a thread spills to the depot

// A chain of blocks of one class, moved between a thread and the depot whole.
struct Batch {
    Block* head;
    Block* tail;
    std::uint32_t n;
};

// Blocks that threads gave back, as batches per class, plus every slab ever
// carved. Giving and taking a batch are O(1): nothing walks a chain under the
// lock.
struct Depot {
    std::mutex mu;
    std::vector<Batch> batches[FrameCache::kClasses];
    std::vector<void*> slabs;  // never freed: keeps every block reachable
};

Depot& depot() {
    static Depot* d = new Depot;  // never destroyed: threads may exit after main
    return *d;
}

// Per thread: the current slab (bump allocation), how much it has carved, and
// per class the blocks freed while its list was full, collected into the
// next batch for the depot.
struct Spill {
    Block* head;
    Block* tail;
    std::uint32_t n;
};
struct ThreadSlow {
    char* next;
    char* end;
    std::size_t carved;
    Spill spill[FrameCache::kClasses];
};
thread_local ThreadSlow tls_slow{};

void give_to_depot(std::size_t cls, Batch batch) {
    if (batch.n == 0) {
        return;
    }
    Depot& d = depot();
    std::lock_guard lock(d.mu);
    std::vector<Batch>& v = d.batches[cls];
    if (!v.empty() && v.back().n + batch.n <= kBatch) {
        batch.tail->next = v.back().head;  // merge small gifts (frees after thread exit)
        v.back().head = batch.head;
        v.back().n += batch.n;
        return;
    }
    v.push_back(batch);
}

// Gives the thread's whole list of `cls` to the depot (thread exit only).
void give_list_to_depot(FrameCache& c, std::size_t cls) {
    Block* head = c.heads[cls];
    if (head == nullptr) {
        return;
    }
    Block* tail = head;
    while (tail->next != nullptr) {
        tail = tail->next;
    }
    give_to_depot(cls, Batch{head, tail, c.counts[cls]});
    c.heads[cls] = nullptr;
    c.counts[cls] = 0;
}

// Refills the thread's (empty) list of `cls` from its own spill or the depot.
bool refill(FrameCache& c, std::size_t cls) {
    Spill& s = tls_slow.spill[cls];
    if (s.n != 0) {
        c.heads[cls] = s.head;
        c.counts[cls] = s.n;
        s = Spill{};
        return true;
    }
    Depot& d = depot();
    std::lock_guard lock(d.mu);
    std::vector<Batch>& v = d.batches[cls];
    if (v.empty()) {
        return false;
    }
    Batch b = v.back();
    v.pop_back();
    b.tail->next = nullptr;
    c.heads[cls] = b.head;
    c.counts[cls] = b.n;
    return true;
}

void* new_slab(std::size_t bytes) {
    void* slab = nullptr;
    if (bytes == kHugeSlabBytes) {
        // Over-map, then trim to a 2 MiB-aligned 2 MiB, so the kernel can back
        // it with one huge page.
        std::size_t span = 2 * kHugeSlabBytes;
        void* raw =
            ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (raw == MAP_FAILED) {
            return nullptr;
        }
        auto base = reinterpret_cast<std::uintptr_t>(raw);
        std::uintptr_t aligned = (base + kHugeSlabBytes - 1) & ~(kHugeSlabBytes - 1);
        if (aligned > base) {
            ::munmap(raw, aligned - base);
        }
        std::uintptr_t after = aligned + kHugeSlabBytes;
        if (base + span > after) {
            ::munmap(reinterpret_cast<void*>(after), base + span - after);
        }
        slab = reinterpret_cast<void*>(aligned);
        ::madvise(slab, kHugeSlabBytes, MADV_HUGEPAGE);  // advice only: failure is harmless
    } else {
        slab = std::malloc(bytes);
        if (slab == nullptr) {
            return nullptr;
        }
    }
    Depot& d = depot();
    std::lock_guard lock(d.mu);
    d.slabs.push_back(slab);
    return slab;
}

void* carve(std::size_t bytes) {
    ThreadSlow& t = tls_slow;
    if (static_cast<std::size_t>(t.end - t.next) < bytes) {
        std::size_t slab_bytes = t.carved >= kHugeAfterBytes ? kHugeSlabBytes : kSmallSlabBytes;
        void* slab = new_slab(slab_bytes);
        if (slab == nullptr) {
            return nullptr;
        }
        t.next = static_cast<char*>(slab);
        t.end = t.next + slab_bytes;
        t.carved += slab_bytes;
    }
    void* p = t.next;
    t.next += bytes;
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
#if defined(CORIO_FRAME_POISONING)
                __asan_unpoison_memory_region(b, cls * FrameCache::kGranule);
#endif
                c.heads[cls] = b->next;
                std::free(b);
            }
            c.counts[cls] = 0;
#else
            give_list_to_depot(c, cls);
            Spill& s = tls_slow.spill[cls];
            give_to_depot(cls, Batch{s.head, s.tail, s.n});
            s = Spill{};
#endif
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
        if (!c.dead && refill(c, cls)) {
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
    b->next = nullptr;
    if (!c.registered || c.dead) {
        give_to_depot(cls, Batch{b, b, 1});
        return;
    }
    // The thread's list is full: collect the block into the next batch for
    // the depot, and hand that over once it holds kBatch blocks.
    Spill& s = tls_slow.spill[cls];
    b->next = s.head;
    s.head = b;
    if (s.n++ == 0) {
        s.tail = b;
    }
    if (s.n == kBatch) {
        give_to_depot(cls, Batch{s.head, s.tail, s.n});
        s = Spill{};
    }
#endif
}

}  // namespace corio::detail
