#include "transport/encoded_tensor.h"

#include <cmath>
#include <string>

#include "transport/lossless.h"

namespace seam::transport {
namespace {

// An empty tensor carries no parameters: there is nothing to choose them from, and a shape like
// [0, 2^40] must not make anyone allocate 2^40 of them.
size_t ExpectedParameterCount(const EncodedTensor& e, uint64_t count) {
  if (count == 0) return 0;
  switch (e.codec.lossy) {
    case LossyStage::kInt8:
      return 1;
    case LossyStage::kInt8PerChannel:
      return static_cast<size_t>(e.shape[static_cast<size_t>(e.codec.axis)]);
    default:
      return 0;
  }
}

Status ValidateParameters(const EncodedTensor& e, uint64_t count) {
  if (e.codec.lossy == LossyStage::kInt8PerChannel &&
      (e.codec.axis < 0 || static_cast<size_t>(e.codec.axis) >= e.shape.size())) {
    return DataLoss("int8_per_channel axis " + std::to_string(e.codec.axis) +
                    " is out of range for shape " + ShapeToString(e.shape));
  }
  const size_t expected = ExpectedParameterCount(e, count);
  if (expected > UINT32_MAX) {
    return DataLoss("shape " + ShapeToString(e.shape) +
                    " has more channels than the wire format's limit of 2^32 - 1");
  }
  if (e.scales.size() != expected || e.zero_points.size() != expected) {
    return DataLoss(std::string("codec ") + LossyStageName(e.codec.lossy) + " on shape " +
                    ShapeToString(e.shape) + " needs " + std::to_string(expected) +
                    " scale/zero-point pairs, got " + std::to_string(e.scales.size()) + "/" +
                    std::to_string(e.zero_points.size()));
  }
  for (size_t i = 0; i < e.scales.size(); ++i) {
    if (!(std::isnormal(e.scales[i]) && e.scales[i] > 0)) {
      return DataLoss("scale " + std::to_string(i) + " is " + std::to_string(e.scales[i]) +
                      "; scales are positive normal floats");
    }
  }
  return Status::Ok();
}

}  // namespace

Result<uint64_t> CheckedElementCount(const std::vector<int64_t>& shape) {
  if (shape.size() > static_cast<size_t>(kMaxRank)) {
    return InvalidArgument("rank " + std::to_string(shape.size()) +
                           " is over the codecs' limit of " + std::to_string(kMaxRank));
  }
  uint64_t count = 1;
  for (int64_t d : shape) {
    if (d < 0) {
      return InvalidArgument("shape " + ShapeToString(shape) + " has a negative dimension");
    }
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(d), &count)) {
      return InvalidArgument("shape " + ShapeToString(shape) + " has more than 2^64 elements");
    }
  }
  return count;
}

size_t StoredElementSize(LossyStage lossy, DType dtype) {
  switch (lossy) {
    case LossyStage::kIdentity:
      return DTypeSize(dtype);
    case LossyStage::kFp16:
      return 2;
    case LossyStage::kInt8:
    case LossyStage::kInt8PerChannel:
      return 1;
  }
  return DTypeSize(dtype);
}

Status ValidateEncoded(const EncodedTensor& e, const DecodeLimits& limits) {
  // DTypeName falls back to "FP32" for a value outside the enum, so a round trip catches it.
  if (DTypeFromName(DTypeName(e.dtype)) != e.dtype) {
    return DataLoss("unknown dtype number " + std::to_string(static_cast<int>(e.dtype)));
  }
  if (IsLossy(e.codec) && e.dtype != DType::kFloat32) {
    return DataLoss(std::string("codec ") + LossyStageName(e.codec.lossy) + " on a " +
                    DTypeName(e.dtype) + " tensor; lossy codecs carry only FP32");
  }
  if (Status s = ValidateCodec(e.codec); !s.ok()) return DataLoss(s.message());
  Result<uint64_t> count = CheckedElementCount(e.shape);
  if (!count.ok()) return DataLoss(count.status().message());
  // Decoded bytes: lossy codecs decode to FP32 (4 bytes), identity to the original dtype.
  uint64_t decoded_bytes = 0;
  if (__builtin_mul_overflow(*count, DTypeSize(e.dtype), &decoded_bytes) ||
      decoded_bytes > limits.max_tensor_bytes) {
    return InvalidArgument("tensor " + ShapeToString(e.shape) + " " + DTypeName(e.dtype) +
                           " is over the decode limit of " +
                           std::to_string(limits.max_tensor_bytes) + " bytes");
  }
  // At most decoded_bytes: no overflow.
  const uint64_t stored_bytes = *count * StoredElementSize(e.codec.lossy, e.dtype);
  SEAM_RETURN_IF_ERROR(ValidateParameters(e, *count));
  if (e.codec.lossless == LosslessStage::kNone) {
    if (e.payload.size() != stored_bytes) {
      return DataLoss("payload is " + std::to_string(e.payload.size()) + " bytes, shape " +
                      ShapeToString(e.shape) + " with codec " + ToString(e.codec) + " needs " +
                      std::to_string(stored_bytes));
    }
    return Status::Ok();
  }
  return CheckCompressed(e.codec.lossless, e.payload, stored_bytes);
}

}  // namespace seam::transport
