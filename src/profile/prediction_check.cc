#include "profile/prediction_check.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <set>

namespace seam::profile {

double SegmentCheck::ape_percent() const {
  return std::abs(predicted_ms - measured_ms) / measured_ms * 100;
}

std::vector<std::pair<int, int>> RandomSegments(int num_nodes, int count, uint64_t seed,
                                                const std::vector<std::pair<int, int>>& exclude) {
  std::vector<std::pair<int, int>> segments;
  if (num_nodes < 1) return segments;
  std::set<std::pair<int, int>> taken(exclude.begin(), exclude.end());
  taken.insert({0, num_nodes - 1});
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> position(0, num_nodes - 1);
  for (int tries = 0;
       tries < 1000 * std::max(count, 1) && static_cast<int>(segments.size()) < count; ++tries) {
    const int a = position(rng), b = position(rng);
    const std::pair<int, int> segment{std::min(a, b), std::max(a, b)};
    if (taken.insert(segment).second) segments.push_back(segment);
  }
  return segments;
}

Result<PredictionCheck> CheckPredictions(SegmentTimer& timer, const SegmentPredictor& predict,
                                         const std::vector<std::pair<int, int>>& segments) {
  PredictionCheck check;
  double sum = 0;
  for (const auto& [first, last] : segments) {
    SEAM_ASSIGN_OR_RETURN(Timing t, timer.MeasureSegment(first, last));
    const int64_t bytes = timer.BoundaryBytes(first, last).value_or(0);
    SegmentCheck c{first, last, bytes, t.median_ms, predict(first, last, bytes)};
    if (!(c.measured_ms > 0)) {
      return Internal("segment [" + std::to_string(first) + "," + std::to_string(last) +
                      "] measured 0 ms; cannot compare relative errors");
    }
    sum += c.ape_percent();
    check.max_ape_percent = std::max(check.max_ape_percent, c.ape_percent());
    check.segments.push_back(c);
  }
  if (!check.segments.empty()) check.mape_percent = sum / check.segments.size();
  return check;
}

}  // namespace seam::profile
