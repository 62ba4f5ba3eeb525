// ModelMetadata: what a served model version accepts and returns, as the Open Inference Protocol
// reports it (ModelMetadataResponse) and as requests are validated against it (infer_codec.h).
// The server resolves it from the model and its config (server/model_metadata.h); any backend
// (an ONNX Runtime session, a tier's stage) declares one.
#pragma once

#include <string>
#include <vector>

#include "common/tensor.h"

namespace seam::oip {

struct ModelMetadata {
  std::vector<TensorSpec> inputs;   // in the model's order; -1 for dynamic dimensions
  std::vector<TensorSpec> outputs;  // in the model's order
  // > 0: the first dimension of every input and output is the batch, at most this large.
  int max_batch_size = 0;

  // nullptr when there is no such input / output.
  const TensorSpec* FindInput(const std::string& name) const;
  const TensorSpec* FindOutput(const std::string& name) const;
};

}  // namespace seam::oip
