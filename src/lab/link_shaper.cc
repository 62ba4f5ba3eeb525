#include "lab/link_shaper.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace seam::lab {
namespace {

using Seconds = std::chrono::duration<double>;

LinkShaper::Clock::duration ToDuration(double seconds) {
  return std::chrono::duration_cast<LinkShaper::Clock::duration>(Seconds(seconds));
}

}  // namespace

Status ValidateLinkShape(const LinkShape& shape, const char* what) {
  if (!std::isfinite(shape.rate_bps) || shape.rate_bps < 0) {
    return InvalidArgument(std::string(what) + ": rate must be >= 0 bit/s (0 = unlimited), got " +
                           std::to_string(shape.rate_bps));
  }
  if (!std::isfinite(shape.delay_ms) || shape.delay_ms < 0) {
    return InvalidArgument(std::string(what) + ": delay must be >= 0 ms, got " +
                           std::to_string(shape.delay_ms));
  }
  return Status::Ok();
}

void LinkShaper::Set(const LinkShape& shape, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (shape.rate_bps != shape_.rate_bps) {
    // Debt run up at the old rate would otherwise hold back the first chunks at the new one.
    virtual_time_ = now;
    started_ = true;
  }
  shape_ = shape;
}

LinkShape LinkShaper::Get() const {
  std::lock_guard lock(mutex_);
  return shape_;
}

uint64_t LinkShaper::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

LinkShaper::Admission LinkShaper::Admit(size_t bytes, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  bytes_ += bytes;
  Clock::time_point sent = now;
  if (shape_.rate_bps > 0) {
    const double burst_bytes =
        std::max(static_cast<double>(kMinBurstBytes), shape_.rate_bps / 8 * 1e-3);
    const Clock::time_point full = now - ToDuration(burst_bytes * 8 / shape_.rate_bps);
    if (!started_ || virtual_time_ < full) virtual_time_ = full;  // unused tokens are capped
    started_ = true;
    virtual_time_ += ToDuration(static_cast<double>(bytes) * 8 / shape_.rate_bps);
    sent = std::max(now, virtual_time_);
  }
  return {sent, sent + ToDuration(shape_.delay_ms * 1e-3)};
}

size_t LinkShaper::ChunkBytes() const {
  constexpr size_t kPacket = 1500;
  constexpr size_t kMax = 64 << 10;
  std::lock_guard lock(mutex_);
  if (shape_.rate_bps <= 0) return kMax;
  const double per_ms = shape_.rate_bps / 8 * 1e-3;
  return std::clamp(static_cast<size_t>(per_ms), kPacket, kMax);
}

}  // namespace seam::lab
