// Candidate cuts of a model: for each position in the topological order of compute nodes, the
// tensors that cross it.
//
// Cut k (1 <= k < number of compute nodes) puts order()[0..k) before and order()[k..) after.
// A tensor crosses cut k when it is produced before the cut (a model input counts as produced
// before everything) and consumed after it. Constants never cross: every segment carries its own.
// This holds for any DAG: a skip connection crosses every cut it spans.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "graph/graph_view.h"

namespace seam::graph {

struct Cut {
  int position = 0;               // number of compute nodes before the cut
  std::vector<TensorId> tensors;  // crossing tensors, by tensor id
};

// All cuts 1..n-1, in one sweep: O(nodes + tensors + total size of the crossing sets).
std::vector<Cut> EnumerateCuts(const GraphView& view);

// The crossing tensors of cut `position` alone.
std::vector<TensorId> CrossingTensors(const GraphView& view, int position);

// The boundary tensors of the contiguous segment order()[first..last]: its inputs (tensors its
// nodes read that a model input or an earlier node provides) then its outputs (tensors its nodes
// produce that a later node reads or that are model outputs), each once, constants never. These
// are exactly the inputs and outputs `seam split` gives that segment (no tensor passes through
// a segment: one that skips it goes straight to its readers). Empty when the range is invalid.
std::vector<TensorId> SegmentBoundary(const GraphView& view, int first, int last);

// The boundary right after the compute node named `node_name`, as tensor names; an error if the
// node does not exist, is a constant, or is the last node (nothing would follow it).
Result<std::vector<std::string>> BoundaryAfterNode(const GraphView& view,
                                                   const std::string& node_name);

}  // namespace seam::graph
