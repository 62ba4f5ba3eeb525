#include "server/batching/batch_estimates.h"

#include <algorithm>
#include <cmath>

namespace seam::batching {

BatchEstimates::BatchEstimates(int64_t max_rows)
    : mean_us_(static_cast<size_t>(std::max<int64_t>(max_rows, 1)) + 1, -1.0),
      runs_(mean_us_.size(), 0) {}

void BatchEstimates::ObserveRun(int64_t rows, int64_t compute_us) {
  const auto r = static_cast<size_t>(std::clamp<int64_t>(rows, 1, mean_us_.size() - 1));
  // The first run of each size is a cold one (ONNX Runtime allocates for the new shape): skip it.
  if (++runs_[r] == 1) return;
  double& mean = mean_us_[r];
  const double us = static_cast<double>(std::max<int64_t>(compute_us, 0));
  mean = mean < 0 ? us : (1 - kWeight) * mean + kWeight * us;
}

void BatchEstimates::ObserveArrival(int64_t now_us) {
  if (last_arrival_us_) {
    const double gap = static_cast<double>(std::max<int64_t>(now_us - *last_arrival_us_, 0));
    const double log_gap = std::log1p(gap);  // 1 + gap: simultaneous arrivals are fine
    log_gap_ = log_gap_ ? (1 - kWeight) * *log_gap_ + kWeight * log_gap : log_gap;
  }
  last_arrival_us_ = now_us;
}

std::optional<BatchCost> BatchEstimates::cost() const {
  // Least squares of mean_us = fixed + per_row * rows over the sizes seen, each counted once.
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t r = 1; r < mean_us_.size(); ++r) {
    if (mean_us_[r] < 0) continue;
    const double x = static_cast<double>(r), y = mean_us_[r];
    n += 1;
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  if (n == 0) return std::nullopt;
  double ratio = 0;
  if (runs_[1] > kEvidenceRuns) {
    for (size_t r = mean_us_.size() - 1; r >= 2; --r) {
      if (runs_[r] > kEvidenceRuns && mean_us_[1] > 0) {
        ratio = mean_us_[r] / static_cast<double>(r) / mean_us_[1];
        break;
      }
    }
  }
  const double spread = n * sxx - sx * sx;
  if (n < 2 || spread <= 0) {
    return BatchCost{.fixed_us = sy / n, .per_row_us = 0, .merged_per_row_ratio = ratio};
  }
  double per_row = (n * sxy - sx * sy) / spread;
  double fixed = (sy - per_row * sx) / n;
  // Noise can tilt the line; costs are never negative.
  if (per_row < 0) {
    per_row = 0;
    fixed = sy / n;
  }
  if (fixed < 0) {
    fixed = 0;
    per_row = sxy / sxx;
  }
  return BatchCost{.fixed_us = fixed, .per_row_us = per_row, .merged_per_row_ratio = ratio};
}

std::optional<double> BatchEstimates::interarrival_us(int64_t now_us) const {
  if (!log_gap_) return std::nullopt;
  const double open = static_cast<double>(std::max<int64_t>(now_us - *last_arrival_us_, 0));
  return std::max(std::expm1(*log_gap_), open);
}

}  // namespace seam::batching
