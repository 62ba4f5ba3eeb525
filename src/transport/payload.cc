#include "transport/payload.h"

#include <algorithm>
#include <cstring>

#include "transport/codec.h"
#include "transport/wire_format.h"

namespace seam::transport {
bool IsPlainCodec(std::string_view codec) { return codec.empty() || codec == "identity"; }

Result<std::string> EncodePayload(const Tensor& tensor, std::string_view codec) {
  if (IsPlainCodec(codec)) {
    return std::string(reinterpret_cast<const char*>(tensor.data.data()), tensor.data.size());
  }
  SEAM_ASSIGN_OR_RETURN(CodecSpec spec, ParseCodec(codec));
  SEAM_ASSIGN_OR_RETURN(EncodedTensor encoded, Encode(tensor, spec));
  return Serialize(encoded);
}

Result<Tensor> DecodePayload(std::string_view bytes, std::string_view codec, DType dtype,
                             const std::vector<int64_t>& shape, const std::string& where) {
  auto count = CheckedElementCount(shape);
  if (!count.ok()) return InvalidArgument(where + ": " + count.status().message());
  uint64_t expected = 0;
  if (__builtin_mul_overflow(*count, static_cast<uint64_t>(DTypeSize(dtype)), &expected)) {
    return InvalidArgument(where + ": shape " + OipShape(shape) + " is too large");
  }
  if (IsPlainCodec(codec)) {
    if (bytes.size() != expected) {
      return InvalidArgument(where + ": shape " + OipShape(shape) + " of " + DTypeName(dtype) +
                             " needs " + std::to_string(expected) + " bytes, got " +
                             std::to_string(bytes.size()));
    }
    Tensor tensor;
    tensor.dtype = dtype;
    tensor.shape = shape;
    tensor.data.resize(bytes.size());
    if (!bytes.empty()) std::memcpy(tensor.data.data(), bytes.data(), bytes.size());
    return tensor;
  }
  auto spec = ParseCodec(codec);
  if (!spec.ok()) return InvalidArgument(where + ": " + spec.status().message());
  // The shape is the sender's word, and so is a compressed frame's declared size: decoding
  // allocates the tensor first. A few bytes must not make the receiver allocate gigabytes, so
  // a payload may expand at most kMaxExpansion times (or to kFreeExpansionBytes, enough for any
  // all-zero activation of a real model).
  if (expected > std::max<uint64_t>(kFreeExpansionBytes, kMaxExpansion * bytes.size())) {
    return InvalidArgument(where + " (codec " + std::string(codec) +
                           "): " + std::to_string(bytes.size()) + " bytes cannot hold shape " +
                           OipShape(shape) + " of " + DTypeName(dtype) + " (" +
                           std::to_string(expected) + " bytes)");
  }
  auto encoded = ParseEncoded(bytes, DecodeLimits{.max_tensor_bytes = expected});
  // Whatever is wrong with the bytes, it is the sender's data that is invalid.
  if (!encoded.ok()) {
    return InvalidArgument(where + " (codec " + std::string(codec) +
                           "): " + encoded.status().message());
  }
  auto tensor = Decode(*encoded, DecodeLimits{.max_tensor_bytes = expected});
  if (!tensor.ok()) {
    return InvalidArgument(where + " (codec " + std::string(codec) +
                           "): " + tensor.status().message());
  }
  if (tensor->dtype != dtype || tensor->shape != shape) {
    return InvalidArgument(where + ": declared " + DTypeName(dtype) + " " + OipShape(shape) +
                           ", but the payload holds " + DTypeName(tensor->dtype) + " " +
                           OipShape(tensor->shape));
  }
  return tensor;
}

}  // namespace seam::transport
