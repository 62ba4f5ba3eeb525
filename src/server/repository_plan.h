// The model repository's decision, as a pure function: given what is loaded now and what the
// repository directory holds, which versions to load and which to unload next. No files, no
// threads, no clock: ModelRepository (model_repository.h) is the thin driver that scans, calls
// PlanRepository, carries the plan out, and calls it again until the plan is empty.
//
// The rules:
//   - the wanted versions of a model are those its version policy selects among the version
//     directories present; a wanted version is loaded when it is not ready, or when its files or
//     config changed since it was loaded (it keeps serving its old files until the new load is
//     ready);
//   - a load that failed is not retried while its files and config stay the same, unless the
//     request forces it (an explicit load request); such a version (serving nothing) counts as
//     absent when the policy selects, so "latest N" falls back to the newest versions that load
//     (a tampered newest version after a restart);
//   - a ready version that is not wanted is unloaded only once some wanted version is ready: a new
//     version replaces the old one only when it serves. If no wanted version is ready (the new
//     one failed, the directory was removed), the highest ready version keeps serving: the last
//     ready version of a model is never dropped by a change on disk;
//   - a model whose config.json is invalid keeps what it has; one unloaded by request stays
//     unloaded until loaded by request.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "repository/model_config.h"

namespace seam::server {

// ---- What the repository directory holds (repository_scan.h fills it). ----

struct ScannedModel {
  std::string dir;          // REPO/MODEL
  std::string config_path;  // REPO/MODEL/config.json (may be absent: defaults apply)
  std::optional<repository::ModelConfig>
      config;  // nullopt: config.json is invalid, see config_status
  Status config_status;
  std::string config_fingerprint;  // changes whenever config.json's contents change
  // Version directories (REPO/MODEL/N, N >= 1) -> fingerprint of N/model.onnx, which changes when
  // the file is replaced or rewritten; "" when the file is missing.
  std::map<int64_t, std::string> versions;
};

struct RepositoryScan {
  std::map<std::string, ScannedModel> models;  // by model name (directory name)
};

// ---- What is loaded now (the driver's state, projected). ----

enum class VersionState { kLoading, kReady, kUnavailable };
const char* VersionStateName(VersionState state);  // "LOADING", "READY", "UNAVAILABLE"

struct VersionStatus {
  VersionState state = VersionState::kUnavailable;
  std::string reason;              // why it is in that state (failed load, unloaded, ...)
  std::string loaded_fingerprint;  // kReady: the files and config it serves
  std::string failed_fingerprint;  // the files and config of its last failed load, or ""
};

struct ModelStatus {
  std::map<int64_t, VersionStatus> versions;
  bool unloaded_by_request = false;
};

using RepositoryState = std::map<std::string, ModelStatus>;

// ---- The decision. ----

struct PlanRequest {
  std::optional<std::string> model;  // only this model; nullopt: every model (startup, polling)
  bool force = false;                // retry loads that failed on the same files and config
};

struct LoadStep {
  std::string model;
  int64_t version = 0;
  std::string fingerprint;  // to record as loaded_ or failed_fingerprint
  bool operator==(const LoadStep&) const = default;
};

struct UnloadStep {
  std::string model;
  int64_t version = 0;
  std::string reason;
  bool operator==(const UnloadStep&) const = default;
};

struct RepositoryPlan {
  std::vector<LoadStep> loads;
  std::vector<UnloadStep> unloads;
  bool empty() const { return loads.empty() && unloads.empty(); }
};

// A version's fingerprint as the plan compares it: its model file and its model's config.
std::string VersionFingerprint(const ScannedModel& model, int64_t version);

RepositoryPlan PlanRepository(const RepositoryState& state, const RepositoryScan& scan,
                              const PlanRequest& request);

}  // namespace seam::server
