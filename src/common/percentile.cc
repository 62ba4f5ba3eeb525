#include "common/percentile.h"

#include <algorithm>
#include <cmath>

namespace seam {

double Percentile(std::vector<double> sample, double p) {
  if (sample.empty()) return 0;
  std::sort(sample.begin(), sample.end());
  const double rank = std::ceil(std::clamp(p, 0.0, 1.0) * static_cast<double>(sample.size()));
  return sample[std::min(sample.size(), static_cast<size_t>(std::max(1.0, rank))) - 1];
}

}  // namespace seam
