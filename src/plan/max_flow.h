// Minimum s-t cut by Dinic's maximum-flow algorithm on integer capacities.
//
// Small and allocation-light: the planner builds one graph per highest tier and solves it once.
// Capacities are int64; kInfiniteCapacity marks edges that must never be cut. A flow that reaches
// kInfiniteCapacity means every cut crosses an infinite edge (the problem is infeasible): Solve
// stops there rather than overflow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace seam::plan {

inline constexpr int64_t kInfiniteCapacity = int64_t{1} << 52;

class MaxFlow {
 public:
  explicit MaxFlow(int num_nodes);
  void AddEdge(int from, int to, int64_t capacity);
  void Reserve(size_t edges) { edges_.reserve(2 * edges); }
  // Maximum flow from source to sink (= minimum cut), capped at kInfiniteCapacity.
  int64_t Solve(int source, int sink);
  // After Solve: whether a node is on the source side of the minimum cut.
  bool OnSourceSide(int node) const { return level_[node] >= 0; }
  int num_nodes() const { return static_cast<int>(head_.size()); }

 private:
  bool BuildLevels(int source, int sink);
  int64_t Augment(int source, int sink, int64_t limit);

  struct Edge {
    int to;
    int next;  // next edge out of the same node, -1 at the end
    int64_t capacity;
  };
  std::vector<Edge> edges_;  // edge i and i^1 are each other's reverse
  std::vector<int> head_;
  std::vector<int> level_;
  std::vector<int> current_;
  std::vector<int> queue_;
};

}  // namespace seam::plan
