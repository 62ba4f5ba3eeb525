// EncodedTensor: a tensor after a codec, with everything needed to decode it and nothing else.
//
// It is what crosses a link: Serialize/ParseEncoded (wire_format.h) turn it into bytes and back,
// Encode/Decode (codec.h) produce and consume it. A plain value; not thread-safe to mutate
// concurrently, safe to read from many threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "common/status.h"
#include "transport/codec_spec.h"

namespace seam::transport {

struct EncodedTensor {
  // The codec as applied: int8_per_channel's axis is resolved to [0, rank).
  CodecSpec codec;
  // The original tensor's dtype and shape; Decode restores both (lossy codecs need FP32).
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;
  // Quantisation parameters, x ~ (q - zero_point) * scale: one pair for int8, shape[axis] pairs
  // for int8_per_channel, none for the other codecs or an empty tensor. Scales are positive
  // normal floats.
  std::vector<float> scales;
  std::vector<uint8_t> zero_points;
  // The lossy stage's output (little-endian elements: FP32 or the original dtype for identity,
  // binary16 for fp16, uint8 for the int8 codecs), then compressed by the lossless stage if any.
  std::string payload;
};

// What a receiver agrees to allocate for one decoded tensor. A zstd payload can legitimately
// expand ~40,000x, so this limit, not the buffer's length, is what bounds a decompression bomb.
struct DecodeLimits {
  uint64_t max_tensor_bytes = uint64_t{1} << 30;  // bytes of the decoded tensor; default 1 GiB
};

// Elements in `shape`, each dimension >= 0, rank <= kMaxRank; INVALID_ARGUMENT on a negative
// dimension, too high a rank or a product that overflows 64 bits.
Result<uint64_t> CheckedElementCount(const std::vector<int64_t>& shape);

// Bytes per element of the lossy stage's output: 2 for fp16, 1 for int8 codecs, the dtype's size
// for identity.
size_t StoredElementSize(LossyStage lossy, DType dtype);

// Checks that `encoded` is self-consistent and decodable within `limits`: known stages, FP32 for
// lossy codecs, a valid shape whose decoded size fits the limit, parameters of the right count and
// range, and a payload that can hold exactly the stored bytes (lossless frames are checked without
// decompressing). DATA_LOSS for an inconsistency, INVALID_ARGUMENT for a tensor over the limit.
// Decode and ParseEncoded both call it, so a parsed tensor is one Decode accepts.
Status ValidateEncoded(const EncodedTensor& encoded, const DecodeLimits& limits);

}  // namespace seam::transport
