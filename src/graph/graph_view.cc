#include "graph/graph_view.h"

#include <functional>
#include <queue>
#include <set>
#include <unordered_set>

namespace seam::graph {
namespace {

bool IsNondeterministic(const std::string& op_type) {
  static const std::unordered_set<std::string> kOps = {"RandomNormal",     "RandomUniform",
                                                       "RandomNormalLike", "RandomUniformLike",
                                                       "Multinomial",      "Bernoulli"};
  return kOps.count(op_type) > 0;
}

// Names a subgraph reads from enclosing scopes: used but not defined inside it (recursively).
void CollectOuterReads(const onnx::GraphProto& body, std::set<std::string>& reads) {
  std::unordered_set<std::string> defined;
  for (const auto& v : body.input()) defined.insert(v.name());
  for (const auto& t : body.initializer()) defined.insert(t.name());
  for (const auto& n : body.node()) {
    for (const auto& o : n.output()) defined.insert(o);
  }
  auto use = [&](const std::string& name) {
    if (!name.empty() && !defined.count(name)) reads.insert(name);
  };
  for (const auto& n : body.node()) {
    for (const auto& i : n.input()) use(i);
    for (const auto& attr : n.attribute()) {
      std::set<std::string> nested;
      if (attr.has_g()) CollectOuterReads(attr.g(), nested);
      for (const auto& g : attr.graphs()) CollectOuterReads(g, nested);
      for (const auto& name : nested) use(name);
    }
  }
  for (const auto& v : body.output()) use(v.name());
}

}  // namespace

Result<GraphView> GraphView::Build(const onnx::ModelProto& model) {
  GraphView view;
  const onnx::GraphProto& graph = model.graph();
  auto intern = [&view](const std::string& name) -> TensorId {
    auto [it, inserted] = view.tensor_index_.try_emplace(name, view.tensors_.size());
    if (inserted) {
      view.tensors_.emplace_back();
      view.tensors_.back().name = name;
    }
    return it->second;
  };

  for (const auto& init : graph.initializer()) {
    TensorInfo& t = view.tensors_[intern(init.name())];
    t.is_initializer = true;
    t.is_constant = true;
  }
  for (const auto& input : graph.input()) {
    TensorInfo& t = view.tensors_[intern(input.name())];
    if (!t.is_initializer) {
      t.is_model_input = true;
      view.model_inputs_.push_back(view.tensor_index_[input.name()]);
    }
  }

  // Nodes and their outputs; every tensor is produced once (ONNX graphs are in SSA form).
  view.nodes_.resize(graph.node_size());
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& proto = graph.node(i);
    NodeInfo& node = view.nodes_[i];
    node.proto = &proto;
    node.proto_index = i;
    node.op_type = proto.op_type();
    for (const auto& out : proto.output()) {
      if (out.empty()) continue;
      TensorId id = intern(out);
      TensorInfo& t = view.tensors_[id];
      if (t.producer >= 0 || t.is_model_input || t.is_initializer) {
        return InvalidArgument("tensor '" + out + "' is produced twice (by node " +
                               std::to_string(i) + " '" + proto.name() +
                               "' and earlier); ONNX graphs must define each tensor once");
      }
      t.producer = i;
      node.outputs.push_back(id);
    }
  }
  for (int i = 0; i < graph.node_size(); ++i) {
    const onnx::NodeProto& proto = graph.node(i);
    NodeInfo& node = view.nodes_[i];
    std::set<std::string> reads;
    for (const auto& attr : proto.attribute()) {
      if (attr.has_g()) CollectOuterReads(attr.g(), reads);
      for (const auto& g : attr.graphs()) CollectOuterReads(g, reads);
    }
    std::vector<std::string> names(proto.input().begin(), proto.input().end());
    names.insert(names.end(), reads.begin(), reads.end());
    for (const auto& name : names) {
      if (name.empty()) continue;  // an omitted optional input
      auto it = view.tensor_index_.find(name);
      if (it == view.tensor_index_.end()) {
        return InvalidArgument("node '" + proto.name() + "' (" + proto.op_type() +
                               ") reads tensor '" + name +
                               "', which no node, input or initializer defines");
      }
      bool seen = false;
      for (TensorId t : node.inputs) seen |= (t == it->second);
      if (seen) continue;
      node.inputs.push_back(it->second);
      view.tensors_[it->second].consumers.push_back(i);
    }
  }
  for (const auto& output : graph.output()) {
    auto it = view.tensor_index_.find(output.name());
    if (it == view.tensor_index_.end()) {
      return InvalidArgument("model output '" + output.name() + "' is not produced by any node");
    }
    view.tensors_[it->second].is_model_output = true;
    view.model_outputs_.push_back(it->second);
  }

  // Unique display names.
  for (auto& node : view.nodes_) {
    std::string name = node.proto->name();
    if (name.empty() || view.node_index_.count(name)) {
      name = node.op_type + "_" + std::to_string(node.proto_index);
    }
    while (view.node_index_.count(name)) name += "_";
    node.name = name;
    view.node_index_[name] = node.proto_index;
  }

  // Kahn's algorithm, smallest proto index first: keeps the model's order where it is valid.
  std::vector<int> pending(view.nodes_.size(), 0);
  std::priority_queue<int, std::vector<int>, std::greater<>> ready;
  for (auto& node : view.nodes_) {
    for (TensorId t : node.inputs) pending[node.proto_index] += view.tensors_[t].producer >= 0;
    if (pending[node.proto_index] == 0) ready.push(node.proto_index);
  }
  std::vector<NodeId> topo;
  while (!ready.empty()) {
    NodeId n = ready.top();
    ready.pop();
    topo.push_back(n);
    for (TensorId t : view.nodes_[n].outputs) {
      for (NodeId c : view.tensors_[t].consumers) {
        if (--pending[c] == 0) ready.push(c);
      }
    }
  }
  if (topo.size() != view.nodes_.size()) {
    for (const auto& node : view.nodes_) {
      if (pending[node.proto_index] > 0) {
        return InvalidArgument("the graph has a cycle through node '" + node.name + "'");
      }
    }
  }

  for (NodeId n : topo) {
    NodeInfo& node = view.nodes_[n];
    bool constant = !IsNondeterministic(node.op_type);
    for (TensorId t : node.inputs) constant &= view.tensors_[t].is_constant;
    node.is_constant = constant;
    for (TensorId t : node.outputs) view.tensors_[t].is_constant = constant;
    if (constant) {
      view.constant_order_.push_back(n);
    } else {
      node.position = static_cast<int>(view.order_.size());
      view.order_.push_back(n);
    }
  }
  return view;
}

std::optional<TensorId> GraphView::FindTensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  if (it == tensor_index_.end()) return std::nullopt;
  return it->second;
}

std::optional<NodeId> GraphView::FindNode(const std::string& name) const {
  auto it = node_index_.find(name);
  if (it == node_index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace seam::graph
