// CodecSpec: which codec a tensor crosses a link with, as the planner and the config name it.
//
// A spec is a lossy (or identity) stage optionally followed by one lossless stage:
//
//   spec     := stage ['+' lossless]
//   stage    := 'identity' | 'fp16' | 'int8' | 'int8_per_channel' [':' AXIS]
//   lossless := 'zstd' [':' LEVEL] | 'lz4'
//
// e.g. "fp16", "int8+zstd", "identity+lz4", "int8_per_channel:0+zstd:3". AXIS defaults to 1 (the
// channel axis of NCHW) and may be negative (counted from the last axis, resolved at Encode).
// LEVEL defaults to 1 (zstd's fastest positive level; activations rarely gain from more).
// Only FP32 tensors take a lossy stage; every dtype takes identity and the lossless stages.
//
// Plain values, cheap to copy; the functions here are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace seam::transport {

enum class LossyStage : uint8_t {
  kIdentity = 0,        // the tensor's bytes as they are
  kFp16 = 1,            // FP32 -> IEEE binary16, round to nearest even; decodes to FP32
  kInt8 = 2,            // FP32 -> uint8, one affine (scale, zero point) for the whole tensor
  kInt8PerChannel = 3,  // FP32 -> uint8, one affine pair per index along `axis`
};

enum class LosslessStage : uint8_t {
  kNone = 0,
  kZstd = 1,
  kLz4 = 2,
};

inline constexpr int kDefaultZstdLevel = 1;
inline constexpr int kDefaultChannelAxis = 1;
// Bounds of the zstd level a spec may ask for (zstd's own maximum; its negative "fast" levels
// stop at -128 so that the level fits the one byte the wire format gives it). 0 is refused: zstd
// reads it as "its default level", which would make "zstd:0" mean level 3.
inline constexpr int kMinZstdLevel = -128;
inline constexpr int kMaxZstdLevel = 22;
// Highest rank seam's codecs carry; the wire format stores the rank in one byte.
inline constexpr int kMaxRank = 32;

struct CodecSpec {
  LossyStage lossy = LossyStage::kIdentity;
  LosslessStage lossless = LosslessStage::kNone;
  int zstd_level = kDefaultZstdLevel;  // used only when lossless == kZstd
  int axis = kDefaultChannelAxis;      // used only when lossy == kInt8PerChannel

  // Specs that encode alike compare equal: parameters of stages not in use are ignored.
  friend bool operator==(const CodecSpec& a, const CodecSpec& b);
};

// Parses a spec string (grammar above). Errors are INVALID_ARGUMENT and quote the spec, e.g.
// "unknown codec 'fp8' (known: identity, fp16, int8, int8_per_channel; lossless stages: zstd,
// lz4)".
Result<CodecSpec> ParseCodec(std::string_view spec);

// INVALID_ARGUMENT unless every field is in range (what ParseCodec returns always is): known
// stages, zstd level in [kMinZstdLevel, kMaxZstdLevel] and not 0, axis in [-kMaxRank, kMaxRank).
Status ValidateCodec(const CodecSpec& spec);

// The canonical spelling, parameters at their defaults left out: ParseCodec(ToString(s)) == s.
std::string ToString(const CodecSpec& spec);

// "identity", "fp16", "int8", "int8_per_channel"; "none", "zstd", "lz4".
const char* LossyStageName(LossyStage stage);
const char* LosslessStageName(LosslessStage stage);

inline bool IsLossy(const CodecSpec& spec) { return spec.lossy != LossyStage::kIdentity; }

}  // namespace seam::transport
