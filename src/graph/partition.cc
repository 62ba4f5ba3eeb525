#include "graph/partition.h"

#include <algorithm>
#include <unordered_set>

#include "graph/cuts.h"

namespace seam::graph {
namespace {

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ",") + n;
  return out;
}

// Marks compute nodes reachable from `tensors` (forward) or needed to compute them (backward).
std::vector<char> Reach(const GraphView& view, const std::vector<TensorId>& tensors, bool forward) {
  std::vector<char> reached(view.nodes().size(), 0);
  std::vector<NodeId> stack;
  auto visit = [&](NodeId n) {
    if (n >= 0 && !reached[n] && !view.node(n).is_constant) {
      reached[n] = 1;
      stack.push_back(n);
    }
  };
  for (TensorId t : tensors) {
    if (forward) {
      for (NodeId c : view.tensor(t).consumers) visit(c);
    } else {
      visit(view.tensor(t).producer);
    }
  }
  while (!stack.empty()) {
    const NodeInfo& node = view.node(stack.back());
    stack.pop_back();
    for (TensorId t : forward ? node.outputs : node.inputs) {
      if (forward) {
        for (NodeId c : view.tensor(t).consumers) visit(c);
      } else {
        visit(view.tensor(t).producer);
      }
    }
  }
  return reached;
}

// The compute nodes after a boundary given by tensors: descendants that are not ancestors.
std::vector<char> NodesAfter(const GraphView& view, const std::vector<TensorId>& tensors) {
  std::vector<char> after = Reach(view, tensors, /*forward=*/true);
  const std::vector<char> before = Reach(view, tensors, /*forward=*/false);
  for (size_t n = 0; n < after.size(); ++n) after[n] &= !before[n];
  return after;
}

// Resolves one boundary to its crossing tensors and the mask of nodes after it.
Status ResolveBoundary(const GraphView& view, int index, const BoundarySpec& spec,
                       std::vector<TensorId>& tensors, std::vector<char>& after) {
  const std::string where = "boundary " + std::to_string(index);
  if (!spec.after_node.empty()) {
    SEAM_ASSIGN_OR_RETURN(std::vector<std::string> names, BoundaryAfterNode(view, spec.after_node));
    for (const auto& name : names) tensors.push_back(*view.FindTensor(name));
    const int position = view.node(*view.FindNode(spec.after_node)).position;
    after.assign(view.nodes().size(), 0);
    for (NodeId n : view.order()) after[n] = view.node(n).position > position;
    return Status::Ok();
  }
  if (spec.tensors.empty()) return InvalidArgument(where + " names no tensor");
  for (const auto& name : spec.tensors) {
    auto id = view.FindTensor(name);
    if (!id) return NotFound(where + ": no tensor named '" + name + "' in the model");
    if (view.tensor(*id).is_constant) {
      return InvalidArgument(where + ": tensor '" + name +
                             "' is a constant (initializer or computed from initializers); "
                             "constants never cross a boundary, every segment carries its own");
    }
    if (std::find(tensors.begin(), tensors.end(), *id) != tensors.end()) {
      return InvalidArgument(where + ": tensor '" + name + "' is listed twice");
    }
    tensors.push_back(*id);
  }
  after = NodesAfter(view, tensors);
  return Status::Ok();
}

Status ValidateBoundary(const GraphView& view, int index, const std::vector<TensorId>& tensors,
                        const std::vector<char>& after) {
  const std::string where = "boundary " + std::to_string(index);
  std::unordered_set<TensorId> in_set(tensors.begin(), tensors.end());
  for (TensorId t : tensors) {
    const TensorInfo& info = view.tensor(t);
    bool used_after = false;
    for (NodeId c : info.consumers) used_after |= after[c] != 0;
    if (!used_after) {
      return InvalidArgument(where + ": tensor '" + info.name + "' is not read after the boundary");
    }
  }
  bool any_after = false;
  for (NodeId n : view.order()) {
    if (!after[n]) continue;
    any_after = true;
    for (TensorId t : view.node(n).inputs) {
      const TensorInfo& info = view.tensor(t);
      if (info.is_constant || in_set.count(t)) continue;
      if (info.producer >= 0 && after[info.producer]) continue;
      return InvalidArgument(where + " does not separate the graph: tensor '" + info.name + "' (" +
                             (info.producer >= 0
                                  ? "produced by node '" + view.node(info.producer).name + "'"
                                  : std::string("a model input")) +
                             ", before the boundary) is read by node '" + view.node(n).name +
                             "' after it, but is not in the boundary");
    }
  }
  if (!any_after) return InvalidArgument(where + " has no node after it");
  return Status::Ok();
}

}  // namespace

