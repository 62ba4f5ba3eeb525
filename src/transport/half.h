// FP32 <-> IEEE 754 binary16 conversion of arrays: the fp16 codec's hot loops.
//
// Rounding is to nearest, ties to even. Subnormal halves are produced and read exactly; FP32
// values from 65520 up (the midpoint above the largest half, 65504) become infinity; NaNs stay
// NaN with the quiet bit set and the top payload bits kept, as x86 F16C does. The portable and the
// F16C paths give identical bits for every input (half_test checks all 2^16 halves and a large
// FP32 set). Neither changes under the flush-to-zero or denormals-are-zero modes that some
// inference runtimes set: the portable path's FP32 additions have normal operands and results,
// and the only inputs DAZ touches (FP32 subnormals) become +-0 in half precision regardless.
//
// Counts are elements; the arrays must not overlap. Thread-safe (no state besides a CPU check
// that is computed once).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace seam::transport::half {

inline uint32_t FloatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}
inline float BitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// Lane masks: all ones when `cond` holds. Selecting with masks instead of `?:` keeps GCC from
// turning the selects into branches, which would stop it vectorizing the array loops.
inline uint32_t Mask(bool cond) { return 0u - static_cast<uint32_t>(cond); }
inline uint32_t Select(uint32_t mask, uint32_t if_set, uint32_t if_clear) {
  return (if_set & mask) | (if_clear & ~mask);
}

// One value. Comparisons are on int32 (the sign is masked off first) because SSE2, the x86-64
// baseline, only compares signed lanes.
inline uint16_t FromFloat(float value) {
  const uint32_t w = FloatBits(value);
  const uint32_t sign = (w >> 16) & 0x8000u;
  const uint32_t a = w & 0x7FFFFFFFu;
  const int32_t sa = static_cast<int32_t>(a);
  // Normal half (|value| >= 2^-14): rebias the exponent and round the 13 dropped mantissa bits to
  // nearest even; a carry out of the mantissa bumps the exponent, up to infinity (0x7C00) from
  // 65520 on, which is the IEEE result.
  const uint32_t normal = (a - 0x37FFF001u + ((a >> 13) & 1u)) >> 13;
  // Subnormal half or zero: adding 0.5f puts the value's units of 2^-24 in the low mantissa bits,
  // rounded to nearest even by the FP32 adder itself.
  const uint32_t subnormal = FloatBits(BitsFloat(a) + 0.5f) - 0x3F000000u;
  const uint32_t nan = 0x7E00u | ((a >> 13) & 0x3FFu);
  uint32_t h = Select(Mask(sa < 0x38800000), subnormal, normal);
  h = Select(Mask(sa >= 0x477FF000), 0x7C00u, h);  // overflow and infinity
  h = Select(Mask(sa > 0x7F800000), nan, h);
  return static_cast<uint16_t>(h | sign);
}

inline float ToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t a = h & 0x7FFFu;
  const uint32_t exp = a & 0x7C00u;
  // Normal: rebias the exponent (15 -> 127) and widen the mantissa.
  const uint32_t normal = (a << 13) + 0x38000000u;
  // Subnormal or zero: m * 2^-24 computed as (2^-1 + m * 2^-24) - 2^-1, exact in FP32.
  const uint32_t subnormal = FloatBits(BitsFloat(0x3F000000u | a) - 0.5f);
  // Infinity or NaN: all exponent bits set; NaNs come out quiet (bit 22), as F16C makes them.
  const uint32_t special = 0x7F800000u | (a & 0x3FFu) << 13 | (Mask(a > 0x7C00u) & 0x00400000u);
  uint32_t f = Select(Mask(exp == 0), subnormal, normal);
  f = Select(Mask(exp == 0x7C00u), special, f);
  return BitsFloat(f | sign);
}

// The dispatching entry points: F16C when this CPU has it, else the portable loops.
void FloatToHalf(const float* in, uint16_t* out, size_t count);
void HalfToFloat(const uint16_t* in, float* out, size_t count);

// The two paths, exposed so that tests can compare them. The F16C ones may only be called when
// HasF16c() is true.
void FloatToHalfPortable(const float* in, uint16_t* out, size_t count);
void HalfToFloatPortable(const uint16_t* in, float* out, size_t count);
bool HasF16c();
void FloatToHalfF16c(const float* in, uint16_t* out, size_t count);
void HalfToFloatF16c(const uint16_t* in, float* out, size_t count);

}  // namespace seam::transport::half
