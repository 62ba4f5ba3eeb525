// Tensor: an owning, dense, row-major, little-endian tensor of one of seam's dtypes. This is the
// unit that crosses segment boundaries (and, later, the network).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/dtype.h"

namespace seam {

struct Tensor {
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  std::vector<std::byte> data;  // ElementCount(shape) * DTypeSize(dtype) bytes

  static Tensor Zeros(DType dtype, std::vector<int64_t> shape);
  size_t byte_size() const { return data.size(); }
  template <typename T>
  T* data_as() {
    return reinterpret_cast<T*>(data.data());
  }
  template <typename T>
  const T* data_as() const {
    return reinterpret_cast<const T*>(data.data());
  }

  // Same dtype, shape and bytes (bitwise equality, so NaN == NaN with the same payload).
  bool BitwiseEquals(const Tensor& other) const;
};

// Tensors passed between segments, by tensor name.
using TensorMap = std::map<std::string, Tensor>;

// What a model (or segment, or stage) declares for one of its inputs or outputs.
struct TensorSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;  // -1 for dynamic dimensions
};

}  // namespace seam
