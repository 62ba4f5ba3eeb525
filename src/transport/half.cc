#include "transport/half.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define SEAM_HAVE_X86 1
#endif

namespace seam::transport::half {

void FloatToHalfPortable(const float* in, uint16_t* out, size_t count) {
  for (size_t i = 0; i < count; ++i) out[i] = FromFloat(in[i]);
}

void HalfToFloatPortable(const uint16_t* in, float* out, size_t count) {
  for (size_t i = 0; i < count; ++i) out[i] = ToFloat(in[i]);
}

#if defined(SEAM_HAVE_X86)

bool HasF16c() {
  // F16C's 256-bit forms are VEX-encoded: the OS must save AVX state, which "avx" checks. F16C
  // itself is read from CPUID leaf 1 (ECX bit 29) because clang before 16 does not know
  // __builtin_cpu_supports("f16c"), and the fuzz build uses clang.
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __builtin_cpu_supports("avx") && __get_cpuid(1, &eax, &ebx, &ecx, &edx) &&
           (ecx & (1u << 29)) != 0;
  }();
  return has;
}

// Compiled for AVX+F16C whatever the target flags; only called after HasF16c(). Unaligned loads
// and stores: tensors come from std::vector and protobuf strings with no alignment promise.
__attribute__((target("avx,f16c"))) void FloatToHalfF16c(const float* in, uint16_t* out,
                                                         size_t count) {
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m128i lo = _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT);
    const __m128i hi = _mm256_cvtps_ph(_mm256_loadu_ps(in + i + 8), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), lo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 8), hi);
  }
  for (; i < count; ++i) out[i] = FromFloat(in[i]);  // same bits as the instruction
}

__attribute__((target("avx,f16c"))) void HalfToFloatF16c(const uint16_t* in, float* out,
                                                         size_t count) {
  size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 8));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(lo));
    _mm256_storeu_ps(out + i + 8, _mm256_cvtph_ps(hi));
  }
  for (; i < count; ++i) out[i] = ToFloat(in[i]);
}

#else

bool HasF16c() { return false; }
void FloatToHalfF16c(const float* in, uint16_t* out, size_t count) {
  FloatToHalfPortable(in, out, count);
}
void HalfToFloatF16c(const uint16_t* in, float* out, size_t count) {
  HalfToFloatPortable(in, out, count);
}

#endif

void FloatToHalf(const float* in, uint16_t* out, size_t count) {
  if (HasF16c()) {
    FloatToHalfF16c(in, out, count);
  } else {
    FloatToHalfPortable(in, out, count);
  }
}

void HalfToFloat(const uint16_t* in, float* out, size_t count) {
  if (HasF16c()) {
    HalfToFloatF16c(in, out, count);
  } else {
    HalfToFloatPortable(in, out, count);
  }
}

}  // namespace seam::transport::half
