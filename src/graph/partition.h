// Partition: the assignment of compute nodes to segments, from boundaries given as tensor sets.
//
// Boundary j (1-based) is given either as a set of tensors or as "after node X".
//  - Tensors: the nodes after the boundary are those that depend on its tensors without being
//    needed to compute them (descendants minus ancestors); everything else comes before. So a
//    tensor read on both sides (a skip connection's source) is fine, and a side branch that does
//    not depend on the boundary stays before it.
//  - After node X: the compute nodes after X in the topological order; its tensors are those that
//    cross that cut (see cuts.h).
// A boundary is valid when it truly separates the graph: every non-constant tensor read after it
// but produced before it (or a model input) is in the set, each tensor of the set is read after
// it, and at least one node follows it. Boundaries must come in graph order: each one's "after"
// part strictly contains the next one's. Segment j lies after boundary j and before boundary j+1.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "graph/graph_view.h"

namespace seam::graph {

struct BoundarySpec {
  std::vector<std::string> tensors;  // either the crossing tensors,
  std::string after_node;            // or the node right before the boundary
};

struct Partition {
  int num_segments = 0;
  std::vector<int> segment_of_node;                  // by NodeId; -1 for constant nodes
  std::vector<std::vector<NodeId>> segment_nodes;    // compute nodes of each segment, in order()
  std::vector<std::vector<std::string>> boundaries;  // the crossing tensors of each boundary
};

Result<Partition> PartitionAtBoundaries(const GraphView& view,
                                        const std::vector<BoundarySpec>& boundaries);

// The partition given by a segment per compute node (by NodeId; constant nodes are ignored), as
// a placement on a chain of tiers gives it. Data may only flow forward: a node's segment must be
// at least that of every node it reads from (the error names both nodes). Every segment in
// [0, num_segments) must hold a node. Boundary j's tensors are those made before it (or model
// inputs) and read after it.
Result<Partition> PartitionFromAssignment(const GraphView& view,
                                          const std::vector<int>& segment_of_node,
                                          int num_segments);

}  // namespace seam::graph
