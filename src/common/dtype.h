// Element types of tensors as seam handles them, with their ONNX and OIP names and sizes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace seam {

enum class DType : uint8_t {
  kFloat32,
  kFloat16,
  kBFloat16,
  kFloat64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kUInt8,
  kUInt16,
  kUInt32,
  kUInt64,
  kBool,
};

// Size of one element in bytes.
size_t DTypeSize(DType dtype);
// The Open Inference Protocol name: "FP32", "INT64", "BOOL"...
const char* DTypeName(DType dtype);
std::optional<DType> DTypeFromName(std::string_view name);

// ONNX TensorProto.DataType <-> DType. Types seam cannot carry (STRING, complex, float8...) give an
// UNIMPLEMENTED status that names the ONNX type, so callers can say which tensor has it.
Result<DType> DTypeFromOnnx(int32_t onnx_type);
int32_t DTypeToOnnx(DType dtype);
// "FLOAT", "STRING", "COMPLEX64"... for any ONNX type number, for messages.
std::string OnnxTypeName(int32_t onnx_type);

// Number of elements of a fully known shape; an empty shape is a scalar (1 element). Only for
// shapes of tensors that exist in memory; shapes read from a file go through the checked form.
int64_t ElementCount(const std::vector<int64_t>& shape);
// The same for untrusted shapes: nullopt when a dimension is negative or the product overflows.
std::optional<int64_t> CheckedElementCount(const std::vector<int64_t>& shape);
// a * b, or nullopt on overflow.
std::optional<int64_t> CheckedMul(int64_t a, int64_t b);
// "[1,3,224,224]"; negative dimensions print as "?".
std::string ShapeToString(const std::vector<int64_t>& shape);
// "[-1,3,32,32]": a shape as the Open Inference Protocol writes it (-1 for a dynamic dimension).
std::string OipShape(const std::vector<int64_t>& shape);

}  // namespace seam
