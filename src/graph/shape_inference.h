// Types and shapes of every tensor of a model, from ONNX shape inference.
//
// Two uses, two modes:
//  - symbolic (no overrides): keeps dynamic dimensions such as a batch "N" symbolic; segments
//    carry these types so a segment stays as dynamic as the model it was cut from;
//  - fixed: every dynamic dimension of every model input is fixed, from --shape or by the default
//    (a dynamic first dimension is batch 1), so FLOPs and bytes are numbers.
// Tensors whose shape depends on data (NonZero, TopK with a computed k...) keep unknown
// dimensions (-1) even in fixed mode.
#pragma once

#include <onnx/onnx_pb.h>

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "graph/graph_view.h"

namespace seam::graph {

// Model input name -> its full shape, as given by --shape NAME=D0,D1,...
using ShapeOverrides = std::map<std::string, std::vector<int64_t>>;

// Parses "NAME=D0,D1,..." into `overrides`; a clear error when malformed.
Status ParseShapeOverride(const std::string& text, ShapeOverrides& overrides);

struct ValueType {
  int32_t elem_type = 0;      // onnx::TensorProto_DataType; 0 when unknown
  bool has_shape = false;     // false: rank unknown
  std::vector<int64_t> dims;  // -1 where a dimension is unknown or symbolic
  onnx::TypeProto proto;      // as inference produced it (with symbolic dim_params)

  bool fully_known() const;
};

using TypeTable = std::unordered_map<std::string, ValueType>;

// Symbolic types of every tensor that inference can type.
Result<TypeTable> InferSymbolicTypes(const onnx::ModelProto& model);
// Types with every model input's dynamic dimensions fixed (see above).
Result<TypeTable> InferFixedTypes(const onnx::ModelProto& model, const GraphView& view,
                                  const ShapeOverrides& overrides);

}  // namespace seam::graph
