#include "server/repository_plan.h"

#include <algorithm>
#include <set>

namespace seam::server {
namespace {

// The versions to unload among `ready` (ascending) given that `wanted` ones should serve.
void PlanUnloads(const std::string& name, const std::vector<int64_t>& ready,
                 const std::set<int64_t>& wanted, bool any_wanted_ready,
                 const ScannedModel* scanned, RepositoryPlan& plan) {
  std::vector<int64_t> unwanted;
  for (int64_t v : ready) {
    if (!wanted.contains(v)) unwanted.push_back(v);
  }
  // Without a ready wanted version, the highest unwanted ready version stays as the fallback.
  if (!any_wanted_ready && !unwanted.empty()) unwanted.pop_back();
  for (int64_t v : unwanted) {
    std::string reason;
    if (!scanned) {
      reason = "the model's directory is gone";
    } else if (!scanned->versions.contains(v)) {
      reason = "its version directory is gone";
    } else {
      reason = "not selected by the version policy";
    }
    plan.unloads.push_back({name, v, reason});
  }
}

}  // namespace

const char* VersionStateName(VersionState state) {
  switch (state) {
    case VersionState::kLoading:
      return "LOADING";
    case VersionState::kReady:
      return "READY";
    case VersionState::kUnavailable:
      return "UNAVAILABLE";
  }
  return "UNAVAILABLE";
}

std::string VersionFingerprint(const ScannedModel& model, int64_t version) {
  auto it = model.versions.find(version);
  const std::string file = it == model.versions.end() ? "" : it->second;
  return file + "|" + model.config_fingerprint;
}

RepositoryPlan PlanRepository(const RepositoryState& state, const RepositoryScan& scan,
                              const PlanRequest& request) {
  std::set<std::string> names;
  for (const auto& [name, unused] : scan.models) names.insert(name);
  for (const auto& [name, unused] : state) names.insert(name);

  RepositoryPlan plan;
  static const ModelStatus kNothingLoaded;
  for (const auto& name : names) {
    if (request.model && *request.model != name) continue;
    auto state_it = state.find(name);
    const ModelStatus& current = state_it == state.end() ? kNothingLoaded : state_it->second;
    if (current.unloaded_by_request) continue;
    auto scan_it = scan.models.find(name);
    const ScannedModel* scanned = scan_it == scan.models.end() ? nullptr : &scan_it->second;
    if (scanned && !scanned->config) continue;  // invalid config: keep what serves

    // A version that failed to load on the files it has now, and serves nothing, is left out
    // before the policy selects: with "latest N" the newest good versions serve instead (a
    // tampered newest version after a restart). A forced load retries what the policy selects
    // among every version, without counting the retries as wanted: what serves stays until a
    // retry succeeds.
    std::set<int64_t> wanted, retries;
    if (scanned) {
      std::vector<int64_t> present, good;
      for (const auto& [v, unused] : scanned->versions) {
        auto it = current.versions.find(v);
        const bool refused = it != current.versions.end() &&
                             it->second.state != VersionState::kReady &&
                             !it->second.failed_fingerprint.empty() &&
                             it->second.failed_fingerprint == VersionFingerprint(*scanned, v);
        present.push_back(v);
        if (!refused) good.push_back(v);
      }
      const auto& policy = scanned->config->version_policy;
      for (int64_t v : repository::SelectVersions(policy, good)) wanted.insert(v);
      if (request.force) {
        for (int64_t v : repository::SelectVersions(policy, present)) {
          if (!wanted.contains(v)) retries.insert(v);
        }
      }
    }

    bool any_wanted_ready = false;
    std::vector<int64_t> ready;
    for (const auto& [v, status] : current.versions) {
      if (status.state != VersionState::kReady) continue;
      ready.push_back(v);
      any_wanted_ready = any_wanted_ready || wanted.contains(v);
    }

    const size_t loads_before = plan.loads.size();
    for (int64_t v : retries) plan.loads.push_back({name, v, VersionFingerprint(*scanned, v)});
    for (int64_t v : wanted) {
      const std::string fingerprint = VersionFingerprint(*scanned, v);
      auto it = current.versions.find(v);
      if (it != current.versions.end()) {
        const VersionStatus& status = it->second;
        if (status.state == VersionState::kLoading) continue;
        if (status.state == VersionState::kReady && status.loaded_fingerprint == fingerprint) {
          continue;
        }
        if (status.failed_fingerprint == fingerprint && !request.force) continue;
      }
      plan.loads.push_back({name, v, fingerprint});
    }
    // Unloads wait until this model's loads are done (the next round): a load that fails must
    // not have cost a version that served.
    if (plan.loads.size() == loads_before) {
      PlanUnloads(name, ready, wanted, any_wanted_ready, scanned, plan);
    }
  }
  return plan;
}

}  // namespace seam::server
