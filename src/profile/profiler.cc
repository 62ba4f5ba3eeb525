#include "profile/profiler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <set>

#include "profile/cpu_quota.h"
#include "profile/host_info.h"
#include "profile/node_profiler.h"
#include "transport/codec_spec.h"

namespace seam::profile {

Status ValidateProfileOptions(const ProfileOptions& options, int logical_cores) {
  if (options.tier.empty()) return InvalidArgument("--tier: give the tier a name, e.g. 'device'");
  if (options.timer.runs < 1) {
    return InvalidArgument("--runs " + std::to_string(options.timer.runs) + ": must be at least 1");
  }
  if (options.timer.warmup < 0) {
    return InvalidArgument("--warmup " + std::to_string(options.timer.warmup) +
                           ": must be 0 or more");
  }
  if (options.timer.threads < 1) {
    return InvalidArgument("--threads " + std::to_string(options.timer.threads) +
                           ": must be at least 1");
  }
  if (options.prefixes < 0) {
    return InvalidArgument("--prefixes " + std::to_string(options.prefixes) +
                           ": must be 0 or more");
  }
  if (options.tiles < 0) {
    return InvalidArgument("--tiles " + std::to_string(options.tiles) + ": must be 0 or more");
  }
  if (options.segments < 0) {
    return InvalidArgument("--segments " + std::to_string(options.segments) +
                           ": must be 0 or more");
  }
  for (const std::string& codec : options.codecs) {
    if (Status s = transport::ParseCodec(codec).status(); !s.ok()) {
      return s.WithContext("--codecs");
    }
  }
  if (!options.codecs.empty() && options.codec_tensors < 1) {
    return InvalidArgument("--codec-tensors " + std::to_string(options.codec_tensors) +
                           ": must be at least 1");
  }
  if (options.cpu_quota != 0) return ValidateCpuQuota(options.cpu_quota, logical_cores);
  return Status::Ok();
}

namespace {

// Ops that ONNX Runtime fuses into the op before them (Conv + BatchNormalization + Relu, MatMul +
// Add...): a zone that started at one would cut the fusion, and its tile would measure the broken
// fusion rather than the zone.
bool FusesIntoPredecessor(const std::string& op_type) {
  static const std::set<std::string> kFollowers = {
      "Add",  "BatchNormalization", "Clip", "Div",     "Elu",   "Gelu", "HardSigmoid", "HardSwish",
      "LeakyRelu", "Mul", "Relu", "Selu", "Sigmoid", "Softplus", "Sub", "Sum", "Tanh"};
  return kFollowers.count(op_type) > 0;
}

// First positions of up to `zones` contiguous zones, cut where (fraction of nodes + fraction of
// node time) / 2 passes k / zones, heavy early nodes and many light late ones both getting zones;
// a zone starts at the first node from there on that does not fuse into its predecessor.
std::vector<int> MassStarts(const std::vector<NodeTiming>& nodes, int zones) {
  const int n = static_cast<int>(nodes.size());
  double total = 0;
  for (const auto& node : nodes) total += std::max(node.time.median_ms, 0.0);
  std::vector<int> starts = {0};
  double time_before = 0;
  for (int i = 0; i < n; ++i) {
    const double mass = (static_cast<double>(i) / n + (total > 0 ? time_before / total : 0)) / 2;
    if (i > starts.back() && static_cast<int>(mass * zones) >= static_cast<int>(starts.size()) &&
        !FusesIntoPredecessor(nodes[i].op_type)) {
      starts.push_back(i);
    }
    time_before += std::max(nodes[i].time.median_ms, 0.0);
  }
  return starts;
}

}  // namespace

std::vector<std::pair<int, int>> PrefixSegments(const std::vector<NodeTiming>& nodes,
                                                int prefixes) {
  std::vector<std::pair<int, int>> segments;
  if (nodes.size() < 2 || prefixes < 1) return segments;
  const std::vector<int> ends = MassStarts(nodes, prefixes + 1);
  for (size_t z = 1; z < ends.size(); ++z) segments.emplace_back(0, ends[z] - 1);
  return segments;
}

std::vector<std::pair<int, int>> TileSegments(const std::vector<NodeTiming>& nodes, int tiles) {
  const int n = static_cast<int>(nodes.size());
  std::vector<std::pair<int, int>> segments;
  if (n < 2 || tiles < 2) return segments;
  std::vector<int> starts = MassStarts(nodes, tiles);
  starts.push_back(n);
  // The first zone's tile is its second half: a tile from node 0 would be a prefix.
  if (starts.size() > 2 && starts[1] >= 2) {
    int half = starts[1] / 2;
    while (half + 1 < starts[1] && FusesIntoPredecessor(nodes[half].op_type)) ++half;
    segments.emplace_back(half, starts[1] - 1);
  }
  for (size_t z = 1; z + 1 < starts.size(); ++z) {
    segments.emplace_back(starts[z], starts[z + 1] - 1);
  }
  return segments;
}

std::vector<std::pair<int, int>> TilePairSegments(const std::vector<NodeTiming>& nodes,
                                                  int tiles) {
  const std::vector<std::pair<int, int>> single = TileSegments(nodes, tiles);
  std::vector<std::pair<int, int>> pairs;
  for (size_t i = 0; i + 1 < single.size(); ++i) {
    pairs.emplace_back(single[i].first, single[i + 1].second);
  }
  return pairs;
}

std::vector<std::pair<int, int>> SampleSegments(int num_nodes, int count, uint64_t seed,
                                                const std::vector<std::pair<int, int>>& exclude) {
  std::set<std::pair<int, int>> taken(exclude.begin(), exclude.end());
  taken.insert({0, num_nodes - 1});
  std::vector<std::pair<int, int>> sample;
  if (num_nodes < 1) return sample;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> log_length(0.0, std::log(num_nodes + 1.0));
  // Rejection sampling; a bounded number of tries, so a small model with few distinct segments
  // gives fewer than `count` rather than looping.
  for (int tries = 0; tries < 1000 * std::max(count, 1) && static_cast<int>(sample.size()) < count;
       ++tries) {
    const int length = std::clamp(static_cast<int>(std::exp(log_length(rng))), 1, num_nodes);
    const int first = std::uniform_int_distribution<int>(0, num_nodes - length)(rng);
    const std::pair<int, int> segment{first, first + length - 1};
    if (taken.insert(segment).second) sample.push_back(segment);
  }
  return sample;
}

Result<Profile> ProfileModel(const std::string& model_path, const ProfileOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const HostInfo host = ReadHostInfo();
  SEAM_RETURN_IF_ERROR(ValidateProfileOptions(options, host.logical_cores));
  // Before any session exists: ORT's threads then start inside the limited group.
  std::unique_ptr<CpuQuota> quota;
  if (options.cpu_quota > 0) quota = CpuQuota::Apply(options.cpu_quota);

  TimerSettings settings = options.timer;
  if (quota && quota->applied()) {
    settings.min_batch_ms = std::max(settings.min_batch_ms, kQuotaMinBatchMs);
  }
  SEAM_ASSIGN_OR_RETURN(auto timer, SegmentTimer::Create(model_path, settings));
  Profile p;
  p.tier = options.tier;
  p.model_path = model_path;
  p.model_sha256 = timer->model().sha256;
  p.model_nodes = timer->num_nodes();
  p.cpu = host.cpu;
  p.logical_cores = host.logical_cores;
  p.memory_bytes = host.memory_bytes;
  p.threads = options.timer.threads;
  p.cpu_quota = options.cpu_quota;
  p.quota_applied = quota && quota->applied();
  p.quota_mechanism = quota ? quota->mechanism() : "none";
  p.quota_note = quota ? quota->note() : "";
  p.runs = options.timer.runs;
  p.warmup = options.timer.warmup;
  p.seed = options.timer.seed;
  p.min_batch_ms = settings.min_batch_ms;
  p.runtime = runtime::RuntimeVersion();

  SEAM_ASSIGN_OR_RETURN(p.per_run_overhead, timer->MeasureOverhead());
  SEAM_ASSIGN_OR_RETURN(p.whole_model, timer->MeasureWhole());
  // Node times are relative work, scaled to this tier by the latency model's fit on segments:
  // taken unthrottled, a kernel longer than a throttling slice is not inflated more than others.
  if (quota) SEAM_RETURN_IF_ERROR(quota->Suspend());
  auto nodes = MeasureNodes(*timer);
  if (quota) SEAM_RETURN_IF_ERROR(quota->Resume());
  if (!nodes.ok()) return nodes.status();
  p.nodes = std::move(nodes).value();
  p.segments.push_back(
      {0, p.model_nodes - 1, p.whole_model, timer->BoundaryBytes(0, p.model_nodes - 1), "whole"});
  std::vector<std::pair<std::pair<int, int>, const char*>> plan;
  std::vector<std::pair<int, int>> planned;
  for (const auto& s : PrefixSegments(p.nodes, options.prefixes)) plan.push_back({s, "prefix"});
  for (const auto& s : TileSegments(p.nodes, options.tiles)) plan.push_back({s, "tile"});
  for (const auto& s : TilePairSegments(p.nodes, options.tiles)) plan.push_back({s, "pair"});
  for (const auto& [s, kind] : plan) planned.push_back(s);
  for (const auto& s : SampleSegments(p.model_nodes, options.segments, options.timer.seed, planned)) {
    plan.push_back({s, "sample"});
  }
  for (const auto& [segment, kind] : plan) {
    const auto [first, last] = segment;
    SEAM_ASSIGN_OR_RETURN(Timing t, timer->MeasureSegment(first, last));
    p.segments.push_back({first, last, t, timer->BoundaryBytes(first, last), kind});
  }
  if (!options.codecs.empty()) {
    SEAM_ASSIGN_OR_RETURN(std::vector<Tensor> activations,
                          SampleActivations(*timer, options.codec_tensors));
    if (!activations.empty()) {
      CodecTimerSettings codec_settings;
      codec_settings.min_batch_ms = std::max(codec_settings.min_batch_ms, settings.min_batch_ms);
      SEAM_ASSIGN_OR_RETURN(p.codecs, MeasureCodecs(activations, options.codecs, codec_settings));
    }
  }
  p.profile_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return p;
}

}  // namespace seam::profile
