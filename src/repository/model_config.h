// ModelConfig: the configuration of one model of the repository, REPO/MODEL/config.json (schema:
// docs/server.md), read (ParseModelConfig) and written (ModelConfigToJson) only here. Loaded as
// normalise -> validate -> use: after ParseModelConfig returns, every field is in range and
// consistent, so the repository, the executor and the batcher use it without checking again.
//
// The schema is Triton's model configuration, reduced to what seam implements and written as JSON.
// Unknown fields are errors (a misspelt knob must not be silently ignored).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/dtype.h"
#include "common/status.h"

namespace seam::repository {

inline constexpr char kOnnxPlatform[] = "onnxruntime_onnx";
// A tier's stage of a deployed plan (src/pipeline/stage_spec.h): VERSION/stage.json, and the
// segment it names beside it. Written by `seam deploy`.
inline constexpr char kStagePlatform[] = "seam_stage";

// Which of the versions present in REPO/MODEL/ are served.
struct VersionPolicy {
  enum class Kind { kLatest, kAll, kSpecific };
  Kind kind = Kind::kLatest;
  int latest = 1;                 // kLatest: how many of the highest version numbers
  std::vector<int64_t> specific;  // kSpecific: ascending, unique, each >= 1

  bool operator==(const VersionPolicy&) const = default;
};

// An input or output as the config declares it. It may only refine what the model says: a
// dynamic dimension (-1) may be fixed; the dtype and fixed dimensions must agree with the model.
struct TensorConfig {
  std::string name;
  std::optional<DType> dtype;
  std::optional<std::vector<int64_t>> shape;  // the full shape, batch dimension included

  bool operator==(const TensorConfig&) const = default;
};

// Knobs of the dynamic batcher (src/server/batching/); parsed and validated here, used there.
struct DynamicBatchingConfig {
  std::vector<int> preferred_batch_size;  // ascending, unique, each in [1, max_batch_size]
  int64_t max_queue_delay_us = 0;         // longest a request waits for a batch to fill (us)
  int max_queue_size = 0;                 // requests waiting at most; 0 = unbounded

  bool operator==(const DynamicBatchingConfig&) const = default;
};

struct ModelConfig {
  std::string name;  // the model directory's name
  std::string platform = kOnnxPlatform;
  // 0: requests must match the model's shapes, the server never batches them. N > 0: the first
  // dimension of every input and output is the batch (dynamic in the model), at most N.
  int max_batch_size = 0;
  std::vector<TensorConfig> inputs;
  std::vector<TensorConfig> outputs;
  VersionPolicy version_policy;
  int instance_count = 1;    // ONNX Runtime sessions per loaded version, in [1, 64]
  int intra_op_threads = 1;  // per session; 0 = ONNX Runtime's default (all cores)
  std::map<int64_t, std::string> version_sha256;  // version -> lowercase hex sha256 of model.onnx
  std::optional<DynamicBatchingConfig> dynamic_batching;

  bool operator==(const ModelConfig&) const = default;
};

// Parses `text`, the contents of `path` (REPO/MODEL/config.json), for the model whose directory
// is named `model_name`. Errors name the file and the field: "<path>: 'instance_count': must be
// an integer in [1, 64], got 0".
Result<ModelConfig> ParseModelConfig(const std::string& text, const std::string& path,
                                     const std::string& model_name);

// The configuration of a model directory without config.json: every field at its default.
ModelConfig DefaultModelConfig(const std::string& model_name);

// The config.json text of `config` (what ParseModelConfig reads back as `config`): the fields
// that differ from DefaultModelConfig, plus name and platform.
std::string ModelConfigToJson(const ModelConfig& config);

// The versions `policy` selects among `available` (any order): ascending.
std::vector<int64_t> SelectVersions(const VersionPolicy& policy,
                                    const std::vector<int64_t>& available);

}  // namespace seam::repository
