// The p-th percentile (0..1) of a sample by the nearest-rank method: the smallest value with at
// least p of the sample at or below it. 0 for an empty sample.
#pragma once

#include <vector>

namespace seam {

double Percentile(std::vector<double> sample, double p);

}  // namespace seam
