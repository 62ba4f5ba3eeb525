// Checking latency predictions against measurement: the accuracy test and benchmark of issue 5
// item 2 (predict any segment within 10% mean absolute percentage error).
//
// The predictor is a callback, so this layer does not depend on the planner that owns the
// latency model (src/plan/latency_model.h); callers pass e.g.
//   [&](int f, int l, int64_t boundary_bytes) { return model.PredictMs(f, l, boundary_bytes); }.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "common/status.h"
#include "profile/segment_timer.h"

namespace seam::profile {

struct SegmentCheck {
  int first = 0;
  int last = 0;
  int64_t boundary_bytes = 0;  // SegmentTimer::BoundaryBytes (0 when unknown)
  double measured_ms = 0;      // median
  double predicted_ms = 0;
  double ape_percent() const;  // |predicted - measured| / measured * 100
};

struct PredictionCheck {
  std::vector<SegmentCheck> segments;
  double mape_percent = 0;     // mean of ape_percent() over segments
  double max_ape_percent = 0;  // the worst one
};

// Up to `count` distinct random segments [first, last] of `num_nodes` nodes (both ends uniform,
// then ordered), never the whole model nor one of `exclude` (e.g. those a profile was fitted on).
std::vector<std::pair<int, int>> RandomSegments(int num_nodes, int count, uint64_t seed,
                                                const std::vector<std::pair<int, int>>& exclude);

// predict(first, last, boundary_bytes): the predicted median latency of the segment in ms.
using SegmentPredictor = std::function<double(int, int, int64_t)>;

// Measures each of `segments` with `timer` and compares it with the prediction.
Result<PredictionCheck> CheckPredictions(SegmentTimer& timer, const SegmentPredictor& predict,
                                         const std::vector<std::pair<int, int>>& segments);

}  // namespace seam::profile
