// Test support for the graph layer: paths of the bundled models and a small builder for
// hand-made graphs whose cuts and figures a test can state exactly.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>
#include <vector>

#include "graph/model_loader.h"

namespace seam::graph::testing {

// models/<name> in the source tree.
std::string BundledModel(const std::string& name);
// The pretrained BlazeFace model that scripts/setup.sh downloads.
std::string BlazeFaceModel();
// Loads or fails the current test with the status message.
LoadedModel LoadOrDie(const std::string& path);

class ModelBuilder {
 public:
  explicit ModelBuilder(int opset = 13);
  // dims: -1 for a symbolic dimension named "N".
  ModelBuilder& Input(const std::string& name, const std::vector<int64_t>& dims,
                      int32_t elem_type = onnx::TensorProto::FLOAT);
  ModelBuilder& Output(const std::string& name, const std::vector<int64_t>& dims,
                       int32_t elem_type = onnx::TensorProto::FLOAT);
  // A float initializer filled with `value`.
  ModelBuilder& Weight(const std::string& name, const std::vector<int64_t>& dims,
                       float value = 0.5f);
  ModelBuilder& Node(const std::string& op, const std::vector<std::string>& inputs,
                     const std::vector<std::string>& outputs, const std::string& name = "");
  const onnx::ModelProto& model() const { return model_; }
  // Serialized bytes, loaded as a model would be from disk.
  LoadedModel Load() const;

 private:
  onnx::ModelProto model_;
};

}  // namespace seam::graph::testing
