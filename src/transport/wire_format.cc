#include "transport/wire_format.h"

#include <cstring>
#include <type_traits>

namespace seam::transport {
namespace {

constexpr char kMagic[4] = {'S', 'M', 'T', 'C'};
constexpr size_t kFixedHeader = 16;

// The unsigned integer as wide as T, through which T's bits are shifted out and in.
template <typename T>
using BitsOf =
    std::conditional_t<sizeof(T) == 1, uint8_t,
                       std::conditional_t<sizeof(T) == 2, uint16_t,
                                          std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;

// Little-endian stores and loads, byte by byte: correct on any host, and compilers turn them into
// single moves on little-endian ones.
template <typename T>
void Put(std::string& out, T value) {
  static_assert(sizeof(T) == sizeof(BitsOf<T>));
  BitsOf<T> bits;
  std::memcpy(&bits, &value, sizeof(T));
  for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
}

// A cursor over the buffer that never reads past its end.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return bytes_.size() - offset_; }

  template <typename T>
  Status Get(const char* field, T& value) {
    if (remaining() < sizeof(T)) return Truncated(field, sizeof(T));
    static_assert(sizeof(T) == sizeof(BitsOf<T>));
    BitsOf<T> bits = 0;
    for (size_t i = 0; i < sizeof(T); ++i) {
      bits |= static_cast<BitsOf<T>>(
          static_cast<BitsOf<T>>(static_cast<uint8_t>(bytes_[offset_ + i])) << (8 * i));
    }
    std::memcpy(&value, &bits, sizeof(T));
    offset_ += sizeof(T);
    return Status::Ok();
  }

  Status GetBytes(const char* field, size_t n, std::string_view& out) {
    if (remaining() < n) return Truncated(field, n);
    out = bytes_.substr(offset_, n);
    offset_ += n;
    return Status::Ok();
  }

  Status Truncated(const char* field, uint64_t need) const {
    return DataLoss("encoded tensor truncated: " + std::string(field) + " at byte " +
                    std::to_string(offset_) + " needs " + std::to_string(need) + " bytes, " +
                    std::to_string(remaining()) + " remain");
  }

 private:
  std::string_view bytes_;
  size_t offset_ = 0;
};

Status Corrupt(size_t offset, const std::string& what) {
  return DataLoss("encoded tensor corrupt at byte " + std::to_string(offset) + ": " + what);
}

// The fixed 16 bytes: magic, version, stages, dtype, rank, axis, parameter count.
Status ParseFixedHeader(Reader& r, EncodedTensor& e, uint8_t& rank, uint32_t& params) {
  if (r.remaining() < kFixedHeader) return r.Truncated("header", kFixedHeader);
  std::string_view magic;
  SEAM_RETURN_IF_ERROR(r.GetBytes("magic", 4, magic));
  if (magic != std::string_view(kMagic, 4)) {
    return DataLoss("not a seam encoded tensor (magic is not \"SMTC\")");
  }
  uint8_t version = 0, lossy = 0, lossless = 0, dtype = 0, axis = 0, reserved = 0;
  int8_t level = 0;
  SEAM_RETURN_IF_ERROR(r.Get("version", version));
  if (version != kWireVersion) {
    return DataLoss("encoded tensor has wire version " + std::to_string(version) +
                    "; this build reads version " + std::to_string(kWireVersion));
  }
  SEAM_RETURN_IF_ERROR(r.Get("lossy stage", lossy));
  SEAM_RETURN_IF_ERROR(r.Get("lossless stage", lossless));
  SEAM_RETURN_IF_ERROR(r.Get("zstd level", level));
  SEAM_RETURN_IF_ERROR(r.Get("dtype", dtype));
  SEAM_RETURN_IF_ERROR(r.Get("rank", rank));
  SEAM_RETURN_IF_ERROR(r.Get("axis", axis));
  SEAM_RETURN_IF_ERROR(r.Get("reserved", reserved));
  SEAM_RETURN_IF_ERROR(r.Get("parameter count", params));
  if (lossy > static_cast<uint8_t>(LossyStage::kInt8PerChannel)) {
    return Corrupt(5, "unknown lossy stage " + std::to_string(lossy));
  }
  if (lossless > static_cast<uint8_t>(LosslessStage::kLz4)) {
    return Corrupt(6, "unknown lossless stage " + std::to_string(lossless));
  }
  e.codec.lossy = static_cast<LossyStage>(lossy);
  e.codec.lossless = static_cast<LosslessStage>(lossless);
  // Fields that a stage does not use must be zero, so that each tensor has one encoding.
  if ((e.codec.lossless == LosslessStage::kZstd) != (level != 0)) {
    return Corrupt(7, "zstd level " + std::to_string(level) + " with lossless stage " +
                          LosslessStageName(e.codec.lossless));
  }
  e.codec.zstd_level = level != 0 ? level : kDefaultZstdLevel;
  Result<DType> parsed_dtype = DTypeFromOnnx(dtype);
  if (!parsed_dtype.ok()) return Corrupt(8, parsed_dtype.status().message());
  e.dtype = *parsed_dtype;
  if (rank > kMaxRank) return Corrupt(9, "rank " + std::to_string(rank) + " is over 32");
  if (e.codec.lossy != LossyStage::kInt8PerChannel && axis != 0) {
    return Corrupt(10, "channel axis set for codec " + std::string(LossyStageName(e.codec.lossy)));
  }
  e.codec.axis = e.codec.lossy == LossyStage::kInt8PerChannel ? axis : kDefaultChannelAxis;
  if (reserved != 0) return Corrupt(11, "reserved byte is " + std::to_string(reserved));
  return Status::Ok();
}

}  // namespace

