// LatencyModel: the predicted latency of any contiguous segment of a model on one tier, from that
// tier's profile alone (pure: no model is run, no ONNX Runtime is linked).
//
//   PredictMs(first, last, boundary_bytes)
//       = a + b * (sum of node medians over positions first..last) + c * boundary_bytes
//
// The node medians are ORT's kernel times with graph optimisations disabled (so every node is
// timed under its own name); a deployed segment runs optimised. Three terms bridge the gap:
//  - a (ms) is the fixed cost of one Run of a segment: ORT's call overhead. It depends neither on
//    the segment's length nor on its edges.
//  - b (dimensionless) is the ratio of optimised to unoptimised kernel time, averaged over the
//    model: fusions (Conv+Relu, Conv+Add, BatchNorm folded into Conv), blocked layouts and
//    eliminated nodes make it typically < 1.
//  - c (ms per byte) prices the segment's edges: boundary_bytes are the bytes of its inputs plus
//    outputs (graph::SegmentBoundary, at the profiled shapes). ONNX Runtime's NCHWc optimisation
//    converts (reorders) every tensor entering or leaving the blocked-layout region of a session,
//    and a cut inside that region makes its crossing tensors such edges; reorders are
//    memory-bound, so their cost grows with the bytes. Copying outputs out of ORT counts too.
// a, b and c are fitted by weighted least squares on the profile's measured segments (including
// the whole model), weighting each by 1/measured^2 so that it minimises relative error (the
// prediction is judged by its mean absolute percentage error, and short segments must not be
// swamped by long ones), with a >= 0 and c >= 0 (the best fit over the subsets of {a, c} held at
// 0). c is fitted only when every segment records its boundary bytes (profiles older than the
// field do not) and they separate it from a and b; it is 0 otherwise. With fewer than two
// segments of distinct node time, or no fit with a positive b, the fallback is a = per-run
// overhead, b = (whole - overhead) / sum of all node medians, c = 0.
//
// Fusion across a cut: b averages the optimisation effect over the whole model, so a segment
// whose cut breaks a fusion (a Conv in one segment, its Relu in the next) runs slightly slower
// than predicted: the unfused node now runs alone. The error is bounded by that node's own
// (unoptimised) share, typically an element-wise op worth a few percent of the segment. Layout
// conversions that a cut adds at the segment's edges are c's part.
//
// Immutable after fitting; safe to share between threads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "profile_format/profile.h"

namespace seam::plan {

// Where a segment starts decides how ONNX Runtime optimises its first nodes (see above).
enum class SegmentStart {
  kModelInput,  // first == 0: the segment begins like the whole model
  kInside,      // first > 0: the segment begins at a cut
};

class LatencyModel {
 public:
  // Compute nodes of the profiled model (positions 0..num_nodes()-1 in the analysis order).
  int num_nodes() const { return static_cast<int>(node_ms_.size()); }
  // Predicted median latency in ms of segment [first, last], run optimised as one ORT session
  // whose inputs plus outputs take `boundary_bytes` bytes. Requires 0 <= first <= last <
  // num_nodes() and boundary_bytes >= 0; NaN otherwise.
  double PredictMs(int first, int last, int64_t boundary_bytes) const;
  // The node's additive share in ms, its scale times its median, in a segment that starts as
  // `start` says: PredictMs(f, l, B) equals overhead_ms() + ms_per_boundary_byte() * B plus the
  // sum of PredictNodeMs(i, f == 0 ? kModelInput : kInside) over f..l, so a planner can use
  // additive per-node costs, a fixed per-tier cost and a cost per byte of each crossing tensor.
  // NaN for a position out of range.
  double PredictNodeMs(int position, SegmentStart start) const;
  double overhead_ms() const { return a_ms_; }                    // a: fixed cost per Run, ms
  double ms_per_boundary_byte() const { return c_ms_per_byte_; }  // c: ms per boundary byte
  // The scale b of the zone holding `position` (optimised / unoptimised kernel time) for a
  // segment that starts as `start` says; NaN out of range.
  double ScaleAt(int position, SegmentStart start) const;
  // The zones of the scales for segments that start as `start` says: first position of each.
  const std::vector<int>& zone_starts(SegmentStart start) const;
  // How the terms were obtained: "non-negative least squares: ..." naming the zones and whether
  // the two starts have scales apart, with a note when c could not be fitted; or "fallback: ...".
  const std::string& method() const { return method_; }

 private:
  friend Result<LatencyModel> FitLatencyModel(const profile::Profile& profile);
  std::vector<double> node_ms_;       // unoptimised medians by position
  std::vector<int> input_starts_;     // zones for segments from the model input; from 0, ascending
  std::vector<int> inside_starts_;    // zones for the others
  std::vector<double> input_scale_;   // per zone of input_starts_
  std::vector<double> inside_scale_;  // per zone of inside_starts_
  double a_ms_ = 0;
  double c_ms_per_byte_ = 0;
  std::string method_;
};

// Fits the model to a profile. INVALID_ARGUMENT for a profile it cannot use, naming the problem:
// no nodes, a node count that disagrees with model.nodes, a segment outside the nodes, negative
// or non-finite times, or all node times 0.
Result<LatencyModel> FitLatencyModel(const profile::Profile& profile);

}  // namespace seam::plan
