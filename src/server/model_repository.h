// ModelRepository: the models the server serves, kept in step with the repository directory.
//
// It is the driver around the pure decision in repository_plan.h: scan the directory, plan, load
// or unload what the plan says, and plan again until nothing is left to do. Loading happens
// outside the serving lock, so requests keep being served (by the old version) while a new
// version loads; the switch to a new version is one pointer swap.
//
// Thread safety: every method is thread-safe. Refresh, Load and Unload are serialised among
// themselves (one repository change at a time); Find, ReadyVersions, Index and AllReady never
// wait for a load, only for a pointer swap.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "server/model_version.h"
#include "server/repository_plan.h"

namespace seam::server {

// One line of RepositoryIndex.
struct IndexEntry {
  std::string model;
  std::string version;  // "" for a model with no version to report
  std::string state;    // "READY", "LOADING", "UNAVAILABLE"
  std::string reason;
};

class ModelRepository {
 public:
  // Told about each version the repository stopped routing to (Find no longer returns it):
  // unloaded by the plan or by request, or replaced by a reload of the same version number.
  // Called on the thread changing the repository (Refresh, Load, Unload), after the switch and
  // without the serving lock held, so it may block (a scheduler drains the version's queue);
  // that delays only the next repository change. A request that found the version just before
  // the switch may still reach the scheduler after the call.
  using RetiredCallback = std::function<void(std::shared_ptr<const ModelVersion>)>;
  // Told about each version that failed to load or to verify (metrics), on the thread changing
  // the repository, without locks held.
  using RefusedCallback =
      std::function<void(const std::string& model, int64_t version, const Status& error)>;

  // `keys` decrypt sealed model files (common/model_seal.h); null: none.
  explicit ModelRepository(std::string root, RetiredCallback on_retired = nullptr,
                           std::shared_ptr<const ModelKeys> keys = nullptr,
                           RefusedCallback on_refused = nullptr);
  ~ModelRepository();
  ModelRepository(const ModelRepository&) = delete;
  ModelRepository& operator=(const ModelRepository&) = delete;

  const std::string& root() const { return root_; }

  // Scans every model and brings it in line with the directory (startup, polling). A model's
  // failures are recorded (Index, logs), not returned: fails only if REPO cannot be read.
  Status Refresh();

  // Loads or reloads one model by request (RepositoryModelLoad): retries versions that failed
  // before, lifts an earlier Unload, and verifies every ready version's files again
  // (ModelVersion::Verify): one whose files changed keeps serving what it loaded and is reported
  // as failed. OK when every version its policy selects is ready and verified;
  // otherwise the first failure's code and a message naming each failed version, its reason, and
  // what still serves. NOT_FOUND if REPO has no such model directory.
  Status Load(const std::string& model);

  // Unloads every version of a model by request (RepositoryModelUnload); requests in flight on
  // them finish. The model stays unloaded (also across Refresh) until Load. NOT_FOUND if unknown.
  Status Unload(const std::string& model);

  // The version to run: `version` "" means the highest ready one. NOT_FOUND for a model or
  // version the repository does not have, UNAVAILABLE for one that is not ready (with why),
  // INVALID_ARGUMENT for a version that is not a number.
  Result<std::shared_ptr<const ModelVersion>> Find(const std::string& model,
                                                   const std::string& version) const;

  // Ready versions of a model, ascending; empty if none or unknown.
  std::vector<int64_t> ReadyVersions(const std::string& model) const;

  // Every model of REPO (also those never loaded) and the state of each known version.
  std::vector<IndexEntry> Index(bool ready_only) const;

  // True when every model that is not unloaded by request has a ready version.
  bool AllReady() const;

 private:
  struct VersionRecord {
    VersionStatus status;
    Status last_error;                            // of the last failed load or verification
    bool verify_failed = false;                   // last_error is VerifyServing's
    std::shared_ptr<const ModelVersion> serving;  // set while ready
  };
  struct ModelRecord {
    std::map<int64_t, VersionRecord> versions;
    bool unloaded_by_request = false;
    Status config_status;  // of the last scan
  };

  // Plans and carries out until the plan is empty. Caller holds control_mu_.
  void Apply(const PlanRequest& request, const RepositoryScan& scan);
  void LoadVersion(const LoadStep& step, const ScannedModel& scanned);
  // ModelVersion::Verify on each serving version of `model`; failures are recorded as the
  // version's last error (Load reports them) and its reason. Caller holds control_mu_.
  void VerifyServing(const std::string& model);
  // Passes each version to on_retired_. Caller holds control_mu_, not mu_.
  void Retire(std::vector<std::shared_ptr<const ModelVersion>> versions) const;
  RepositoryState Snapshot() const;
  // Why a model has no ready version (for UNAVAILABLE messages). Caller holds mu_.
  static std::string WhyNotReady(const ModelRecord& record);

  const std::string root_;
  const RetiredCallback on_retired_;
  const std::shared_ptr<const ModelKeys> keys_;
  const RefusedCallback on_refused_;
  std::mutex control_mu_;
  mutable std::shared_mutex mu_;
  std::map<std::string, ModelRecord> models_;  // guarded by mu_
};

}  // namespace seam::server
