#include "graph/attribute_checks.h"

#include <unordered_set>

namespace seam::graph {
namespace {

bool HasWindow(const std::string& op) {
  static const std::unordered_set<std::string> kOps = {
      "Conv",        "ConvTranspose", "ConvInteger", "QLinearConv", "MaxPool",
      "AveragePool", "LpPool",        "MaxUnpool",   "DeformConv",  "Col2Im"};
  return kOps.count(op) > 0;
}

}  // namespace

Status CheckWindowAttributes(const onnx::GraphProto& graph, const std::string& model_name) {
  for (const auto& node : graph.node()) {
    if (HasWindow(node.op_type())) {
      for (const auto& attr : node.attribute()) {
        if (attr.name() != "strides" && attr.name() != "dilations" &&
            attr.name() != "kernel_shape") {
          continue;
        }
        for (int64_t v : attr.ints()) {
          if (v <= 0) {
            return InvalidArgument(model_name + ": node '" + node.name() + "' (" + node.op_type() +
                                   "): attribute " + attr.name() + " has " + std::to_string(v) +
                                   "; every value must be positive");
          }
        }
      }
    }
    for (const auto& attr : node.attribute()) {
      if (attr.has_g()) SEAM_RETURN_IF_ERROR(CheckWindowAttributes(attr.g(), model_name));
      for (const auto& g : attr.graphs())
        SEAM_RETURN_IF_ERROR(CheckWindowAttributes(g, model_name));
    }
  }
  return Status::Ok();
}

}  // namespace seam::graph
