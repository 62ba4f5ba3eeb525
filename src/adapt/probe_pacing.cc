#include "adapt/probe_pacing.h"

#include <algorithm>

namespace seam::adapt {

double ProbePauseMs(double interval_ms, double last_probe_ms, double max_share) {
  if (!(max_share > 0) || max_share >= 1 || !(last_probe_ms > 0)) return interval_ms;
  return std::max(interval_ms, last_probe_ms * (1 - max_share) / max_share);
}

}  // namespace seam::adapt
