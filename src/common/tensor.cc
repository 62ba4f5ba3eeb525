#include "common/tensor.h"

#include <cstring>

namespace seam {

Tensor Tensor::Zeros(DType dtype, std::vector<int64_t> shape) {
  Tensor t;
  t.dtype = dtype;
  t.data.resize(static_cast<size_t>(ElementCount(shape)) * DTypeSize(dtype));
  t.shape = std::move(shape);
  return t;
}

bool Tensor::BitwiseEquals(const Tensor& other) const {
  return dtype == other.dtype && shape == other.shape && data.size() == other.data.size() &&
         (data.empty() || std::memcmp(data.data(), other.data.data(), data.size()) == 0);
}

}  // namespace seam
