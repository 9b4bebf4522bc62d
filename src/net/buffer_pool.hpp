// src/net/buffer_pool.hpp - per-thread byte buffers by size class (private).
//
// The write queues' blocks (16 KiB) and the streams' read buffers (64 KiB,
// grown by doubling) come from here and go back here, so a busy connection
// allocates nothing in steady state and an idle one holds nothing. Never
// handing big buffers back to malloc matters: glibc trims its heap when a
// big block at the top is freed (or unmaps one of 128 KiB and more) and the
// next buffer then page-faults fresh zeroed pages, which dominated 64 KiB
// echo before this pool.
#pragma once

#include <cstddef>

namespace corio::net::detail {

/// A buffer of `size` bytes: a pooled one when `size` is a power of two from
/// 16 KiB to 1 MiB and this thread has one, else a new one. Throws
/// std::bad_alloc.
char* take_buffer(std::size_t size);
/// Gives back a buffer from take_buffer(size): kept for this thread (at most
/// 4 MiB per size class), else freed.
void give_buffer(char* p, std::size_t size) noexcept;

}  // namespace corio::net::detail
