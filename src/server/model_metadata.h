// ModelMetadata: what a loaded model version accepts and returns, as requests are validated
// against it and as ModelMetadata reports it. It is the model's own signature refined by its
// config (a config may fix a dynamic dimension, never contradict the model).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "runtime/session.h"
#include "server/model_config.h"

namespace seam::server {

struct ModelMetadata {
  std::vector<runtime::IoSpec> inputs;   // in the model's order; -1 for dynamic dimensions
  std::vector<runtime::IoSpec> outputs;  // in the model's order
  int max_batch_size = 0;                // as ModelConfig::max_batch_size

  // nullptr when there is no such input / output.
  const runtime::IoSpec* FindInput(const std::string& name) const;
  const runtime::IoSpec* FindOutput(const std::string& name) const;
};

// OipShape (common/dtype.h) writes shapes in messages.
using seam::OipShape;

// Merges the model's signature (as ONNX Runtime reports it) with `config`. Errors, naming
// `config_path` and the tensor: a config tensor the model does not have, a dtype or rank that
// differs, a fixed dimension that differs, max_batch_size > 0 on a tensor whose first dimension
// is fixed in the model.
Result<ModelMetadata> ResolveMetadata(const ModelConfig& config, const std::string& config_path,
                                      const std::vector<runtime::IoSpec>& model_inputs,
                                      const std::vector<runtime::IoSpec>& model_outputs);

}  // namespace seam::server
