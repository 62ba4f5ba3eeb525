// Checks of node attributes that ONNX's checker (1.12) lets through but its shape inference then
// divides by: a zero stride, dilation or kernel size would crash the process (SIGFPE) instead of
// giving the user an error. Run on every graph and subgraph before shape inference.
#pragma once

#include <onnx/onnx_pb.h>

#include "common/status.h"

namespace seam::graph {

Status CheckWindowAttributes(const onnx::GraphProto& graph, const std::string& model_name);

}  // namespace seam::graph
