// LatencyModel: the predicted latency of any contiguous segment of a model on one tier, from that
// tier's profile alone (pure: no model is run, no ONNX Runtime is linked).
//
//   PredictMs(first, last) = a + b * (sum of node medians over positions first..last)
//
// The node medians are ORT's kernel times with graph optimisations disabled (so every node is
// timed under its own name); a deployed segment runs optimised. Two terms bridge the gap:
//  - a (ms) is the fixed cost of one Run of a segment: ORT's call overhead, copying outputs out,
//    layout conversions at the segment's edges. It does not depend on the segment's length.
//  - b (dimensionless) is the ratio of optimised to unoptimised kernel time, averaged over the
//    model: fusions (Conv+Relu, Conv+Add, BatchNorm folded into Conv), blocked layouts and
//    eliminated nodes make it typically < 1.
// a and b are fitted by least squares on the profile's measured segments, including the whole
// model, weighting each by 1/measured^2 so that it minimises relative error (the prediction is
// judged by its mean absolute percentage error, and short segments must not be swamped by long
// ones). When a comes out negative it is clamped to 0 and b refitted; with fewer than two
// segments of distinct length, or a non-positive b, the fallback is a = per-run overhead,
// b = (whole - overhead) / sum of all node medians.
//
// Fusion across a cut: the factor b averages the optimisation effect over the whole model, so a
// segment whose cut breaks a fusion (a Conv in one segment, its Relu in the next) runs slightly
// slower than predicted: the unfused node now runs alone. The error is bounded by that node's own
// (unoptimised) share, typically an element-wise op worth a few percent of the segment. Layout
// conversions that an optimised segment adds at its edges are part of a.
//
// Immutable after fitting; safe to share between threads.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "profile/profile.h"

namespace seam::plan {

class LatencyModel {
 public:
  // Compute nodes of the profiled model (positions 0..num_nodes()-1 in the analysis order).
  int num_nodes() const { return static_cast<int>(prefix_ms_.size()) - 1; }
  // Predicted median latency of segment [first, last] in ms, run optimised as one ORT session.
  // Requires 0 <= first <= last < num_nodes(); NaN otherwise.
  double PredictMs(int first, int last) const;
  // The node's additive share, b * node median, in ms: PredictMs(f, l) equals overhead_ms() plus
  // the sum of PredictNodeMs over f..l, so a planner can use additive per-node costs plus a fixed
  // per-tier cost. NaN for a position out of range.
  double PredictNodeMs(int position) const;
  double overhead_ms() const { return a_ms_; }  // a: fixed cost per Run, ms
  double scale() const { return b_; }           // b: optimised / unoptimised kernel time
  // How a and b were obtained: "least-squares", "least-squares, a clamped to 0" or "fallback: ...".
  const std::string& method() const { return method_; }

 private:
  friend Result<LatencyModel> FitLatencyModel(const profile::Profile& profile);
  std::vector<double> node_ms_;    // unoptimised medians by position
  std::vector<double> prefix_ms_;  // prefix_ms_[i] = sum of node_ms_[0..i-1]
  double a_ms_ = 0;
  double b_ = 1;
  std::string method_;
};

// Fits the model to a profile. INVALID_ARGUMENT for a profile it cannot use, naming the problem:
// no nodes, a node count that disagrees with model.nodes, a segment outside the nodes, negative
// or non-finite times, or all node times 0.
Result<LatencyModel> FitLatencyModel(const profile::Profile& profile);

}  // namespace seam::plan
