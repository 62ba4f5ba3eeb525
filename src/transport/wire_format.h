// The wire format of an EncodedTensor: one self-describing byte string, little-endian.
//
//   offset  size       field
//   0       4          magic "SMTC" (seam tensor codec)
//   4       1          version, 1
//   5       1          lossy stage: 0 identity, 1 fp16, 2 int8, 3 int8_per_channel
//   6       1          lossless stage: 0 none, 1 zstd, 2 lz4
//   7       1          zstd level as int8 (0 unless zstd)
//   8       1          dtype as its ONNX TensorProto.DataType number (1 = FLOAT)
//   9       1          rank R (<= 32)
//   10      1          channel axis (0 unless int8_per_channel)
//   11      1          reserved, 0
//   12      4          u32 parameter count N (see EncodedTensor: 1, shape[axis] or 0)
//   16      8*R        i64 dimensions
//   ..      4*N        f32 scales
//   ..      N          u8 zero points
//   ..      8          u64 payload size P
//   ..      P          payload; the string ends here
//
// The header of an int8 NCHW tensor is 61 bytes. There is no checksum: links (TCP, TLS, gRPC)
// carry their own, and every size here is checked against the others and the buffer.
//
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "transport/encoded_tensor.h"

namespace seam::transport {

inline constexpr uint8_t kWireVersion = 1;

// `encoded` must be valid (ValidateEncoded with limits large enough); what Encode returns is.
std::string Serialize(const EncodedTensor& encoded);

// Parses and validates (ValidateEncoded) a serialized tensor. Any malformed, truncated or
// inconsistent buffer gives DATA_LOSS naming the field and offset; a tensor that would decode to
// more than limits.max_tensor_bytes gives INVALID_ARGUMENT. Allocates at most about the buffer's
// size: every count is checked against the bytes that remain before anything is reserved.
Result<EncodedTensor> ParseEncoded(std::string_view bytes, const DecodeLimits& limits = {});

}  // namespace seam::transport
