// Summaries of repeated measurements: what a profile stores of each timed thing.
#pragma once

#include <vector>

#include "profile_format/profile.h"

namespace seam::profile {

// Median (mean of the two middle samples for an even count) and 90th percentile (nearest rank)
// of samples in milliseconds. The median because the hosts seam profiles on are shared and noisy:
// it ignores the few runs a neighbour or the scheduler slowed down. {0, 0} for no samples.
Timing Summarize(std::vector<double> samples_ms);

}  // namespace seam::profile
