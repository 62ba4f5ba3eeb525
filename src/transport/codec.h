// Encode and decode tensors with a codec: what a tensor looks like on a network link.
//
// Guarantees, per element of an FP32 tensor (see half.h and quantize.h for the details):
//   identity, and any codec's lossless stage   bitwise
//   fp16    round to nearest even; relative error <= 2^-11 in the normal half range, exact for
//           values a half can hold; |x| >= 65520 -> inf; NaN stays NaN, inf stays inf
//   int8    uint8 storage, x ~ (q - zero_point) * scale with one (scale, zero_point) for the
//           tensor, chosen from its finite min and max widened to include 0: error <= scale / 2,
//           0 and constant tensors exact; +-inf saturate, NaN -> 0
//   int8_per_channel   the same per index along `axis` (default 1, the C of NCHW)
// Lossy codecs take FP32 only; other dtypes take identity and the lossless stages.
//
// Speed: fp16 and int8 encode and decode each run at several GB/s of FP32 on one core (see
// bench/codec_bench.cc); they use no threads. All functions are thread-safe: each thread reuses
// its own scratch buffer and zstd contexts.
#pragma once

#include "common/status.h"
#include "common/tensor.h"
#include "transport/codec_spec.h"
#include "transport/encoded_tensor.h"

namespace seam::transport {

// INVALID_ARGUMENT when the tensor is inconsistent (data size against dtype and shape, a negative
// dimension, rank over kMaxRank), when a lossy codec meets a non-FP32 tensor, or when
// int8_per_channel's axis is outside the tensor's rank.
Result<EncodedTensor> Encode(const Tensor& tensor, const CodecSpec& spec);

// The tensor back, with the original dtype and shape. Validates `encoded` first (see
// ValidateEncoded): DATA_LOSS for a corrupt or inconsistent one, INVALID_ARGUMENT for one that
// would decode to more than limits.max_tensor_bytes.
Result<Tensor> Decode(const EncodedTensor& encoded, const DecodeLimits& limits = {});

}  // namespace seam::transport
