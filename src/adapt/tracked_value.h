// TrackedValue: an online estimate of a positive quantity (a link's bandwidth, a tier's speed
// factor, a remote part's latency) from noisy samples, robust to outliers and quick on real
// changes. Pure: no clock, no threads; the caller feeds samples in order.
//
// How: an EWMA in log space (ratios, not differences, are what "20% slower" means), whose update
// is clipped to +-`band` so that one wild sample moves it by at most alpha * band; and a change
// detector: `confirm` samples in a row outside the band on the same side mean the quantity has
// really moved, and the estimate jumps to their geometric mean at once instead of creeping there.
//
// With the defaults (alpha 0.2, band x1.5, confirm 3): a single 10x spike moves the estimate by
// ~8%; a step to half or double is followed within 3 samples; +-20% noise never triggers a jump.
#pragma once

#include <cstdint>
#include <optional>

#include "common/status.h"

namespace seam::adapt {

struct TrackerConfig {
  double alpha = 0.2;  // EWMA weight of a new sample, in (0, 1]
  double band = 1.5;   // a sample beyond estimate*band or estimate/band is an outlier, > 1
  int confirm = 3;     // outliers in a row on one side that mean a real change, >= 1

  Status Validate() const;
};

class TrackedValue {
 public:
  explicit TrackedValue(TrackerConfig config = {});

  // Feeds one sample (> 0; others are ignored). Returns true when it confirmed a change.
  bool Observe(double sample);
  // Starts from a prior (e.g. a profile's figure) as if it had been observed.
  void Prime(double value);

  bool known() const { return samples_ > 0; }
  double value() const;  // 0 while unknown
  int64_t samples() const { return samples_; }
  int64_t changes() const { return changes_; }

 private:
  TrackerConfig config_;
  double log_value_ = 0;
  int64_t samples_ = 0;
  int64_t changes_ = 0;
  int run_side_ = 0;        // -1 below, +1 above the band, 0 inside
  int run_length_ = 0;      // outliers in a row on run_side_
  double run_log_sum_ = 0;  // their logs
};

}  // namespace seam::adapt