Result<Partition> PartitionAtBoundaries(const GraphView& view,
                                        const std::vector<BoundarySpec>& boundaries) {
  const size_t num_nodes = view.nodes().size();
  std::vector<std::vector<char>> after_sets;
  std::vector<std::vector<std::string>> resolved;
  for (size_t b = 0; b < boundaries.size(); ++b) {
    const int index = static_cast<int>(b) + 1;
    const std::string where = "boundary " + std::to_string(index);
    std::vector<TensorId> tensors;
    std::vector<char> after;
    SEAM_RETURN_IF_ERROR(ResolveBoundary(view, index, boundaries[b], tensors, after));
    std::vector<std::string> names;
    for (TensorId t : tensors) names.push_back(view.tensor(t).name);
    SEAM_RETURN_IF_ERROR(ValidateBoundary(view, index, tensors, after));
    if (!after_sets.empty()) {
      const auto& previous = after_sets.back();
      bool strictly_inside = false;
      for (size_t n = 0; n < num_nodes; ++n) {
        if (after[n] && !previous[n]) {
          return InvalidArgument(where + " (" + Join(names) + ") is out of order: node '" +
                                 view.node(n).name + "' comes after it but before boundary " +
                                 std::to_string(index - 1) + " (" + Join(resolved.back()) +
                                 "); give boundaries from the model's input to its output");
        }
        strictly_inside |= previous[n] && !after[n];
      }
      if (!strictly_inside) {
        return InvalidArgument(where + " leaves no node between it and boundary " +
                               std::to_string(index - 1) + ": the segment would be empty");
      }
    }
    after_sets.push_back(std::move(after));
    resolved.push_back(std::move(names));
  }

  Partition partition;
  partition.num_segments = static_cast<int>(boundaries.size()) + 1;
  partition.boundaries = std::move(resolved);
  partition.segment_of_node.assign(num_nodes, -1);
  partition.segment_nodes.resize(partition.num_segments);
  for (NodeId n : view.order()) {
    int segment = 0;
    while (segment < static_cast<int>(after_sets.size()) && after_sets[segment][n]) ++segment;
    partition.segment_of_node[n] = segment;
  }
  // Nodes are listed in order(); segment j's nodes may interleave with j+1's in that order when
  // the boundary was given by tensors, which is fine: each segment is itself topologically sorted.
  for (NodeId n : view.order()) partition.segment_nodes[partition.segment_of_node[n]].push_back(n);
  for (int s = 0; s < partition.num_segments; ++s) {
    if (partition.segment_nodes[s].empty()) {
      return InvalidArgument("segment " + std::to_string(s) + " would hold no node");
    }
  }
  return partition;
}

Result<Partition> PartitionFromAssignment(const GraphView& view,
                                          const std::vector<int>& segment_of_node,
                                          int num_segments) {
  if (segment_of_node.size() != view.nodes().size()) {
    return InvalidArgument("assignment has " + std::to_string(segment_of_node.size()) +
                           " entries for " + std::to_string(view.nodes().size()) + " nodes");
  }
  Partition partition;
  partition.num_segments = num_segments;
  partition.segment_of_node.assign(view.nodes().size(), -1);
  partition.segment_nodes.resize(num_segments);
  for (NodeId n : view.order()) {
    const int s = segment_of_node[n];
    if (s < 0 || s >= num_segments) {
      return InvalidArgument("node '" + view.node(n).name + "' is assigned to segment " +
                             std::to_string(s) + ", outside [0, " + std::to_string(num_segments) +
                             ")");
    }
    partition.segment_of_node[n] = s;
    partition.segment_nodes[s].push_back(n);
  }
  for (int s = 0; s < num_segments; ++s) {
    if (partition.segment_nodes[s].empty()) {
      return InvalidArgument("segment " + std::to_string(s) + " would hold no node");
    }
  }
  // Earliest and latest segment reading each non-constant tensor; its producer's segment.
  partition.boundaries.assign(std::max(0, num_segments - 1), {});
  for (TensorId t = 0; t < static_cast<TensorId>(view.tensors().size()); ++t) {
    const TensorInfo& info = view.tensor(t);
    if (info.is_constant) continue;
    const int from = info.producer < 0 ? 0 : partition.segment_of_node[info.producer];
    if (info.producer >= 0 && from < 0) continue;
    int last = from;
    for (NodeId c : info.consumers) {
      const int s = partition.segment_of_node[c];
      if (s < 0) continue;
      if (s < from) {
        return InvalidArgument("node '" + view.node(c).name + "' (segment " + std::to_string(s) +
                               ") reads tensor '" + info.name + "' made by node '" +
                               view.node(info.producer).name + "' in later segment " +
                               std::to_string(from) + ": data only flows forward");
      }
      last = std::max(last, s);
    }
    for (int b = from + 1; b <= last; ++b) partition.boundaries[b - 1].push_back(info.name);
  }
  return partition;
}

}  // namespace seam::graph
