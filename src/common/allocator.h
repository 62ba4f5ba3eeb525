// Process-wide allocator tuning for the long-running data path (seam serve, seam run).
#pragma once

#include <cstddef>

namespace seam {

// Makes glibc's malloc serve large buffers (tensors, messages: up to `max_buffer_bytes`, at most
// 32 MiB) from its heap and keep freed memory mapped, instead of mapping each buffer fresh and
// unmapping it on free. Every request allocates tensors of the same sizes again; a fresh mapping costs a page
// fault and the kernel's zeroing per 4 KiB page (~0.2 ms per MiB measured here, on every
// request). The process then keeps its peak heap, which the server bounds by its queue and
// message limits. Call once, early, before threads start. No-op where glibc is absent.
void RetainLargeAllocations(size_t max_buffer_bytes = size_t{64} << 20);

}  // namespace seam
