// Analysis of a model: per compute node its op, output shapes and dtypes, FLOPs, parameter and
// output bytes; then every candidate cut with the tensors that cross it and their bytes.
// Schema of the JSON form ("seam.analysis/v1"): docs/analysis.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "graph/graph_view.h"
#include "graph/model_loader.h"
#include "graph/shape_inference.h"

namespace seam::graph {

struct TensorReport {
  std::string name;
  std::string dtype;           // OIP name
  std::vector<int64_t> shape;  // -1 where unknown (data-dependent)
  int64_t bytes = -1;          // -1 when the shape is not fully known
};

struct NodeReport {
  int position = 0;
  std::string name;
  std::string op_type;
  std::vector<TensorReport> outputs;
  int64_t flops = 0;
  bool flops_known = true;
  int64_t param_bytes = 0;   // initializers this node reads (shared ones count for each reader)
  int64_t output_bytes = 0;  // sum over outputs; -1 if one is unknown
};

struct CutReport {
  int position = 0;  // compute nodes before the cut
  std::string after_node;
  std::vector<std::string> tensors;
  int64_t bytes = 0;        // of the tensors with known size
  int unknown_tensors = 0;  // crossing tensors whose size is data-dependent
};

struct Analysis {
  std::string model;
  std::vector<TensorReport> inputs;
  std::vector<TensorReport> outputs;
  std::vector<NodeReport> nodes;
  int constant_nodes = 0;
  int64_t total_flops = 0;
  int64_t total_param_bytes = 0;  // each initializer once
  std::vector<CutReport> cuts;
};

// Fixes dynamic input dimensions (see shape_inference.h), then measures.
Result<Analysis> Analyze(const LoadedModel& model, const GraphView& view,
                         const ShapeOverrides& overrides);

nlohmann::json AnalysisToJson(const Analysis& analysis);
// A readable report: nodes, then cuts.
std::string AnalysisToText(const Analysis& analysis);

}  // namespace seam::graph
