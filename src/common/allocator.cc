#include "common/allocator.h"

#include <algorithm>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace seam {

void RetainLargeAllocations(size_t max_buffer_bytes) {
#if defined(__GLIBC__)
  // Fixing the thresholds also turns off glibc's dynamic adjustment of them. glibc refuses an
  // mmap threshold above 32 MiB on 64-bit (HEAP_MAX_SIZE / 2): larger buffers stay mapped fresh.
  constexpr size_t kMaxMmapThreshold = size_t{32} << 20;
  constexpr size_t kMaxTrimThreshold = size_t{1} << 30;
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(std::min(max_buffer_bytes, kMaxMmapThreshold)));
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(std::min(4 * max_buffer_bytes, kMaxTrimThreshold)));
#else
  (void)max_buffer_bytes;
#endif
}

}  // namespace seam
