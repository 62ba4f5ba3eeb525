// ModelVersion: one loaded version of a model, ready to run: the backend of its config's platform
// (server/backend.h: ONNX Runtime sessions over REPO/MODEL/VERSION/model.onnx, or a tier's stage
// of a deployed plan over stage.json), and the metadata requests are validated against.
//
// Ownership: the repository hands out shared_ptr<const ModelVersion>; a request (or a batch)
// holds one for as long as it runs, so unloading a version never pulls a backend from under a
// running request: its sessions close when the last holder lets go.
// Thread safety: every const method may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/model_seal.h"
#include "common/status.h"
#include "common/tensor.h"
#include "repository/model_config.h"
#include "server/backend.h"
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
  // Reads the version's file once, checks it against config.version_sha256 (a mismatch refuses
  // the load: DATA_LOSS), decrypts it with `keys` when it is sealed (common/model_seal.h), opens
  // its backend on those bytes and resolves the metadata. Errors name the file and the reason.
  static Result<std::shared_ptr<const ModelVersion>> Load(const VersionSource& source,
                                                          const repository::ModelConfig& config,
                                                          const ModelKeys& keys = {});
  ~ModelVersion();
  ModelVersion(const ModelVersion&) = delete;
  ModelVersion& operator=(const ModelVersion&) = delete;

  const std::string& model_name() const { return source_.model_name; }
  int64_t version() const { return source_.version; }
  const VersionSource& source() const { return source_; }
  const repository::ModelConfig& config() const { return config_; }
  const ModelMetadata& metadata() const { return metadata_; }
  int instance_count() const { return backend_->instance_count(); }
  const Backend& backend() const { return *backend_; }

  // Reads the version's files again and checks them against what was loaded: its own file's
  // sha256 as read then, and each of the backend's CheckedFiles. DATA_LOSS naming the first file
  // that is missing or changed: the disk no longer holds what serves.
  Status Verify() const;

  // Runs the model once on `inputs` (already validated against metadata(); for a batcher, a
  // merged batch, with no context). Returns every output (Backend::Run). Blocks the calling
  // thread for the model's compute time.
  Result<TensorMap> Run(const TensorMap& inputs, RequestContext* context = nullptr) const {
    return backend_->Run(inputs, context);
  }

 private:
  ModelVersion() = default;

  VersionSource source_;
  std::string loaded_sha256_;  // of the version's file as stored, when it was loaded
  repository::ModelConfig config_;
  ModelMetadata metadata_;
  std::unique_ptr<Backend> backend_;
};

}  // namespace seam::server
