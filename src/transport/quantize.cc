#include "transport/quantize.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

#include "transport/half.h"  // FloatBits, BitsFloat, Mask

namespace seam::transport::quant {
namespace {

using half::BitsFloat;
using half::FloatBits;
using half::Mask;

constexpr uint32_t kExpMask = 0x7F800000u;
constexpr uint32_t kPosInf = 0x7F800000u;
constexpr uint32_t kNegInf = 0xFF800000u;
// 1.5 * 2^23: adding it to a float in [-2^22, 2^22] rounds that float to an integer (to nearest
// even, by the adder) and leaves the integer in the low mantissa bits; its low byte is then q.
constexpr float kMagic = 12582912.0f;
// Below this many contiguous elements per channel, the per-channel loops run along whole rows
// with per-element parameters instead, so that they still vectorize (e.g. NHWC, channels last).
constexpr size_t kMinBlock = 64;

// Folds x into a running min and max, ignoring non-finite x (it becomes +inf for the min and
// -inf for the max). Selects by mask so that the loops vectorize.
inline void Accumulate(float x, float& mn, float& mx) {
  const uint32_t b = FloatBits(x);
  const uint32_t finite = Mask((b & kExpMask) != kExpMask);
  const float for_min = BitsFloat((b & finite) | (kPosInf & ~finite));
  const float for_max = BitsFloat((b & finite) | (kNegInf & ~finite));
  mn = for_min < mn ? for_min : mn;
  mx = for_max > mx ? for_max : mx;
}

// One element: x * inv_scale + zero_point rounded to nearest even and saturated to [0, 255], in
// the kMagic domain (offset = kMagic + zero_point). NaN is zeroed first so that it maps to the
// zero point. Requires inv_scale <= 2^126 so that |x * inv_scale| of a finite x only overflows to
// inf, which saturates.
inline uint8_t QuantizeOne(float x, float inv_scale, float offset) {
  x = BitsFloat(FloatBits(x) & Mask(x == x));
  float r = x * inv_scale + offset;
  r = r > kMagic ? r : kMagic;
  r = r < kMagic + 255.0f ? r : kMagic + 255.0f;
  return static_cast<uint8_t>(FloatBits(r));
}

// q - zero_point is an exact small integer in FP32, so the product is (q - zp) * scale rounded
// once, and q == zero_point gives exactly 0. A range reaching within half a step of +-FLT_MAX can
// put an end step past it: kSaturate keeps those finite (and no further from x). It halves
// the loop's speed, so only such ranges pay for it (see MayOverflow).
template <bool kSaturate>
inline float DequantizeOne(uint8_t q, float zero_point, float scale) {
  float x = (static_cast<float>(q) - zero_point) * scale;
  if constexpr (kSaturate) {
    x = x < FLT_MAX ? x : FLT_MAX;
    x = x > -FLT_MAX ? x : -FLT_MAX;
  }
  return x;
}

bool MayOverflow(const Affine& a) {
  const int steps = std::max<int>(a.zero_point, 255 - a.zero_point);
  return steps * static_cast<double>(a.scale) > FLT_MAX;
}

template <bool kSaturate>
void DequantizeLoop(const uint8_t* in, size_t count, Affine affine, float* out) {
  const float zero_point = affine.zero_point;
  const float scale = affine.scale;
  for (size_t i = 0; i < count; ++i) out[i] = DequantizeOne<kSaturate>(in[i], zero_point, scale);
}

// Rows of per-element parameters (per-channel with few elements per channel).
template <bool kSaturate>
void DequantizeRows(const uint8_t* in, size_t rows, const std::vector<float>& zero_point,
                    const std::vector<float>& scale, float* out) {
  const size_t row = scale.size();
  for (size_t o = 0; o < rows; ++o) {
    const uint8_t* src = in + o * row;
    float* dst = out + o * row;
    for (size_t j = 0; j < row; ++j)
      dst[j] = DequantizeOne<kSaturate>(src[j], zero_point[j], scale[j]);
  }
}

// Min and max over [in, in + count) into mn/mx (which start at +inf/-inf or earlier values).
// Sixteen independent lanes: a float min/max reduction does not vectorize without -ffast-math,
// an array of lanes does.
void MinMax(const float* in, size_t count, float& mn, float& mx) {
  constexpr size_t kLanes = 16;
  float lmn[kLanes];
  float lmx[kLanes];
  std::fill(lmn, lmn + kLanes, mn);
  std::fill(lmx, lmx + kLanes, mx);
  size_t i = 0;
  for (; i + kLanes <= count; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) Accumulate(in[i + j], lmn[j], lmx[j]);
  }
  for (; i < count; ++i) Accumulate(in[i], lmn[0], lmx[0]);
  for (size_t j = 0; j < kLanes; ++j) {
    mn = std::min(mn, lmn[j]);
    mx = std::max(mx, lmx[j]);
  }
}

Range ToRange(float mn, float mx) {
  if (!(mn <= mx)) return {};  // no finite value
  return {mn, mx};
}

}  // namespace

Range FiniteRange(const float* in, size_t count) {
  float mn = BitsFloat(kPosInf);
  float mx = BitsFloat(kNegInf);
  MinMax(in, count, mn, mx);
  return ToRange(mn, mx);
}

