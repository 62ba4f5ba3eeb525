// Per-node latency: every compute node of a model timed by ONNX Runtime's own profiler.
//
// The model runs with graph optimisations DISABLED, so that every node of the analysis order
// exists as one kernel under its own name (optimisations fuse and rename nodes). Before running,
// each node is given its GraphView name (unnamed nodes get "<op_type>_<index>"), so the trace's
// "<name>_kernel_time" events map one-to-one onto GraphView::order(). The times are therefore
// those of the unoptimised kernels; the latency model (src/plan/latency_model.h) scales them to
// the deployed, optimised segments.
#pragma once

#include <vector>

#include "common/status.h"
#include "profile_format/profile.h"
#include "profile/segment_timer.h"

namespace seam::profile {

// One entry per position of timer.view().order(): median and p90 over the last
// settings().runs runs, after settings().warmup warm-ups, in milliseconds.
Result<std::vector<NodeTiming>> MeasureNodes(const SegmentTimer& timer);

}  // namespace seam::profile
