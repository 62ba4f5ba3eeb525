#include "adapt/probe_pacing.h"

#include <algorithm>

namespace seam::adapt {

double ProbePauseMs(double interval_ms, double last_probe_ms, double max_share) {
  if (!(max_share > 0) || max_share >= 1 || !(last_probe_ms > 0)) return interval_ms;
  return std::max(interval_ms, last_probe_ms * (1 - max_share) / max_share);
}

double ProbeCapMs(double device_ms, double local_ms, double hysteresis, double floor_ms) {
  // The route switches to sending when device + remote < local / (1 + hysteresis) (route_policy).
  const double switch_remote_ms = local_ms / (1 + std::max(0.0, hysteresis)) - device_ms;
  return std::max(floor_ms, 2 * device_ms + 1.5 * std::max(0.0, switch_remote_ms));
}

}  // namespace seam::adapt
