// Codec throughput and compression on this tier, measured on the model's own activations: the
// `codecs` list of a profile, which the planner reads to price each tensor on each link.
//
// Activations, not synthetic data, because what zstd and lz4 gain depends on the values (ReLU
// zeros, smooth feature maps) and what every codec costs depends on the sizes (a 4 KB tensor pays
// per-call costs a 4 MB one does not). The largest few FP32 tensors that some cut could send are
// taken from one real run of the model on the timer's inputs. Throughput is measured by the
// calling thread in this process, so under a CPU quota (cpu_quota.h) it reflects the quota.
//
// Not thread-safe (it times work; run nothing else meanwhile).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"
#include "profile_format/profile.h"
#include "profile/segment_timer.h"

namespace seam::profile {

// What `seam profile` measures by default: every codec the planner may choose besides identity
// (which is free), the lossy ones only where an accuracy calibration allows them.
const std::vector<std::string>& DefaultProfiledCodecs();

// The `count` largest FP32 tensors, by bytes at the timer's shapes, that are produced by a compute
// node and read by another (those a cut can send; model outputs are left out), from one run of
// the model (graph optimisations disabled, every chosen tensor made a graph output). Fewer when
// the model has fewer; largest first.
Result<std::vector<Tensor>> SampleActivations(const SegmentTimer& timer, int count);

struct CodecTimerSettings {
  int reps = 3;  // timed samples per codec and direction; their median is reported
  // Each sample repeats its step over all tensors until at least this long (see TimerSettings:
  // under a CPU quota a sample must span many scheduler periods).
  double min_batch_ms = 20;
};

// For each codec (a spec as codec_spec.h parses it): encode = Encode + Serialize (a tensor to its
// wire bytes), decode = ParseEncoded + Decode (wire bytes to a tensor), each in GB of the FP32
// input per second, median over `reps` samples after one untimed pass; ratio = serialized bytes /
// original bytes, summed over the tensors. INVALID_ARGUMENT for an unknown codec or no tensors.
Result<std::vector<CodecThroughput>> MeasureCodecs(const std::vector<Tensor>& tensors,
                                                   const std::vector<std::string>& codecs,
                                                   const CodecTimerSettings& settings);

}  // namespace seam::profile
