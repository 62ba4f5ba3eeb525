#include "transport/codec_spec.h"

#include <array>
#include <charconv>
#include <optional>
#include <utility>

namespace seam::transport {
namespace {

constexpr std::array<std::pair<std::string_view, LossyStage>, 4> kLossyNames = {{
    {"identity", LossyStage::kIdentity},
    {"fp16", LossyStage::kFp16},
    {"int8", LossyStage::kInt8},
    {"int8_per_channel", LossyStage::kInt8PerChannel},
}};
constexpr std::array<std::pair<std::string_view, LosslessStage>, 2> kLosslessNames = {{
    {"zstd", LosslessStage::kZstd},
    {"lz4", LosslessStage::kLz4},
}};
constexpr const char* kKnownList =
    "known: identity, fp16, int8, int8_per_channel; lossless stages: zstd, lz4";

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// One "name[:param]" part of a spec, trimmed.
struct Part {
  std::string_view name;
  std::optional<std::string_view> param;
};

Part SplitPart(std::string_view text) {
  text = Trim(text);
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return {text, std::nullopt};
  return {Trim(text.substr(0, colon)), Trim(text.substr(colon + 1))};
}

std::optional<int> ParseInt(std::string_view text) {
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

Status ParseStage(std::string_view spec, const Part& part, CodecSpec& out) {
  const auto quoted = "codec '" + std::string(spec) + "': ";
  for (const auto& [name, stage] : kLossyNames) {
    if (part.name != name) continue;
    out.lossy = stage;
    if (!part.param) return Status::Ok();
    if (stage != LossyStage::kInt8PerChannel) {
      return InvalidArgument(quoted + "'" + std::string(name) + "' takes no parameter");
    }
    const std::optional<int> axis = ParseInt(*part.param);
    if (!axis || *axis < -kMaxRank || *axis >= kMaxRank) {
      return InvalidArgument(quoted + "axis '" + std::string(*part.param) +
                             "' is not an integer in [" + std::to_string(-kMaxRank) + ", " +
                             std::to_string(kMaxRank - 1) + "]");
    }
    out.axis = *axis;
    return Status::Ok();
  }
  for (const auto& [name, stage] : kLosslessNames) {
    if (part.name == name) {
      return InvalidArgument(quoted + "'" + std::string(name) +
                             "' is a lossless stage and goes after a codec, e.g. 'identity+" +
                             std::string(name) + "'");
    }
  }
  return InvalidArgument("unknown codec '" + std::string(part.name) + "' (" + kKnownList + ")");
}

Status ParseLossless(std::string_view spec, const Part& part, CodecSpec& out) {
  const auto quoted = "codec '" + std::string(spec) + "': ";
  for (const auto& [name, stage] : kLosslessNames) {
    if (part.name != name) continue;
    out.lossless = stage;
    if (!part.param) return Status::Ok();
    if (stage != LosslessStage::kZstd) {
      return InvalidArgument(quoted + "'" + std::string(name) + "' takes no parameter");
    }
    const std::optional<int> level = ParseInt(*part.param);
    if (!level || *level < kMinZstdLevel || *level > kMaxZstdLevel || *level == 0) {
      return InvalidArgument(quoted + "zstd level '" + std::string(*part.param) +
                             "' is not an integer in [" + std::to_string(kMinZstdLevel) + ", " +
                             std::to_string(kMaxZstdLevel) + "] other than 0");
    }
    out.zstd_level = *level;
    return Status::Ok();
  }
  return InvalidArgument(quoted + "unknown lossless stage '" + std::string(part.name) +
                         "' (known: zstd, lz4)");
}

}  // namespace

bool operator==(const CodecSpec& a, const CodecSpec& b) {
  if (a.lossy != b.lossy || a.lossless != b.lossless) return false;
  if (a.lossless == LosslessStage::kZstd && a.zstd_level != b.zstd_level) return false;
  if (a.lossy == LossyStage::kInt8PerChannel && a.axis != b.axis) return false;
  return true;
}

Result<CodecSpec> ParseCodec(std::string_view spec) {
  if (Trim(spec).empty()) {
    return InvalidArgument("empty codec spec (expected e.g. 'fp16' or 'int8+zstd'; " +
                           std::string(kKnownList) + ")");
  }
  const size_t plus = spec.find('+');
  CodecSpec out;
  SEAM_RETURN_IF_ERROR(ParseStage(spec, SplitPart(spec.substr(0, plus)), out));
  if (plus == std::string_view::npos) return out;
  const std::string_view rest = spec.substr(plus + 1);
  if (rest.find('+') != std::string_view::npos) {
    return InvalidArgument("codec '" + std::string(spec) +
                           "': at most one lossless stage may follow the codec");
  }
  SEAM_RETURN_IF_ERROR(ParseLossless(spec, SplitPart(rest), out));
  return out;
}

Status ValidateCodec(const CodecSpec& spec) {
  if (static_cast<uint8_t>(spec.lossy) > static_cast<uint8_t>(LossyStage::kInt8PerChannel) ||
      static_cast<uint8_t>(spec.lossless) > static_cast<uint8_t>(LosslessStage::kLz4)) {
    return InvalidArgument("codec spec has an unknown stage number");
  }
  if (spec.lossless == LosslessStage::kZstd &&
      (spec.zstd_level < kMinZstdLevel || spec.zstd_level > kMaxZstdLevel ||
       spec.zstd_level == 0)) {
    return InvalidArgument("codec '" + ToString(spec) + "': zstd level " +
                           std::to_string(spec.zstd_level) + " is not in [" +
                           std::to_string(kMinZstdLevel) + ", " + std::to_string(kMaxZstdLevel) +
                           "] other than 0");
  }
  if (spec.lossy == LossyStage::kInt8PerChannel &&
      (spec.axis < -kMaxRank || spec.axis >= kMaxRank)) {
    return InvalidArgument("codec '" + ToString(spec) + "': axis " + std::to_string(spec.axis) +
                           " is not in [" + std::to_string(-kMaxRank) + ", " +
                           std::to_string(kMaxRank - 1) + "]");
  }
  return Status::Ok();
}

// Appends piece by piece: GCC 12 warns (-Wrestrict, a false positive) on `out += ":" + ...`.
std::string ToString(const CodecSpec& spec) {
  std::string out = LossyStageName(spec.lossy);
  if (spec.lossy == LossyStage::kInt8PerChannel && spec.axis != kDefaultChannelAxis) {
    out.append(":").append(std::to_string(spec.axis));
  }
  if (spec.lossless != LosslessStage::kNone) {
    out += "+";
    out += LosslessStageName(spec.lossless);
    if (spec.lossless == LosslessStage::kZstd && spec.zstd_level != kDefaultZstdLevel) {
      out.append(":").append(std::to_string(spec.zstd_level));
    }
  }
  return out;
}

const char* LossyStageName(LossyStage stage) {
  for (const auto& [name, value] : kLossyNames) {
    if (value == stage) return name.data();  // the literals are NUL-terminated
  }
  return "invalid";
}

const char* LosslessStageName(LosslessStage stage) {
  if (stage == LosslessStage::kNone) return "none";
  for (const auto& [name, value] : kLosslessNames) {
    if (value == stage) return name.data();
  }
  return "invalid";
}

}  // namespace seam::transport
