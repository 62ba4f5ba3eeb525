// SegmentTimer: how long one model, its contiguous segments and an empty run take on this host,
// each measured as it would be deployed (ONNX Runtime graph optimisations enabled), on the same
// random inputs. `seam profile` samples segments with it; tests and benchmarks use it to measure
// segments that a profile did not, to check predictions against.
//
// A segment [first, last] is a range of positions in GraphView::order() (the analysis order of
// compute nodes). It is cut out with the graph layer's own splitting (boundaries after node
// first-1 and after node last) into a scratch directory, exactly as `seam split` would write it;
// its inputs come from running the segments before it once; then it alone is timed.
//
// Owns a scratch directory, removed by the destructor. Not thread-safe: time one thing at a time
// (concurrent runs would measure each other).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"
#include "graph/graph_view.h"
#include "graph/model_loader.h"
#include "graph/shape_inference.h"
#include "profile_format/profile.h"
#include "runtime/session.h"

namespace seam::profile {

struct TimerSettings {
  int threads = 1;    // ONNX Runtime intra-op threads
  int runs = 20;      // timed samples per measurement; summarised by median and p90
  int warmup = 3;     // untimed runs before them (arena growth, caches, lazy kernel setup)
  uint64_t seed = 1;  // of the random inputs (dynamic dimensions = 1)
  // Each sample is the mean time per Run over a batch of back-to-back Runs lasting at least this
  // long (one Run when a Run alone lasts that long). Batches make microsecond-scale segments
  // measurable, and under a CPU quota they must span many scheduler periods, or a sample would
  // see either no throttling or a whole stall (see cpu_quota.h).
  double min_batch_ms = 1;
};

class SegmentTimer {
 public:
  static Result<std::unique_ptr<SegmentTimer>> Create(const std::string& model_path,
                                                      const TimerSettings& settings);
  ~SegmentTimer();
  SegmentTimer(const SegmentTimer&) = delete;
  SegmentTimer& operator=(const SegmentTimer&) = delete;

  const graph::LoadedModel& model() const { return *model_; }
  const graph::GraphView& view() const { return *view_; }
  int num_nodes() const { return static_cast<int>(view_->order().size()); }
  const TensorMap& inputs() const { return inputs_; }
  const TimerSettings& settings() const { return settings_; }
  const std::string& scratch_dir() const { return scratch_; }
  // Types of every tensor: symbolic (as segments are cut) and with dynamic dimensions = 1.
  const graph::TypeTable& symbolic_types() const { return types_; }
  const graph::TypeTable& fixed_types() const { return fixed_types_; }

  // The model file itself, one Run per sample.
  Result<Timing> MeasureWhole();
  // Segment [first, last]; the whole model when it spans every node. Milliseconds per Run.
  Result<Timing> MeasureSegment(int first, int last);
  // Bytes of segment [first, last]'s inputs plus outputs (graph::SegmentBoundary) at the shapes
  // the timer runs (dynamic dimensions = 1); nullopt when a boundary tensor's size depends on data
  // or the range is invalid.
  std::optional<int64_t> BoundaryBytes(int first, int last) const;
  // A Run of a model that computes nothing (Identity on one float): the fixed cost of a call
  // into ONNX Runtime.
  Result<Timing> MeasureOverhead();

 private:
  SegmentTimer() = default;

  TimerSettings settings_;
  std::unique_ptr<graph::LoadedModel> model_;  // the view points into it: heap, so it stays put
  std::unique_ptr<graph::GraphView> view_;
  graph::TypeTable types_;        // symbolic: what segments are cut with
  graph::TypeTable fixed_types_;  // dynamic dimensions = 1: what boundary bytes are counted at
  std::unique_ptr<runtime::Session> whole_;
  TensorMap inputs_;
  std::string scratch_;
};

// Times session.Run(inputs) with steady_clock: `warmup` untimed Runs, then `runs` samples, each
// the mean per Run over a batch lasting at least `min_batch_ms`; in milliseconds.
Result<Timing> TimeRuns(const runtime::Session& session, const TensorMap& inputs, int warmup,
                        int runs, double min_batch_ms);

// A fresh directory under the system temporary directory, named after `stem`, the pid and a
// counter.
Result<std::string> MakeScratchDir(const std::string& stem);

}  // namespace seam::profile
