#include "oip/model_metadata.h"

namespace seam::oip {
namespace {

const TensorSpec* FindSpec(const std::vector<TensorSpec>& specs, const std::string& name) {
  for (const auto& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

const TensorSpec* ModelMetadata::FindInput(const std::string& name) const {
  return FindSpec(inputs, name);
}

const TensorSpec* ModelMetadata::FindOutput(const std::string& name) const {
  return FindSpec(outputs, name);
}

}  // namespace seam::oip
