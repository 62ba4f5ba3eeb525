#include "profile_format/timing.h"

#include <algorithm>
#include <cmath>

namespace seam::profile {

Timing Summarize(std::vector<double> samples_ms) {
  if (samples_ms.empty()) return {};
  std::sort(samples_ms.begin(), samples_ms.end());
  const size_t n = samples_ms.size();
  Timing t;
  t.median_ms = n % 2 ? samples_ms[n / 2] : (samples_ms[n / 2 - 1] + samples_ms[n / 2]) / 2;
  // Nearest rank: the smallest sample with at least 90% of the samples at or below it.
  const size_t rank = static_cast<size_t>(std::ceil(0.9 * static_cast<double>(n)));
  t.p90_ms = samples_ms[std::max<size_t>(rank, 1) - 1];
  return t;
}

}  // namespace seam::profile
