// Profiling one model on this host as one tier: what `seam profile` does, as a library call.
//
// In order: the CPU quota is applied (before any ONNX Runtime session exists, so every thread
// inherits it); then per-run overhead, the whole model as deployed, every compute node with ORT's
// profiler (node_profiler.h) and a seeded sample of contiguous segments (segment_timer.h), each
// `warmup` runs then `runs` timed ones, summarised by median and p90. The whole model is also
// recorded as segment [0, n-1]. Codec throughputs stay empty and power and prices 0: they are not
// measured here (see docs/profile.md).
//
// Not thread-safe: one profile at a time per process (the quota applies to the whole process).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "profile/profile.h"
#include "profile/segment_timer.h"

namespace seam::profile {

struct ProfileOptions {
  std::string tier;
  TimerSettings timer;   // threads, runs, warmup, seed
  double cpu_quota = 0;  // CPU time per wall time (0.5 = half a core); 0 = no quota
  int segments = 8;      // sampled segments, besides the whole model
};

// Checks the options against this host: a tier name, runs >= 1, warmup >= 0, threads >= 1,
// segments >= 0, and a quota of 0 (none) or between 0.01 and `logical_cores`.
Status ValidateProfileOptions(const ProfileOptions& options, int logical_cores);

// Measures the model at `model_path`. Fails on a model that cannot be loaded or run, not on a
// quota that cannot be applied (the profile records that instead).
Result<Profile> ProfileModel(const std::string& model_path, const ProfileOptions& options);

// Up to `count` distinct contiguous segments [first, last] of `num_nodes` nodes, never the whole
// model nor one of `exclude`. Lengths are log-uniform, so short segments (where the fixed cost
// per run dominates) and long ones (where node times dominate) are both represented; positions
// are uniform. Deterministic for a seed.
std::vector<std::pair<int, int>> SampleSegments(int num_nodes, int count, uint64_t seed,
                                                const std::vector<std::pair<int, int>>& exclude);

}  // namespace seam::profile
