#include "transport/codec.h"

#include <cstring>
#include <string_view>

#include "transport/half.h"
#include "transport/lossless.h"
#include "transport/quantize.h"

namespace seam::transport {
namespace {

// Shape split around the channel axis. Only called with count > 0, so no partial product
// overflows (each is at most the element count).
quant::ChannelLayout Layout(const std::vector<int64_t>& shape, size_t axis) {
  quant::ChannelLayout layout;
  for (size_t i = 0; i < axis; ++i) layout.outer *= static_cast<size_t>(shape[i]);
  layout.channels = static_cast<size_t>(shape[axis]);
  for (size_t i = axis + 1; i < shape.size(); ++i) layout.inner *= static_cast<size_t>(shape[i]);
  return layout;
}

// The lossy stage, FP32 in, stored elements out; fills e.scales and e.zero_points.
void EncodeLossy(const float* in, size_t count, EncodedTensor& e, std::byte* out) {
  switch (e.codec.lossy) {
    case LossyStage::kFp16:
      half::FloatToHalf(in, reinterpret_cast<uint16_t*>(out), count);
      return;
    case LossyStage::kInt8: {
      const quant::Affine a = quant::ChooseAffine(quant::FiniteRange(in, count));
      e.scales = {a.scale};
      e.zero_points = {a.zero_point};
      quant::Quantize(in, count, a, reinterpret_cast<uint8_t*>(out));
      return;
    }
    case LossyStage::kInt8PerChannel: {
      const quant::ChannelLayout layout = Layout(e.shape, static_cast<size_t>(e.codec.axis));
      const std::vector<quant::Range> ranges = quant::ChannelRanges(in, layout);
      std::vector<quant::Affine> affines(ranges.size());
      e.scales.resize(ranges.size());
      e.zero_points.resize(ranges.size());
      for (size_t c = 0; c < ranges.size(); ++c) {
        affines[c] = quant::ChooseAffine(ranges[c]);
        e.scales[c] = affines[c].scale;
        e.zero_points[c] = affines[c].zero_point;
      }
      quant::QuantizePerChannel(in, layout, affines.data(), reinterpret_cast<uint8_t*>(out));
      return;
    }
    case LossyStage::kIdentity:
      std::memcpy(out, in, count * sizeof(float));
      return;
  }
}

// The inverse of EncodeLossy for a validated `e`.
void DecodeLossy(const std::byte* in, size_t count, const EncodedTensor& e, float* out) {
  switch (e.codec.lossy) {
    case LossyStage::kFp16:
      half::HalfToFloat(reinterpret_cast<const uint16_t*>(in), out, count);
      return;
    case LossyStage::kInt8:
      quant::Dequantize(reinterpret_cast<const uint8_t*>(in), count,
                        {e.scales[0], e.zero_points[0]}, out);
      return;
    case LossyStage::kInt8PerChannel: {
      std::vector<quant::Affine> affines(e.scales.size());
      for (size_t c = 0; c < affines.size(); ++c) affines[c] = {e.scales[c], e.zero_points[c]};
      quant::DequantizePerChannel(reinterpret_cast<const uint8_t*>(in),
                                  Layout(e.shape, static_cast<size_t>(e.codec.axis)),
                                  affines.data(), out);
      return;
    }
    case LossyStage::kIdentity:
      std::memcpy(out, in, count * sizeof(float));
      return;
  }
}

std::string_view Bytes(const std::vector<std::byte>& data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

}  // namespace

Result<EncodedTensor> Encode(const Tensor& tensor, const CodecSpec& spec) {
  Result<uint64_t> counted = CheckedElementCount(tensor.shape);
  if (!counted.ok()) return counted.status().WithContext("tensor to encode");
  const uint64_t count = *counted;
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(count, DTypeSize(tensor.dtype), &bytes) ||
      bytes != tensor.data.size()) {
    return InvalidArgument("tensor to encode: shape " + ShapeToString(tensor.shape) + " " +
                           DTypeName(tensor.dtype) + " needs " + std::to_string(bytes) +
                           " bytes, its data has " + std::to_string(tensor.data.size()));
  }
  SEAM_RETURN_IF_ERROR(ValidateCodec(spec));
  if (IsLossy(spec) && tensor.dtype != DType::kFloat32) {
    return InvalidArgument("codec '" + ToString(spec) + "' needs an FP32 tensor, got " +
                           DTypeName(tensor.dtype) + " (other dtypes take only 'identity', " +
                           "optionally with '+zstd' or '+lz4')");
  }
  EncodedTensor e;
  e.codec = spec;
  e.dtype = tensor.dtype;
  e.shape = tensor.shape;
  if (spec.lossy == LossyStage::kInt8PerChannel) {
    const int rank = static_cast<int>(tensor.shape.size());
    const int axis = spec.axis < 0 ? spec.axis + rank : spec.axis;
    if (axis < 0 || axis >= rank) {
      return InvalidArgument("codec '" + ToString(spec) + "': axis " + std::to_string(spec.axis) +
                             " is out of range for shape " + ShapeToString(tensor.shape));
    }
    if (static_cast<uint64_t>(tensor.shape[static_cast<size_t>(axis)]) > UINT32_MAX) {
      return InvalidArgument("codec '" + ToString(spec) + "': more than 2^32 - 1 channels in " +
                             ShapeToString(tensor.shape));
    }
    e.codec.axis = axis;
  }
  const auto* in = tensor.data_as<float>();
  if (spec.lossy == LossyStage::kIdentity) {
    if (spec.lossless == LosslessStage::kNone) {
      e.payload.assign(Bytes(tensor.data));
      return e;
    }
    SEAM_RETURN_IF_ERROR(Compress(spec.lossless, spec.zstd_level, Bytes(tensor.data), e.payload));
    return e;
  }
  // Lossy: straight into the payload, or into a temporary that the lossless stage compresses.
  // An empty tensor carries no quantisation parameters (there is nothing to choose them from).
  const size_t stored = count * StoredElementSize(spec.lossy, tensor.dtype);
  std::string lossy_out;
  std::string& out = spec.lossless == LosslessStage::kNone ? e.payload : lossy_out;
  out.resize(stored);
  if (count > 0) EncodeLossy(in, count, e, reinterpret_cast<std::byte*>(out.data()));
  if (spec.lossless != LosslessStage::kNone) {
    SEAM_RETURN_IF_ERROR(Compress(spec.lossless, spec.zstd_level, lossy_out, e.payload));
  }
  return e;
}

Result<Tensor> Decode(const EncodedTensor& e, const DecodeLimits& limits) {
  SEAM_RETURN_IF_ERROR(ValidateEncoded(e, limits));
  const uint64_t count = *CheckedElementCount(e.shape);  // validated above
  const size_t stored = count * StoredElementSize(e.codec.lossy, e.dtype);
  Tensor t;
  t.dtype = e.dtype;
  t.shape = e.shape;
  t.data.resize(count * DTypeSize(e.dtype));
  if (e.codec.lossy == LossyStage::kIdentity) {
    if (e.codec.lossless == LosslessStage::kNone) {
      if (stored > 0) std::memcpy(t.data.data(), e.payload.data(), stored);
    } else {
      SEAM_RETURN_IF_ERROR(Decompress(e.codec.lossless, e.payload, t.data.data(), stored));
    }
    return t;
  }
  std::string decompressed;
  const std::byte* in = reinterpret_cast<const std::byte*>(e.payload.data());
  if (e.codec.lossless != LosslessStage::kNone) {
    decompressed.resize(stored);
    SEAM_RETURN_IF_ERROR(Decompress(e.codec.lossless, e.payload,
                                    reinterpret_cast<std::byte*>(decompressed.data()), stored));
    in = reinterpret_cast<const std::byte*>(decompressed.data());
  }
  if (count > 0) DecodeLossy(in, count, e, t.data_as<float>());
  return t;
}

}  // namespace seam::transport
