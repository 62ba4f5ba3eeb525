// PlanGraph: what the planner needs to know of a model, as plain data. It comes from an ONNX
// model (PlanGraphFromModel, through the graph layer) or from a golden test fixture.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "graph/model_loader.h"
#include "graph/shape_inference.h"

namespace seam::plan {

struct PlanNode {
  std::string name;  // compute node, in the analysis order (index = position)
  std::string op_type;
  int64_t param_bytes = 0;  // initializers it reads
};

struct PlanTensor {
  std::string name;
  int producer = -1;           // node index, or -1 for a model input
  std::vector<int> consumers;  // node indices
  int64_t bytes = 0;           // at the shapes analysed (batch 1 by default)
  bool is_model_output = false;
  bool is_float32 = false;  // lossy codecs apply to FP32 tensors only
};

struct PlanGraph {
  std::string model_path;
  std::string model_sha256;
  std::vector<PlanNode> nodes;
  std::vector<PlanTensor> tensors;  // non-constant tensors read by a node or returned
};

// Builds the plan graph of a loaded model with fixed shapes (see graph/shape_inference.h). A
// tensor whose size depends on data is an error here: the planner needs bytes.
Result<PlanGraph> PlanGraphFromModel(const graph::LoadedModel& model,
                                     const graph::ShapeOverrides& overrides);

}  // namespace seam::plan