Affine ChooseAffine(Range range) {
  if (range.min == range.max) {
    // Constant: one step of |c| reaches it exactly, from q = 1 (c > 0) or down to q = 0 (c < 0).
    // Not for huge |c|, whose 1 / |c| would be subnormal (flushed to 0 under FTZ/DAZ).
    const float c = range.min;
    if (!(std::fabs(c) >= FLT_MIN)) return {1.0f, 0};  // 0 or subnormal: q = 0 is within scale/2
    if (std::fabs(c) <= 0x1p100f) return {std::fabs(c), static_cast<uint8_t>(c < 0 ? 1 : 0)};
  }
  // In double so that max - min cannot overflow; the range is widened to include 0.
  const double lo = std::min<double>(range.min, 0.0);
  const double hi = std::max<double>(range.max, 0.0);
  const double exact = (hi - lo) / 255.0;
  float scale = static_cast<float>(exact);
  // Round up so that the 255 steps cover the whole range; keep 1 / scale finite.
  if (static_cast<double>(scale) < exact) scale = std::nextafter(scale, FLT_MAX);
  scale = std::max(scale, FLT_MIN);
  const double zero_point = std::clamp(std::nearbyint(-lo / scale), 0.0, 255.0);
  return {scale, static_cast<uint8_t>(zero_point)};
}

void Quantize(const float* in, size_t count, Affine affine, uint8_t* out) {
  const float inv_scale = static_cast<float>(1.0 / affine.scale);
  const float offset = kMagic + affine.zero_point;
  for (size_t i = 0; i < count; ++i) out[i] = QuantizeOne(in[i], inv_scale, offset);
}

void Dequantize(const uint8_t* in, size_t count, Affine affine, float* out) {
  if (MayOverflow(affine)) {
    DequantizeLoop<true>(in, count, affine, out);
  } else {
    DequantizeLoop<false>(in, count, affine, out);
  }
}

std::vector<Range> ChannelRanges(const float* in, ChannelLayout layout) {
  const size_t row = layout.channels * layout.inner;
  std::vector<float> mn(layout.inner >= kMinBlock ? layout.channels : row, BitsFloat(kPosInf));
  std::vector<float> mx(mn.size(), BitsFloat(kNegInf));
  if (layout.inner >= kMinBlock) {
    for (size_t o = 0; o < layout.outer; ++o) {
      for (size_t c = 0; c < layout.channels; ++c) {
        MinMax(in + o * row + c * layout.inner, layout.inner, mn[c], mx[c]);
      }
    }
  } else {
    // Element-wise over whole rows (vectorizes), then folded over `inner` per channel.
    for (size_t o = 0; o < layout.outer; ++o) {
      const float* r = in + o * row;
      for (size_t j = 0; j < row; ++j) Accumulate(r[j], mn[j], mx[j]);
    }
    for (size_t c = 0; c < layout.channels; ++c) {
      for (size_t k = 1; k < layout.inner; ++k) {
        mn[c * layout.inner] = std::min(mn[c * layout.inner], mn[c * layout.inner + k]);
        mx[c * layout.inner] = std::max(mx[c * layout.inner], mx[c * layout.inner + k]);
      }
    }
  }
  const size_t stride = layout.inner >= kMinBlock ? 1 : layout.inner;
  std::vector<Range> ranges(layout.channels);
  for (size_t c = 0; c < layout.channels; ++c) ranges[c] = ToRange(mn[c * stride], mx[c * stride]);
  return ranges;
}

void QuantizePerChannel(const float* in, ChannelLayout layout, const Affine* affines,
                        uint8_t* out) {
  const size_t row = layout.channels * layout.inner;
  if (layout.inner >= kMinBlock) {
    for (size_t o = 0; o < layout.outer; ++o) {
      for (size_t c = 0; c < layout.channels; ++c) {
        const size_t at = o * row + c * layout.inner;
        Quantize(in + at, layout.inner, affines[c], out + at);
      }
    }
    return;
  }
  std::vector<float> inv_scale(row);
  std::vector<float> offset(row);
  for (size_t j = 0; j < row; ++j) {
    const Affine& a = affines[j / layout.inner];
    inv_scale[j] = static_cast<float>(1.0 / a.scale);
    offset[j] = kMagic + a.zero_point;
  }
  for (size_t o = 0; o < layout.outer; ++o) {
    const float* src = in + o * row;
    uint8_t* dst = out + o * row;
    for (size_t j = 0; j < row; ++j) dst[j] = QuantizeOne(src[j], inv_scale[j], offset[j]);
  }
}

void DequantizePerChannel(const uint8_t* in, ChannelLayout layout, const Affine* affines,
                          float* out) {
  const size_t row = layout.channels * layout.inner;
  if (layout.inner >= kMinBlock) {
    for (size_t o = 0; o < layout.outer; ++o) {
      for (size_t c = 0; c < layout.channels; ++c) {
        const size_t at = o * row + c * layout.inner;
        Dequantize(in + at, layout.inner, affines[c], out + at);
      }
    }
    return;
  }
  std::vector<float> scale(row);
  std::vector<float> zero_point(row);
  bool saturate = false;
  for (size_t j = 0; j < row; ++j) {
    scale[j] = affines[j / layout.inner].scale;
    zero_point[j] = affines[j / layout.inner].zero_point;
  }
  for (size_t c = 0; c < layout.channels; ++c) saturate = saturate || MayOverflow(affines[c]);
  if (saturate) {
    DequantizeRows<true>(in, layout.outer, zero_point, scale, out);
  } else {
    DequantizeRows<false>(in, layout.outer, zero_point, scale, out);
  }
}

}  // namespace seam::transport::quant