std::string Serialize(const EncodedTensor& e) {
  const size_t n = e.scales.size();
  std::string out;
  out.reserve(kFixedHeader + 8 * e.shape.size() + 5 * n + 8 + e.payload.size());
  out.append(kMagic, 4);
  Put<uint8_t>(out, kWireVersion);
  Put<uint8_t>(out, static_cast<uint8_t>(e.codec.lossy));
  Put<uint8_t>(out, static_cast<uint8_t>(e.codec.lossless));
  Put<int8_t>(
      out, static_cast<int8_t>(e.codec.lossless == LosslessStage::kZstd ? e.codec.zstd_level : 0));
  Put<uint8_t>(out, static_cast<uint8_t>(DTypeToOnnx(e.dtype)));
  Put<uint8_t>(out, static_cast<uint8_t>(e.shape.size()));
  Put<uint8_t>(
      out, static_cast<uint8_t>(e.codec.lossy == LossyStage::kInt8PerChannel ? e.codec.axis : 0));
  Put<uint8_t>(out, 0);
  Put<uint32_t>(out, static_cast<uint32_t>(n));
  for (int64_t d : e.shape) Put<int64_t>(out, d);
  for (float s : e.scales) Put<float>(out, s);
  out.append(reinterpret_cast<const char*>(e.zero_points.data()), e.zero_points.size());
  Put<uint64_t>(out, e.payload.size());
  out.append(e.payload);
  return out;
}

Result<EncodedTensor> ParseEncoded(std::string_view bytes, const DecodeLimits& limits) {
  Reader r(bytes);
  EncodedTensor e;
  uint8_t rank = 0;
  uint32_t params = 0;
  SEAM_RETURN_IF_ERROR(ParseFixedHeader(r, e, rank, params));
  e.shape.resize(rank);  // <= 32
  for (auto& d : e.shape) {
    const size_t at = r.offset();
    SEAM_RETURN_IF_ERROR(r.Get("dimension", d));
    if (d < 0) return Corrupt(at, "negative dimension " + std::to_string(d));
  }
  // 5 bytes per parameter: bound the count by the buffer before allocating for it.
  if (params > r.remaining() / 5) {
    return r.Truncated("quantisation parameters", uint64_t{params} * 5);
  }
  e.scales.resize(params);
  for (auto& s : e.scales) SEAM_RETURN_IF_ERROR(r.Get("scale", s));
  std::string_view zero_points;
  SEAM_RETURN_IF_ERROR(r.GetBytes("zero points", params, zero_points));
  e.zero_points.assign(zero_points.begin(), zero_points.end());
  uint64_t payload_size = 0;
  SEAM_RETURN_IF_ERROR(r.Get("payload size", payload_size));
  if (payload_size != r.remaining()) {
    return payload_size > r.remaining()
               ? r.Truncated("payload", payload_size)
               : Corrupt(r.offset(), std::to_string(r.remaining() - payload_size) +
                                         " bytes follow the payload");
  }
  std::string_view payload;
  SEAM_RETURN_IF_ERROR(r.GetBytes("payload", payload_size, payload));
  e.payload.assign(payload);
  SEAM_RETURN_IF_ERROR(ValidateEncoded(e, limits));
  return e;
}

}  // namespace seam::transport
