// Profiling one model on this host as one tier: what `seam profile` does, as a library call.
//
// In order: the CPU quota is applied (before any ONNX Runtime session exists, so every thread
// inherits it); then per-run overhead, the whole model as deployed, every compute node with ORT's
// profiler (node_profiler.h) and a seeded sample of contiguous segments (segment_timer.h), each
// `warmup` runs then `runs` timed ones, summarised by median and p90. The whole model is also
// recorded as segment [0, n-1]. Then each codec of `codecs` on the model's largest activations
// (codec_profiler.h), inside the quota. Power and prices stay 0: they cannot be measured from
// inside a process (see docs/profile.md).
//
// Not thread-safe: one profile at a time per process (the quota applies to the whole process).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "profile/codec_profiler.h"
#include "profile_format/profile.h"
#include "profile/segment_timer.h"

namespace seam::profile {

struct ProfileOptions {
  std::string tier;
  TimerSettings timer;   // threads, runs, warmup, seed
  double cpu_quota = 0;  // CPU time per wall time (0.5 = half a core); 0 = no quota
  int prefixes = 3;      // prefixes measured besides the whole model (PrefixSegments)
  int tiles = 8;         // zones measured alone, and in neighbouring pairs (TileSegments)
  int segments = 2;      // random segments besides those and the whole model (SampleSegments)
  // Codecs whose throughput and ratio are measured (codec_profiler.h), on up to
  // `codec_tensors` of the model's largest activations.
  std::vector<std::string> codecs = DefaultProfiledCodecs();
  int codec_tensors = 4;
};

// Checks the options against this host: a tier name, runs >= 1, warmup >= 0, threads >= 1,
// prefixes, tiles and segments >= 0, codec_tensors >= 1 when codecs are asked for, codecs that
// parse, and a quota of 0 (none) or between 0.01 and `logical_cores`.
Status ValidateProfileOptions(const ProfileOptions& options, int logical_cores);

// Measures the model at `model_path`. Fails on a model that cannot be loaded or run, not on a
// quota that cannot be applied (the profile records that instead).
Result<Profile> ProfileModel(const std::string& model_path, const ProfileOptions& options);

// The segments that let the latency model learn how the optimisation gain varies along the model
// (src/plan/latency_model.h), in two families, because a segment that starts at the model input
// is optimised like the whole model while one that starts at a cut can lose layout optimisations
// from its first node on. Zones are cut where (fraction of nodes + fraction of node time) / 2
// passes k / zones, so that heavy early nodes and the many light late ones both get zones, but
// never right before a node that ONNX Runtime fuses into the one before it (Relu after Conv,
// BatchNormalization, Add...), so that no measured segment breaks a fusion the zone has. A zone
// holds at least one node, so small models get fewer. `nodes` are the node timings by position.
// Deterministic.
//
// `prefixes` prefixes [0, e], their ends cutting the model into prefixes + 1 zones.
std::vector<std::pair<int, int>> PrefixSegments(const std::vector<NodeTiming>& nodes,
                                                int prefixes);
// The model cut into `tiles` zones, each measured alone: a tiling, but the first zone's tile is
// its second half, since a tile from node 0 would be a prefix.
std::vector<std::pair<int, int>> TileSegments(const std::vector<NodeTiming>& nodes, int tiles);
// Each two neighbouring tiles as one segment. A pair runs the same nodes as its two tiles with
// one cut fewer, so pairs and tiles together pin what a cut costs (the latency model's c), which
// tiles alone leave to trade off against each zone's scale.
std::vector<std::pair<int, int>> TilePairSegments(const std::vector<NodeTiming>& nodes,
                                                  int tiles);

// Up to `count` distinct contiguous segments [first, last] of `num_nodes` nodes, never the whole
// model nor one of `exclude`. Lengths are log-uniform, so short segments (where the fixed cost
// per run dominates) and long ones (where node times dominate) are both represented; positions
// are uniform. Deterministic for a seed.
std::vector<std::pair<int, int>> SampleSegments(int num_nodes, int count, uint64_t seed,
                                                const std::vector<std::pair<int, int>>& exclude);

}  // namespace seam::profile
