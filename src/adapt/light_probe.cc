#include "adapt/light_probe.h"

#include <algorithm>
#include <cmath>

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

double LinkMsFromProbe(double tiny_ms, uint64_t bytes, double sized_ms, uint64_t copy_bytes) {
  const double rtt = std::max(0.0, tiny_ms);
  if (bytes == 0) return rtt;
  const double extra = std::max(0.0, sized_ms - rtt);
  return rtt + extra * static_cast<double>(copy_bytes) / static_cast<double>(bytes);
}

}  // namespace seam::adapt
