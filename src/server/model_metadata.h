// A loaded model version's metadata (oip/model_metadata.h): the model's own signature refined by
// its config (a config may fix a dynamic dimension, never contradict the model).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "oip/model_metadata.h"
#include "repository/model_config.h"
#include "runtime/session.h"

namespace seam::server {

using oip::ModelMetadata;

// OipShape (common/dtype.h) writes shapes in messages.
using seam::OipShape;

// Merges the model's signature (as ONNX Runtime reports it) with `config`. Errors, naming
// `config_path` and the tensor: a config tensor the model does not have, a dtype or rank that
// differs, a fixed dimension that differs, max_batch_size > 0 on a tensor whose first dimension
// is fixed in the model.
Result<ModelMetadata> ResolveMetadata(const repository::ModelConfig& config,
                                      const std::string& config_path,
                                      const std::vector<runtime::IoSpec>& model_inputs,
                                      const std::vector<runtime::IoSpec>& model_outputs);

}  // namespace seam::server
