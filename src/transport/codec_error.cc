#include "transport/codec_error.h"

#include <cmath>
#include <limits>

namespace seam::transport {

CodecError MeasureError(const Tensor& original, const Tensor& decoded) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (original.dtype != decoded.dtype || original.shape != decoded.shape ||
      original.data.size() != decoded.data.size()) {
    return {kInf, kInf};
  }
  if (original.dtype != DType::kFloat32) {
    return original.BitwiseEquals(decoded) ? CodecError{} : CodecError{kInf, kInf};
  }
  const float* a = original.data_as<float>();
  const float* b = decoded.data_as<float>();
  const size_t n = original.data.size() / sizeof(float);
  double max_abs = 0;
  double err2 = 0;
  double norm2 = 0;
  for (size_t i = 0; i < n; ++i) {
    const double x = a[i];
    const double y = b[i];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      const bool same = (std::isnan(x) && std::isnan(y)) || x == y;
      if (!same) return {kInf, kInf};
      continue;  // the same inf or NaN: no error, and no contribution to the norm
    }
    const double d = std::fabs(x - y);
    max_abs = d > max_abs ? d : max_abs;
    err2 += d * d;
    norm2 += x * x;
  }
  const double rel_l2 = norm2 > 0 ? std::sqrt(err2 / norm2) : (err2 > 0 ? kInf : 0.0);
  return {max_abs, rel_l2};
}

}  // namespace seam::transport
