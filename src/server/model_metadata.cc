#include "server/model_metadata.h"

#include <algorithm>

namespace seam::server {
namespace {

// Applies the config's declarations to one side (inputs or outputs) of the signature.
Status Refine(const std::vector<repository::TensorConfig>& declared, const std::string& kind,
              const std::string& config_path, int max_batch_size,
              std::vector<runtime::IoSpec>& specs) {
  for (const auto& tensor : declared) {
    const std::string where = config_path + ": " + kind + " '" + tensor.name + "'";
    auto it = std::find_if(specs.begin(), specs.end(),
                           [&](const runtime::IoSpec& s) { return s.name == tensor.name; });
    if (it == specs.end()) {
      std::string names;
      for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
      return InvalidArgument(where + ": the model has no such " + kind + " (it has: " + names +
                             ")");
    }
    runtime::IoSpec* spec = &*it;
    if (tensor.dtype && *tensor.dtype != spec->dtype) {
      return InvalidArgument(where + ": datatype " + DTypeName(*tensor.dtype) +
                             " differs from the model's " + DTypeName(spec->dtype));
    }
    if (!tensor.shape) continue;
    const auto& shape = *tensor.shape;
    bool agrees = shape.size() == spec->shape.size();
    for (size_t i = 0; agrees && i < shape.size(); ++i) {
      agrees = spec->shape[i] < 0 || shape[i] == spec->shape[i];
    }
    if (!agrees) {
      return InvalidArgument(where + ": shape " + OipShape(shape) + " contradicts the model's " +
                             OipShape(spec->shape));
    }
    spec->shape = shape;
  }
  if (max_batch_size > 0) {
    for (const auto& spec : specs) {
      if (spec.shape.empty() || spec.shape[0] >= 0) {
        return InvalidArgument(config_path + ": max_batch_size " + std::to_string(max_batch_size) +
                               " needs a dynamic first (batch) dimension, but " + kind + " '" +
                               spec.name + "' has shape " + OipShape(spec.shape));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<ModelMetadata> ResolveMetadata(const repository::ModelConfig& config,
                                      const std::string& config_path,
                                      const std::vector<runtime::IoSpec>& model_inputs,
                                      const std::vector<runtime::IoSpec>& model_outputs) {
  ModelMetadata metadata;
  metadata.inputs = model_inputs;
  metadata.outputs = model_outputs;
  metadata.max_batch_size = config.max_batch_size;
  SEAM_RETURN_IF_ERROR(
      Refine(config.inputs, "input", config_path, config.max_batch_size, metadata.inputs));
  SEAM_RETURN_IF_ERROR(
      Refine(config.outputs, "output", config_path, config.max_batch_size, metadata.outputs));
  return metadata;
}

}  // namespace seam::server
