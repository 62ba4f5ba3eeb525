#include "common/dtype.h"

#include <array>

namespace seam {
namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
  int32_t onnx;  // onnx::TensorProto_DataType value
};

// ONNX TensorProto.DataType numbers are part of the ONNX spec and never change.
constexpr std::array<DTypeInfo, 13> kInfos = {{
    {DType::kFloat32, "FP32", 4, 1},
    {DType::kFloat16, "FP16", 2, 10},
    {DType::kBFloat16, "BF16", 2, 16},
    {DType::kFloat64, "FP64", 8, 11},
    {DType::kInt8, "INT8", 1, 3},
    {DType::kInt16, "INT16", 2, 5},
    {DType::kInt32, "INT32", 4, 6},
    {DType::kInt64, "INT64", 8, 7},
    {DType::kUInt8, "UINT8", 1, 2},
    {DType::kUInt16, "UINT16", 2, 4},
    {DType::kUInt32, "UINT32", 4, 12},
    {DType::kUInt64, "UINT64", 8, 13},
    {DType::kBool, "BOOL", 1, 9},
}};

const DTypeInfo& Info(DType dtype) {
  for (const auto& info : kInfos) {
    if (info.dtype == dtype) return info;
  }
  return kInfos[0];  // unreachable: every enumerator is in the table
}

}  // namespace

size_t DTypeSize(DType dtype) { return Info(dtype).size; }
const char* DTypeName(DType dtype) { return Info(dtype).name; }
int32_t DTypeToOnnx(DType dtype) { return Info(dtype).onnx; }

std::optional<DType> DTypeFromName(std::string_view name) {
  for (const auto& info : kInfos) {
    if (name == info.name) return info.dtype;
  }
  return std::nullopt;
}

Result<DType> DTypeFromOnnx(int32_t onnx_type) {
  for (const auto& info : kInfos) {
    if (info.onnx == onnx_type) return info.dtype;
  }
  return Unimplemented("dtype " + OnnxTypeName(onnx_type) +
                       " is not supported (seam carries FLOAT, FLOAT16, BFLOAT16, DOUBLE, "
                       "INT8/16/32/64, UINT8/16/32/64 and BOOL tensors)");
}

std::string OnnxTypeName(int32_t onnx_type) {
  static constexpr std::array<const char*, 24> kNames = {
      "UNDEFINED",      "FLOAT",      "UINT8",          "INT8",       "UINT16",   "INT16",
      "INT32",          "INT64",      "STRING",         "BOOL",       "FLOAT16",  "DOUBLE",
      "UINT32",         "UINT64",     "COMPLEX64",      "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
      "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4",      "INT4",     "FLOAT4E2M1"};
  if (onnx_type >= 0 && onnx_type < static_cast<int32_t>(kNames.size())) {
    return kNames[onnx_type];
  }
  return "type #" + std::to_string(onnx_type);
}

int64_t ElementCount(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  return count;
}

std::optional<int64_t> CheckedMul(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

std::optional<int64_t> CheckedElementCount(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    auto next = CheckedMul(count, d);
    if (!next) return std::nullopt;
    count = *next;
  }
  return count;
}

std::string ShapeToString(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ",";
    out += shape[i] < 0 ? "?" : std::to_string(shape[i]);
  }
  return out + "]";
}

std::string OipShape(const std::vector<int64_t>& shape) {
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) out.push_back(',');
    out.append(std::to_string(shape[i]));
  }
  out.push_back(']');
  return out;
}

}  // namespace seam
