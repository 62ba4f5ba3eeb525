#include "adapt/light_probe.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "adapt/probe_pacing.h"

namespace seam::adapt {

uint64_t LightProbeBytes(double mbps, uint64_t copy_bytes) {
  const uint64_t most = copy_bytes / 4;
  if (most < kLightProbeMinBytes) return 0;
  double bytes = static_cast<double>(kLightProbeMinBytes);
  if (mbps > 0) bytes = std::max(bytes, mbps * 1e3 * kLightProbeTargetMs / 8);  // NaN: the floor
  return bytes >= static_cast<double>(most) ? most : static_cast<uint64_t>(bytes);
}

double ForcedCopyPauseMs(double copy_link_ms) {
  return ProbePauseMs(kForcedCopyEveryMs, copy_link_ms, kForcedCopyShare);
}

double LightProbeLinkMs(double tiny_ms, double sized_ms) {
  if (!(sized_ms > 0)) return 0;
  return tiny_ms > 0 ? std::max(0.0, sized_ms - tiny_ms) : sized_ms;
}

void LightProbeWindow::Add(double tiny_ms, uint64_t bytes, double sized_ms) {
  if (bytes == 0 || !(tiny_ms >= 0) || !(sized_ms >= 0)) return;
  tiny_ms_[next_] = tiny_ms;
  ms_per_byte_[next_] = std::max(0.0, sized_ms - tiny_ms) / static_cast<double>(bytes);
  next_ = (next_ + 1) % kSize;
  count_ = std::min(count_ + 1, kSize);
}

double LightProbeWindow::OptimisticLinkMs(uint64_t copy_bytes) const {
  if (count_ == 0) return 0;
  double tiny = tiny_ms_[0], per_byte = ms_per_byte_[0];
  for (size_t i = 1; i < count_; ++i) {
    tiny = std::min(tiny, tiny_ms_[i]);
    per_byte = std::min(per_byte, ms_per_byte_[i]);
  }
  return tiny + per_byte * static_cast<double>(copy_bytes);
}

double LightProbeWindow::BestRttMs() const { return OptimisticLinkMs(0); }

double LightProbeWindow::BestMbps() const {
  if (count_ == 0) return 0;
  const double per_byte = OptimisticLinkMs(1) - BestRttMs();  // ms per byte
  return per_byte > 0 ? 8.0 / (per_byte * 1e3) : std::numeric_limits<double>::infinity();
}

}  // namespace seam::adapt
