// GraphView: an indexed, read-only view of an ONNX graph as a DAG of nodes and tensors.
//
// Two kinds of node matter to cutting:
//  - compute nodes depend (transitively) on a model input; they are what a cut separates, and
//    `order()` lists them in a topological order (the model's own order where it is valid);
//  - constant nodes (Constant, or any deterministic node fed only by initializers and other
//    constants) are folded into every segment that needs them, like initializers, so a constant
//    never crosses a cut.
// Subgraph-carrying nodes (If, Loop, Scan) list the outer-scope tensors their bodies read as
// inputs, so a cut never separates a body from what it reads.
//
// The view holds pointers into the ModelProto it was built from: that proto must outlive it.
// Immutable after Build, so it is safe to share between threads.
#pragma once

#include <onnx/onnx_pb.h>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace seam::graph {

using TensorId = int;
using NodeId = int;

struct TensorInfo {
  std::string name;
  NodeId producer = -1;           // -1 for model inputs and initializers
  std::vector<NodeId> consumers;  // each consumer once, in node order
  bool is_model_input = false;    // a graph input that is not an initializer
  bool is_model_output = false;
  bool is_initializer = false;
  bool is_constant = false;  // an initializer or computed from constants only
};

struct NodeInfo {
  std::string name;  // unique: the node's name, or "<op_type>_<index>" when it has none
  std::string op_type;
  const onnx::NodeProto* proto = nullptr;
  int proto_index = 0;           // index in GraphProto.node
  std::vector<TensorId> inputs;  // explicit inputs, then outer-scope reads of subgraphs; no repeats
  std::vector<TensorId> outputs;  // non-empty outputs
  bool is_constant = false;
  int position = -1;  // index in order(); -1 for constant nodes
};

class GraphView {
 public:
  static Result<GraphView> Build(const onnx::ModelProto& model);

  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const NodeInfo& node(NodeId id) const { return nodes_[id]; }
  const TensorInfo& tensor(TensorId id) const { return tensors_[id]; }
  // Compute nodes in topological order.
  const std::vector<NodeId>& order() const { return order_; }
  // Constant nodes in topological order.
  const std::vector<NodeId>& constant_nodes() const { return constant_order_; }
  const std::vector<TensorId>& model_inputs() const { return model_inputs_; }
  const std::vector<TensorId>& model_outputs() const { return model_outputs_; }

  std::optional<TensorId> FindTensor(const std::string& name) const;
  std::optional<NodeId> FindNode(const std::string& name) const;

 private:
  std::vector<NodeInfo> nodes_;
  std::vector<TensorInfo> tensors_;
  std::vector<NodeId> order_;
  std::vector<NodeId> constant_order_;
  std::vector<TensorId> model_inputs_;
  std::vector<TensorId> model_outputs_;
  std::unordered_map<std::string, TensorId> tensor_index_;
  std::unordered_map<std::string, NodeId> node_index_;
};

}  // namespace seam::graph
