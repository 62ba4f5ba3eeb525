// The fp16 conversions: IEEE results on special values, and the portable and F16C paths giving
// identical bits.
#include "transport/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#if defined(__x86_64__)
#include <xmmintrin.h>  // _mm_getcsr, _mm_setcsr
#endif

namespace seam::transport::half {
namespace {

bool IsHalfNan(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0; }

TEST(HalfTest, SpecialValues) {
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(FromFloat(0.0f), 0x0000);
  EXPECT_EQ(FromFloat(-0.0f), 0x8000);
  EXPECT_EQ(FromFloat(1.0f), 0x3C00);
  EXPECT_EQ(FromFloat(-2.0f), 0xC000);
  EXPECT_EQ(FromFloat(inf), 0x7C00);
  EXPECT_EQ(FromFloat(-inf), 0xFC00);
  EXPECT_TRUE(IsHalfNan(FromFloat(std::nanf(""))));
  EXPECT_TRUE(IsHalfNan(FromFloat(-std::nanf(""))));
  EXPECT_TRUE(IsHalfNan(FromFloat(BitsFloat(0x7F800001u))));  // signalling, low payload only
  EXPECT_EQ(FromFloat(65504.0f), 0x7BFF);                     // the largest half
  EXPECT_EQ(FromFloat(65519.996f), 0x7BFF);                   // just under the midpoint
  EXPECT_EQ(FromFloat(65520.0f), 0x7C00);                     // the midpoint rounds to inf
  EXPECT_EQ(FromFloat(-65520.0f), 0xFC00);
  EXPECT_EQ(FromFloat(1e10f), 0x7C00);
  EXPECT_EQ(FromFloat(std::ldexp(1.0f, -14)), 0x0400);  // the smallest normal half
  EXPECT_EQ(FromFloat(std::ldexp(1.0f, -24)), 0x0001);  // the smallest subnormal half
  EXPECT_EQ(FromFloat(std::ldexp(1.0f, -25)), 0x0000);  // a tie, to even (0)
  EXPECT_EQ(FromFloat(std::ldexp(3.0f, -25)), 0x0002);  // a tie, to even (2)
  EXPECT_EQ(FromFloat(std::ldexp(3.0f, -26)), 0x0001);  // 0.75 units rounds up
  EXPECT_EQ(FromFloat(-std::ldexp(5.0f, -24)), 0x8005);
  EXPECT_EQ(FromFloat(1e-8f), 0x0000);
  EXPECT_EQ(FromFloat(-1e-40f), 0x8000);                       // an FP32 subnormal
  EXPECT_EQ(FromFloat(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie to even: down
  EXPECT_EQ(FromFloat(1.0f + std::ldexp(3.0f, -11)), 0x3C02);  // tie to even: up
  EXPECT_EQ(FromFloat(std::ldexp(1023.5f, -24)), 0x0400);      // subnormal rounds to normal
  EXPECT_EQ(ToFloat(0x7C00), inf);
  EXPECT_EQ(ToFloat(0xFC00), -inf);
  EXPECT_TRUE(std::isnan(ToFloat(0x7E00)));
  EXPECT_TRUE(std::signbit(ToFloat(0x8000)));
  EXPECT_EQ(ToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(ToFloat(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(ToFloat(0x7BFF), 65504.0f);
}

TEST(HalfTest, EveryHalfSurvivesARoundTrip) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint16_t half = static_cast<uint16_t>(h);
    const float f = ToFloat(half);
    if (IsHalfNan(half)) {
      ASSERT_TRUE(std::isnan(f)) << h;
      ASSERT_TRUE(IsHalfNan(FromFloat(f))) << h;
    } else {
      ASSERT_EQ(FromFloat(f), half) << h;  // values a half can hold are exact
    }
  }
}

TEST(HalfTest, RelativeErrorWithinHalfAnUlpInTheNormalRange) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> exponent(-14.0f, 15.9f);
  for (int i = 0; i < 200000; ++i) {
    const float x = std::exp2(exponent(rng)) * (i % 2 ? 1.0f : -1.0f);
    const float y = ToFloat(FromFloat(x));
    ASSERT_LE(std::fabs(y - x), std::ldexp(std::fabs(x), -11)) << x;
  }
}

TEST(HalfTest, F16cAndPortableAgreeOnEveryHalf) {
  if (!HasF16c()) GTEST_SKIP() << "this CPU has no F16C";
  std::vector<uint16_t> halves(0x10000);
  for (uint32_t h = 0; h < 0x10000; ++h) halves[h] = static_cast<uint16_t>(h);
  std::vector<float> portable(halves.size());
  std::vector<float> fast(halves.size());
  HalfToFloatPortable(halves.data(), portable.data(), halves.size());
  HalfToFloatF16c(halves.data(), fast.data(), halves.size());
  for (size_t h = 0; h < halves.size(); ++h) {
    ASSERT_EQ(FloatBits(portable[h]), FloatBits(fast[h])) << "half 0x" << std::hex << h;
  }
}

// Every exponent, sign and NaN payload, both sides of every rounding boundary: random bit
// patterns, a strided sweep over all 2^32 patterns, and values near the half grid's ties.
std::vector<float> FloatSample() {
  std::vector<float> values;
  std::mt19937 rng(11);
  for (int i = 0; i < (1 << 20); ++i) values.push_back(BitsFloat(static_cast<uint32_t>(rng())));
  for (uint64_t bits = 0; bits < (uint64_t{1} << 32); bits += 4093) {
    values.push_back(BitsFloat(static_cast<uint32_t>(bits)));
  }
  for (uint32_t h = 0; h < 0x7C00; ++h) {  // each finite half's tie with the next, +-1 ulp
    const uint32_t tie = FloatBits(ToFloat(static_cast<uint16_t>(h))) + (h < 0x400 ? 0 : 0x1000);
    for (uint32_t b : {tie - 1, tie, tie + 1}) {
      values.push_back(BitsFloat(b));
      values.push_back(-BitsFloat(b));
    }
  }
  return values;
}

TEST(HalfTest, F16cAndPortableAgreeOnALargeFloatSet) {
  if (!HasF16c()) GTEST_SKIP() << "this CPU has no F16C";
  const std::vector<float> values = FloatSample();
  std::vector<uint16_t> portable(values.size());
  std::vector<uint16_t> fast(values.size());
  FloatToHalfPortable(values.data(), portable.data(), values.size());
  FloatToHalfF16c(values.data(), fast.data(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    ASSERT_EQ(portable[i], fast[i]) << "float bits 0x" << std::hex << FloatBits(values[i]);
  }
}

#if defined(__x86_64__)
// ONNX Runtime can set flush-to-zero and denormals-are-zero on its threads; the codec may run on
// them. Both paths must give the same bits there as in the default mode.
TEST(HalfTest, FlushToZeroModesChangeNothing) {
  const std::vector<float> values = FloatSample();
  std::vector<uint16_t> expected(values.size());
  FloatToHalfPortable(values.data(), expected.data(), values.size());
  std::vector<uint16_t> halves(0x10000);
  for (uint32_t h = 0; h < 0x10000; ++h) halves[h] = static_cast<uint16_t>(h);
  std::vector<float> expected_floats(halves.size());
  HalfToFloatPortable(halves.data(), expected_floats.data(), halves.size());

  const unsigned int saved = _mm_getcsr();
  _mm_setcsr(saved | 0x8040);  // FTZ (bit 15) and DAZ (bit 6)
  std::vector<uint16_t> portable(values.size());
  std::vector<uint16_t> fast(values.size());
  std::vector<float> floats_portable(halves.size());
  std::vector<float> floats_fast(halves.size());
  FloatToHalfPortable(values.data(), portable.data(), values.size());
  HalfToFloatPortable(halves.data(), floats_portable.data(), halves.size());
  if (HasF16c()) {
    FloatToHalfF16c(values.data(), fast.data(), values.size());
    HalfToFloatF16c(halves.data(), floats_fast.data(), halves.size());
  } else {
    fast = expected;  // nothing to compare on this CPU
    floats_fast = expected_floats;
  }
  _mm_setcsr(saved);

  EXPECT_EQ(portable, expected);
  EXPECT_EQ(fast, expected);
  for (size_t h = 0; h < halves.size(); ++h) {
    ASSERT_EQ(FloatBits(floats_portable[h]), FloatBits(expected_floats[h])) << h;
    ASSERT_EQ(FloatBits(floats_fast[h]), FloatBits(expected_floats[h])) << h;
  }
}
#endif

TEST(HalfTest, ArrayLoopsMatchTheScalarFunctionOnUnalignedTails) {
  std::vector<float> values;
  for (int i = 0; i < 40; ++i) values.push_back(std::ldexp(1.0f + i / 7.0f, i - 26) * (i % 3 - 1));
  for (size_t offset = 0; offset < 3; ++offset) {
    for (size_t n = 0; n + offset <= values.size(); ++n) {
      std::vector<uint16_t> out(n + 1, 0xABCD);
      FloatToHalf(values.data() + offset, out.data(), n);
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(out[i], FromFloat(values[offset + i]));
      EXPECT_EQ(out[n], 0xABCD);  // nothing written past the end
    }
  }
}

}  // namespace
}  // namespace seam::transport::half
