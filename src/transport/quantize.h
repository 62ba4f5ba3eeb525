// Affine 8-bit quantisation of FP32 arrays: the int8 codecs' hot loops.
//
// Storage is uint8 with a zero point, as ONNX QuantizeLinear's default: x ~ (q - zero_point) *
// scale, q in [0, 255]. The range always includes 0 and the zero point is an integer, so 0.0 is
// exactly representable (ReLU zeros and padding come back as exact zeros). Each element's error is
// at most scale / 2 (plus FP32 rounding of the product, ~1e-7 relative). A constant array (all
// finite values equal) decodes exactly.
//
// Non-finite inputs do not widen the range: +inf and -inf saturate to the ends of the range and
// NaN decodes as 0. (A lossy link codec should not fail a request over one stray value, and
// widening the range to infinity would destroy every other value.)
//
// Counts are elements. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace seam::transport::quant {

struct Affine {
  float scale = 1;  // > 0, finite, normal
  uint8_t zero_point = 0;
};

// Min and max of the finite values; {0, 0} when there are none.
struct Range {
  float min = 0;
  float max = 0;
};

Range FiniteRange(const float* in, size_t count);
// The affine map for values in `range` (see the file comment for its guarantees).
Affine ChooseAffine(Range range);
void Quantize(const float* in, size_t count, Affine affine, uint8_t* out);
void Dequantize(const uint8_t* in, size_t count, Affine affine, float* out);

// Per channel: `in` is [outer, channels, inner] row-major (the tensor's shape split around the
// channel axis); channel c uses affines[c].
struct ChannelLayout {
  size_t outer = 1;
  size_t channels = 1;
  size_t inner = 1;
};

std::vector<Range> ChannelRanges(const float* in, ChannelLayout layout);
void QuantizePerChannel(const float* in, ChannelLayout layout, const Affine* affines, uint8_t* out);
void DequantizePerChannel(const uint8_t* in, ChannelLayout layout, const Affine* affines,
                          float* out);

}  // namespace seam::transport::quant
