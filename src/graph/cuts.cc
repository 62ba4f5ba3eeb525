#include "graph/cuts.h"

#include <algorithm>
#include <set>

namespace seam::graph {
namespace {

// Positions between which a tensor is live across cuts: it crosses cut k iff first <= k <= last.
// Returns false for tensors that cross no cut.
bool CrossingRange(const GraphView& view, const TensorInfo& t, int& first, int& last) {
  if (t.is_constant) return false;
  first = t.producer >= 0 ? view.node(t.producer).position + 1 : 0;
  last = -1;
  for (NodeId c : t.consumers) last = std::max(last, view.node(c).position);
  first = std::max(first, 1);
  return last >= first;
}

}  // namespace

std::vector<Cut> EnumerateCuts(const GraphView& view) {
  const int n = static_cast<int>(view.order().size());
  if (n < 2) return {};
  // Tensors entering and leaving the live set at each position.
  std::vector<std::vector<TensorId>> enter(n + 1), leave(n + 1);
  for (TensorId id = 0; id < static_cast<TensorId>(view.tensors().size()); ++id) {
    int first = 0, last = 0;
    if (!CrossingRange(view, view.tensor(id), first, last)) continue;
    enter[first].push_back(id);
    leave[last + 1].push_back(id);
  }
  std::vector<Cut> cuts;
  cuts.reserve(n - 1);
  std::set<TensorId> live;
  for (int k = 1; k < n; ++k) {
    for (TensorId t : leave[k]) live.erase(t);
    for (TensorId t : enter[k]) live.insert(t);
    cuts.push_back(Cut{k, std::vector<TensorId>(live.begin(), live.end())});
  }
  return cuts;
}

std::vector<TensorId> CrossingTensors(const GraphView& view, int position) {
  std::vector<TensorId> out;
  for (TensorId id = 0; id < static_cast<TensorId>(view.tensors().size()); ++id) {
    int first = 0, last = 0;
    if (CrossingRange(view, view.tensor(id), first, last) && first <= position &&
        position <= last) {
      out.push_back(id);
    }
  }
  return out;
}

std::vector<TensorId> SegmentBoundary(const GraphView& view, int first, int last) {
  const int n = static_cast<int>(view.order().size());
  if (first < 0 || first > last || last >= n) return {};
  auto inside = [&](NodeId node) {
    const int p = view.node(node).position;
    return p >= first && p <= last;
  };
  std::vector<TensorId> inputs, outputs;
  for (TensorId id = 0; id < static_cast<TensorId>(view.tensors().size()); ++id) {
    const TensorInfo& t = view.tensor(id);
    if (t.is_constant) continue;
    const bool made_inside = t.producer >= 0 && inside(t.producer);
    bool read_inside = false, read_after = false;
    for (NodeId c : t.consumers) {
      if (view.node(c).is_constant) continue;
      read_inside |= inside(c);
      read_after |= view.node(c).position > last;
    }
    if (!made_inside && read_inside) inputs.push_back(id);
    if (made_inside && (read_after || t.is_model_output)) outputs.push_back(id);
  }
  inputs.insert(inputs.end(), outputs.begin(), outputs.end());
  return inputs;
}

Result<std::vector<std::string>> BoundaryAfterNode(const GraphView& view,
                                                   const std::string& node_name) {
  auto id = view.FindNode(node_name);
  if (!id) return NotFound("--after-node '" + node_name + "': no node has that name");
  const NodeInfo& node = view.node(*id);
  if (node.is_constant) {
    return InvalidArgument("--after-node '" + node_name +
                           "': the node computes a constant, which every segment carries; "
                           "cut after a node that depends on the model's input");
  }
  if (node.position + 1 >= static_cast<int>(view.order().size())) {
    return InvalidArgument("--after-node '" + node_name +
                           "': it is the last node, so nothing would follow the cut");
  }
  std::vector<std::string> names;
  for (TensorId t : CrossingTensors(view, node.position + 1)) names.push_back(view.tensor(t).name);
  return names;
}

}  // namespace seam::graph
