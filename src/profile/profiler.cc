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
  if (options.segments < 0) {
    return InvalidArgument("--segments " + std::to_string(options.segments) +
                           ": must be 0 or more");
  }
  if (options.cpu_quota != 0) return ValidateCpuQuota(options.cpu_quota, logical_cores);
  return Status::Ok();
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
  p.segments.push_back({0, p.model_nodes - 1, p.whole_model});
  for (const auto& [first, last] :
       SampleSegments(p.model_nodes, options.segments, options.timer.seed, {})) {
    SEAM_ASSIGN_OR_RETURN(Timing t, timer->MeasureSegment(first, last));
    p.segments.push_back({first, last, t});
  }
  p.profile_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return p;
}

}  // namespace seam::profile
