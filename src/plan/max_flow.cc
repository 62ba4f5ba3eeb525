#include "plan/max_flow.h"

#include <algorithm>

namespace seam::plan {

MaxFlow::MaxFlow(int num_nodes) : head_(num_nodes, -1), level_(num_nodes), current_(num_nodes) {}

void MaxFlow::AddEdge(int from, int to, int64_t capacity) {
  capacity = std::min(capacity, kInfiniteCapacity);
  edges_.push_back({to, head_[from], capacity});
  head_[from] = static_cast<int>(edges_.size()) - 1;
  edges_.push_back({from, head_[to], 0});
  head_[to] = static_cast<int>(edges_.size()) - 1;
}

bool MaxFlow::BuildLevels(int source, int sink) {
  std::fill(level_.begin(), level_.end(), -1);
  queue_.clear();
  queue_.push_back(source);
  level_[source] = 0;
  for (size_t i = 0; i < queue_.size(); ++i) {
    const int u = queue_[i];
    for (int e = head_[u]; e >= 0; e = edges_[e].next) {
      const Edge& edge = edges_[e];
      if (edge.capacity > 0 && level_[edge.to] < 0) {
        level_[edge.to] = level_[u] + 1;
        queue_.push_back(edge.to);
      }
    }
  }
  return level_[sink] >= 0;
}

// One blocking-flow path search with current-arc pointers, iterative to bound stack depth.
int64_t MaxFlow::Augment(int source, int sink, int64_t limit) {
  std::vector<int> path;  // edges from source to the current node
  int u = source;
  int64_t total = 0;
  while (true) {
    if (u == sink) {
      int64_t push = limit - total;
      for (int e : path) push = std::min(push, edges_[e].capacity);
      for (int e : path) {
        edges_[e].capacity -= push;
        edges_[e ^ 1].capacity += push;
      }
      total += push;
      if (total >= limit) return total;
      // Restart from the source; saturated edges are skipped by the current-arc pointers.
      path.clear();
      u = source;
      continue;
    }
    int& e = current_[u];
    while (e >= 0 && !(edges_[e].capacity > 0 && level_[edges_[e].to] == level_[u] + 1)) {
      e = edges_[e].next;
    }
    if (e >= 0) {
      path.push_back(e);
      u = edges_[e].to;
      continue;
    }
    // Dead end: retreat and never come back to u in this phase.
    if (u == source) return total;
    level_[u] = -2;
    const int back = path.back();
    path.pop_back();
    u = edges_[back ^ 1].to;
    current_[u] = edges_[current_[u]].next;
  }
}

int64_t MaxFlow::Solve(int source, int sink) {
  int64_t flow = 0;
  while (flow < kInfiniteCapacity && BuildLevels(source, sink)) {
    current_ = head_;
    flow += Augment(source, sink, kInfiniteCapacity - flow);
  }
  // The source side of the minimum cut: nodes still reachable in the residual graph.
  BuildLevels(source, sink);
  return std::min(flow, kInfiniteCapacity);
}

}  // namespace seam::plan
