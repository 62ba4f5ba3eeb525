// ModelVersion: one loaded version of a model, ready to run: config.instance_count ONNX Runtime
// sessions (CPU provider) over REPO/MODEL/VERSION/model.onnx, and the metadata requests are
// validated against. A version of platform "seam_stage" is instead a tier's stage of a deployed
// plan (REPO/MODEL/VERSION/stage.json, pipeline/stage_runner.h): its segment runs here and the
// rest of the request is forwarded to the next tier.
//
// Ownership: the repository hands out shared_ptr<const ModelVersion>; a request (or a batch)
// holds one for as long as it runs, so unloading a version never pulls a session from under a
// running request: the sessions close when the last holder lets go.
// Thread safety: every const method may be called from any number of threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/tensor.h"
#include "pipeline/stage_runner.h"
#include "runtime/session.h"
#include "server/model_config.h"
#include "server/model_metadata.h"

namespace seam::server {

// Where a version's files are.
struct VersionSource {
  std::string model_name;
  int64_t version = 0;
  std::string model_path;   // REPO/MODEL/VERSION/model.onnx (or stage.json for a stage)
  std::string config_path;  // REPO/MODEL/config.json (named in messages even if absent)
};

class ModelVersion {
 public:
  // Checks model.onnx against config.version_sha256 (a mismatch refuses the load: DATA_LOSS),
  // opens the sessions and resolves the metadata. Errors name the file and the reason.
  static Result<std::shared_ptr<const ModelVersion>> Load(const VersionSource& source,
                                                          const ModelConfig& config);
  ~ModelVersion();
  ModelVersion(const ModelVersion&) = delete;
  ModelVersion& operator=(const ModelVersion&) = delete;

  const std::string& model_name() const { return source_.model_name; }
  int64_t version() const { return source_.version; }
  const VersionSource& source() const { return source_; }
  const ModelConfig& config() const { return config_; }
  const ModelMetadata& metadata() const { return metadata_; }
  int instance_count() const { return static_cast<int>(instances_.size()); }

  // Runs the model once on `inputs` (already validated against metadata(); for a batcher, a
  // merged batch) on the least busy instance (ties: round-robin). Returns every output. Blocks
  // the calling thread for the model's compute time.
  // A stage fills `trace` (may be null) with this tier's and the tiers above's; `decode_ms` is
  // the time the caller spent decoding the request's inputs.
  Result<TensorMap> Run(const TensorMap& inputs, pipeline::RequestTrace* trace = nullptr,
                        double decode_ms = 0) const;
  bool is_stage() const { return stage_ != nullptr; }

 private:
  struct Instance {
    std::unique_ptr<runtime::Session> session;
    mutable std::atomic<int> in_flight{0};
  };
  ModelVersion() = default;

  VersionSource source_;
  ModelConfig config_;
  ModelMetadata metadata_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::unique_ptr<pipeline::StageRunner> stage_;
  mutable std::atomic<uint64_t> next_{0};
};

}  // namespace seam::server
