#include "server/model_repository.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "repository/layout.h"
#include "server/log.h"
#include "server/repository_scan.h"

namespace seam::server {
namespace {

// Plan/apply rounds per change: loads, then the unloads they make safe, and one more round for
// each refused version the policy steps past (a tampered newest version gives way to the next).
int MaxRounds(const RepositoryScan& scan) {
  size_t versions = 0;
  for (const auto& [name, model] : scan.models)
    versions = std::max(versions, model.versions.size());
  return static_cast<int>(versions) + 3;
}

std::string ListVersions(const std::vector<int64_t>& versions) {
  std::string text;
  for (int64_t v : versions) text += (text.empty() ? "" : ", ") + std::to_string(v);
  return text;
}

}  // namespace

ModelRepository::ModelRepository(std::string root, RetiredCallback on_retired,
                                 std::shared_ptr<const ModelKeys> keys, RefusedCallback on_refused)
    : root_(std::move(root)),
      on_retired_(std::move(on_retired)),
      keys_(keys ? std::move(keys) : std::make_shared<const ModelKeys>()),
      on_refused_(std::move(on_refused)) {}
ModelRepository::~ModelRepository() = default;

RepositoryState ModelRepository::Snapshot() const {
  std::shared_lock lock(mu_);
  RepositoryState state;
  for (const auto& [name, record] : models_) {
    ModelStatus& status = state[name];
    status.unloaded_by_request = record.unloaded_by_request;
    for (const auto& [v, version] : record.versions) status.versions[v] = version.status;
  }
  return state;
}

void ModelRepository::LoadVersion(const LoadStep& step, const ScannedModel& scanned) {
  {
    std::unique_lock lock(mu_);
    VersionRecord& record = models_[step.model].versions[step.version];
    if (record.status.state != VersionState::kReady) {
      record.status.state = VersionState::kLoading;
      record.status.reason.clear();
    }
  }
  const VersionSource source{step.model, step.version, ModelFilePath(scanned, step.version),
                             scanned.config_path};
  const auto start = std::chrono::steady_clock::now();
  auto loaded = ModelVersion::Load(source, *scanned.config, *keys_);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  std::unique_lock lock(mu_);
  VersionRecord& record = models_[step.model].versions[step.version];
  if (loaded.ok()) {
    std::shared_ptr<const ModelVersion> replaced = std::move(record.serving);
    record.serving = std::move(loaded).value();
    record.status = {VersionState::kReady, "", step.fingerprint, ""};
    record.last_error = Status::Ok();
    record.verify_failed = false;
    spdlog::info("event=model_loaded model={} version={} instances={} load_ms={}",
                 LogValue(step.model), step.version, record.serving->instance_count(), ms);
    lock.unlock();
    if (replaced) Retire({std::move(replaced)});
    return;
  }
  record.last_error = loaded.status();
  record.verify_failed = false;
  record.status.failed_fingerprint = step.fingerprint;
  if (record.serving) {
    record.status.state = VersionState::kReady;
    record.status.reason =
        "reload failed, serving the files loaded before: " + loaded.status().message();
  } else {
    record.status.state = VersionState::kUnavailable;
    record.status.reason = "load failed: " + loaded.status().message();
  }
  spdlog::error("event=model_load_failed model={} version={} error={}", LogValue(step.model),
                step.version, LogValue(loaded.status().ToString()));
  lock.unlock();
  if (on_refused_) on_refused_(step.model, step.version, loaded.status());
}

void ModelRepository::Apply(const PlanRequest& request, const RepositoryScan& scan) {
  {
    std::unique_lock lock(mu_);
    for (const auto& [name, scanned] : scan.models) {
      ModelRecord& record = models_[name];
      const bool changed = record.config_status.message() != scanned.config_status.message();
      record.config_status = scanned.config_status;
      if (changed && !scanned.config_status.ok()) {  // once per new problem, not once per poll
        spdlog::error("event=model_config_invalid model={} error={}", LogValue(name),
                      LogValue(scanned.config_status.message()));
      }
    }
  }
  const int max_rounds = MaxRounds(scan);
  for (int round = 0; round < max_rounds; ++round) {
    PlanRequest this_round = request;
    this_round.force = request.force && round == 0;
    const RepositoryPlan plan = PlanRepository(Snapshot(), scan, this_round);
    if (plan.empty()) return;
    for (const auto& step : plan.loads) LoadVersion(step, scan.models.at(step.model));
    std::vector<std::shared_ptr<const ModelVersion>> retired;
    {
      std::unique_lock lock(mu_);
      for (const auto& step : plan.unloads) {
        VersionRecord& record = models_[step.model].versions[step.version];
        // Requests in flight keep their own reference.
        if (record.serving) retired.push_back(std::move(record.serving));  // leaves it null
        record.status = {VersionState::kUnavailable, "unloaded: " + step.reason, "", ""};
        spdlog::info("event=model_unloaded model={} version={} reason={}", LogValue(step.model),
                     step.version, LogValue(step.reason));
      }
    }
    Retire(std::move(retired));
  }
}

void ModelRepository::Retire(std::vector<std::shared_ptr<const ModelVersion>> versions) const {
  if (!on_retired_) return;
  for (auto& version : versions) on_retired_(std::move(version));
}

Status ModelRepository::Refresh() {
  std::lock_guard control(control_mu_);
  SEAM_ASSIGN_OR_RETURN(RepositoryScan scan, ScanRepository(root_));
  Apply(PlanRequest{}, scan);
  return Status::Ok();
}

Status ModelRepository::Load(const std::string& model) {
  std::lock_guard control(control_mu_);
  SEAM_ASSIGN_OR_RETURN(RepositoryScan scan, ScanRepository(root_, model));
  auto it = scan.models.find(model);
  if (it == scan.models.end()) {
    return NotFound("model '" + model + "' is not in the repository '" + root_ + "'");
  }
  const ScannedModel& scanned = it->second;
  {
    std::unique_lock lock(mu_);
    models_[model].unloaded_by_request = false;
  }
  Apply(PlanRequest{model, /*force=*/true}, scan);
  if (!scanned.config) return scanned.config_status;
  VerifyServing(model);

  std::vector<int64_t> present;
  for (const auto& [v, unused] : scanned.versions) present.push_back(v);
  const std::vector<int64_t> wanted =
      repository::SelectVersions(scanned.config->version_policy, present);
  if (wanted.empty()) {
    return NotFound("model '" + model +
                    "': no version directory that its version policy selects"
                    " (version directories: " +
                    ListVersions(present) + ")");
  }
  std::shared_lock lock(mu_);
  const ModelRecord& record = models_.at(model);
  Status first_error;
  std::string failures;
  for (int64_t v : wanted) {
    auto found = record.versions.find(v);
    if (found == record.versions.end() || found->second.last_error.ok()) continue;
    if (first_error.ok()) first_error = found->second.last_error;
    failures += "; version " + std::to_string(v) + ": " + found->second.last_error.message();
  }
  if (first_error.ok()) return Status::Ok();
  std::vector<int64_t> ready;
  for (const auto& [v, version] : record.versions) {
    if (version.serving) ready.push_back(v);
  }
  const std::string serving =
      ready.empty() ? "no version is serving" : "still serving version " + ListVersions(ready);
  return Status(first_error.code(),
                "model '" + model + "' failed to load" + failures + " (" + serving + ")");
}

void ModelRepository::VerifyServing(const std::string& model) {
  std::vector<std::shared_ptr<const ModelVersion>> serving;
  {
    std::shared_lock lock(mu_);
    for (const auto& [v, record] : models_.at(model).versions) {
      if (record.serving) serving.push_back(record.serving);
    }
  }
  for (const auto& version : serving) {  // reads files: no lock held
    Status verified = version->Verify();
    {
      std::unique_lock lock(mu_);
      VersionRecord& record = models_[model].versions[version->version()];
      if (record.serving != version) continue;  // replaced meanwhile
      if (verified.ok()) {
        // The files verify again: a verification failure reported before is over (a failed
        // reload stays reported until its files change).
        if (record.verify_failed) {
          record.last_error = Status::Ok();
          record.status.reason.clear();
          record.verify_failed = false;
        }
        continue;
      }
      // A reload of these files that failed already says why, more precisely.
      if (!record.last_error.ok() && !record.verify_failed) continue;
      record.last_error = verified;
      record.status.reason = verified.message();
      record.verify_failed = true;
    }
    spdlog::error("event=model_verify_failed model={} version={} error={}", LogValue(model),
                  version->version(), LogValue(verified.ToString()));
    if (on_refused_) on_refused_(model, version->version(), verified);
  }
}

Status ModelRepository::Unload(const std::string& model) {
  std::lock_guard control(control_mu_);
  std::vector<std::shared_ptr<const ModelVersion>> retired;
  {
    std::unique_lock lock(mu_);
    auto it = models_.find(model);
    if (it == models_.end()) return NotFound("model '" + model + "' is not loaded");
    it->second.unloaded_by_request = true;
    for (auto& [v, record] : it->second.versions) {
      if (record.serving) {
        spdlog::info("event=model_unloaded model={} version={} reason=request", LogValue(model), v);
        retired.push_back(std::move(record.serving));  // leaves it null
      }
      record.status = {VersionState::kUnavailable, "unloaded by request", "", ""};
    }
  }
  Retire(std::move(retired));
  return Status::Ok();
}

std::string ModelRepository::WhyNotReady(const ModelRecord& record) {
  if (record.unloaded_by_request) return "it was unloaded by request";
  if (!record.config_status.ok()) return record.config_status.message();
  for (auto it = record.versions.rbegin(); it != record.versions.rend(); ++it) {
    if (!it->second.status.reason.empty()) {
      return "version " + std::to_string(it->first) + ": " + it->second.status.reason;
    }
  }
  return "it has no version to serve";
}

Result<std::shared_ptr<const ModelVersion>> ModelRepository::Find(
    const std::string& model, const std::string& version) const {
  std::optional<int64_t> number;
  if (!version.empty()) {
    // Strict, as version directories are named: "01" or "+1" would silently mean version 1.
    number = repository::ParseVersionDir(version);
    if (!number) {
      return InvalidArgument("model '" + model + "': version '" + version +
                             "' is not a version number (a positive integer without leading "
                             "zeros)");
    }
  }
  std::shared_lock lock(mu_);
  auto it = models_.find(model);
  if (it == models_.end()) {
    return NotFound("model '" + model + "' is not in the repository");
  }
  const ModelRecord& record = it->second;
  if (!number) {
    for (auto v = record.versions.rbegin(); v != record.versions.rend(); ++v) {
      if (v->second.serving) return v->second.serving;
    }
    return Unavailable("model '" + model + "' is not ready: " + WhyNotReady(record));
  }
  auto v = record.versions.find(*number);
  if (v == record.versions.end()) {
    return NotFound("model '" + model + "' has no version " + version);
  }
  if (!v->second.serving) {
    return Unavailable("model '" + model + "' version " + version + " is not ready: " +
                       (v->second.status.reason.empty() ? "loading" : v->second.status.reason));
  }
  return v->second.serving;
}

std::vector<int64_t> ModelRepository::ReadyVersions(const std::string& model) const {
  std::shared_lock lock(mu_);
  std::vector<int64_t> ready;
  auto it = models_.find(model);
  if (it == models_.end()) return ready;
  for (const auto& [v, record] : it->second.versions) {
    if (record.serving) ready.push_back(v);
  }
  return ready;
}

std::vector<IndexEntry> ModelRepository::Index(bool ready_only) const {
  const std::vector<std::string> on_disk = ListModelNames(root_);
  std::vector<IndexEntry> entries;
  std::shared_lock lock(mu_);
  for (const auto& [name, record] : models_) {
    bool listed = false;
    for (const auto& [v, version] : record.versions) {
      if (ready_only && version.status.state != VersionState::kReady) continue;
      entries.push_back(
          {name, std::to_string(v), VersionStateName(version.status.state), version.status.reason});
      listed = true;
    }
    if (!listed && !ready_only) {
      entries.push_back({name, "", "UNAVAILABLE", WhyNotReady(record)});
    }
  }
  if (!ready_only) {
    for (const auto& name : on_disk) {
      if (!models_.contains(name)) entries.push_back({name, "", "UNAVAILABLE", "not loaded"});
    }
  }
  return entries;
}

bool ModelRepository::AllReady() const {
  std::shared_lock lock(mu_);
  for (const auto& [name, record] : models_) {
    if (record.unloaded_by_request) continue;
    bool any = false;
    for (const auto& [v, version] : record.versions) any = any || version.serving != nullptr;
    if (!any) return false;
  }
  return true;
}

}  // namespace seam::server
