#include "plan/placement.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "plan/max_flow.h"

namespace seam::plan {
namespace {

Status Validate(const PlacementProblem& p) {
  const int tiers = p.num_tiers;
  const int nodes = static_cast<int>(p.node_cost.size());
  if (tiers < 1) return InvalidArgument("the placement needs at least one tier");
  if (tiers > 8) return InvalidArgument("the placement handles at most 8 tiers");
  if (static_cast<int>(p.fixed_link_cost.size()) != tiers - 1) {
    return InvalidArgument("expected " + std::to_string(tiers - 1) + " fixed link costs, got " +
                           std::to_string(p.fixed_link_cost.size()));
  }
  auto bad_cost = [](double c) { return std::isnan(c) || c < 0; };
  for (double c : p.fixed_link_cost) {
    if (bad_cost(c) || std::isinf(c))
      return InvalidArgument("fixed link costs must be finite and >= 0");
  }
  if (bad_cost(p.first_tier_cost) || std::isinf(p.first_tier_cost)) {
    return InvalidArgument("the first tier's fixed cost must be finite and >= 0");
  }
  for (int v = 0; v < nodes; ++v) {
    if (static_cast<int>(p.node_cost[v].size()) != tiers) {
      return InvalidArgument("node " + std::to_string(v) + " has " +
                             std::to_string(p.node_cost[v].size()) + " tier costs, expected " +
                             std::to_string(tiers));
    }
    for (double c : p.node_cost[v]) {
      if (bad_cost(c))
        return InvalidArgument("node " + std::to_string(v) + " has a negative or NaN cost");
    }
  }
  for (size_t t = 0; t < p.tensors.size(); ++t) {
    const auto& tensor = p.tensors[t];
    if (tensor.producer < -1 || tensor.producer >= nodes) {
      return InvalidArgument("tensor " + std::to_string(t) + " has producer out of range");
    }
    for (int c : tensor.consumers) {
      if (c < 0 || c >= nodes)
        return InvalidArgument("tensor " + std::to_string(t) + " has a consumer out of range");
    }
    if (static_cast<int>(tensor.link_cost.size()) != tiers - 1) {
      return InvalidArgument("tensor " + std::to_string(t) + " has " +
                             std::to_string(tensor.link_cost.size()) + " link costs, expected " +
                             std::to_string(tiers - 1));
    }
    for (double c : tensor.link_cost) {
      if (bad_cost(c))
        return InvalidArgument("tensor " + std::to_string(t) + " has a negative or NaN link cost");
    }
  }
  return Status::Ok();
}

// Integer capacities: costs are scaled so that every finite sum stays far below the infinite
// capacity; rounding error per term is at most half a unit.
struct Scale {
  double units_per_cost;
  int64_t operator()(double cost) const {
    if (std::isinf(cost)) return kInfiniteCapacity;
    return static_cast<int64_t>(std::llround(cost * units_per_cost));
  }
};

Scale ChooseScale(const PlacementProblem& p) {
  double total = 0;
  auto add = [&total](double c) {
    if (!std::isinf(c)) total += c;
  };
  for (const auto& costs : p.node_cost) std::for_each(costs.begin(), costs.end(), add);
  for (const auto& t : p.tensors) std::for_each(t.link_cost.begin(), t.link_cost.end(), add);
  std::for_each(p.fixed_link_cost.begin(), p.fixed_link_cost.end(), add);
  add(p.first_tier_cost * static_cast<double>(p.node_cost.size() + 1));  // one edge per node
  const double budget = static_cast<double>(kInfiniteCapacity) / 8;
  return Scale{total > 0 ? std::min(1e9, budget / total) : 1e9};
}

// The minimum-cost placement over all tiers, priced by PlacementCost; infinite when none exists.
Placement SolveCut(const PlacementProblem& p, const Scale& scale) {
  const int nodes = static_cast<int>(p.node_cost.size());
  const int h = p.num_tiers - 1;  // layers: one per link
  Placement result;
  result.tier.assign(nodes, 0);
  if (h == 0) {
    result.cost = PlacementCost(p, result.tier);
    return result;
  }
  // Graph nodes: source, sink, v_k for each node and layer (v_k on the source side means the
  // node sits above link k), the first-tier auxiliary, one per link, then one per tensor-layer.
  const int source = 0, sink = 1, first_tier = 2;
  auto var = [h](int v, int k) { return 4 + h + v * h + k; };
  auto link_used = [](int k) { return 3 + k; };
  int next_node = 4 + h + nodes * h;
  int aux_count = 0;
  for (const auto& t : p.tensors) aux_count += t.consumers.size() > 1 ? h : 0;
  MaxFlow flow(next_node + aux_count);
  flow.Reserve(static_cast<size_t>(nodes) * (5 * h + 2) + p.tensors.size() * 4 * h);

  for (int v = 0; v < nodes; ++v) {
    const auto& cost = p.node_cost[v];
    // The chain s -> v_0 -> ... -> v_{h-1} -> t: cutting the edge into v_j means tier j.
    flow.AddEdge(source, var(v, 0), scale(cost[0]));
    for (int k = 1; k < h; ++k) flow.AddEdge(var(v, k - 1), var(v, k), scale(cost[k]));
    flow.AddEdge(var(v, h - 1), sink, scale(cost[h]));
    // Tier > k implies tier > k-1: the chain is cut exactly once.
    for (int k = 1; k < h; ++k) flow.AddEdge(var(v, k), var(v, k - 1), kInfiniteCapacity);
    // Link k carries data when any node is above it.
    for (int k = 0; k < h; ++k) flow.AddEdge(var(v, k), link_used(k), kInfiniteCapacity);
    // The first tier runs something unless every node is above link 0.
    flow.AddEdge(first_tier, var(v, 0), scale(p.first_tier_cost));
  }
  for (int k = 0; k < h; ++k) flow.AddEdge(link_used(k), sink, scale(p.fixed_link_cost[k]));
  flow.AddEdge(source, first_tier, scale(p.first_tier_cost));
  for (const auto& t : p.tensors) {
    for (int k = 0; k < h; ++k) {
      // A reader is never below its producer.
      if (t.producer >= 0) {
        for (int c : t.consumers) flow.AddEdge(var(t.producer, k), var(c, k), kInfiniteCapacity);
      }
      // The tensor pays link k when some reader is above k and the producer is not.
      const int producer_side = t.producer >= 0 ? var(t.producer, k) : sink;
      const int64_t cost = scale(t.link_cost[k]);
      if (t.consumers.size() == 1) {
        flow.AddEdge(var(t.consumers[0], k), producer_side, cost);
      } else if (t.consumers.size() > 1) {
        const int aux = next_node++;
        for (int c : t.consumers) flow.AddEdge(var(c, k), aux, kInfiniteCapacity);
        flow.AddEdge(aux, producer_side, cost);
      }
    }
  }
  if (flow.Solve(source, sink) >= kInfiniteCapacity) {
    result.cost = kForbidden;
    return result;
  }
  for (int v = 0; v < nodes; ++v) {
    int tier = 0;
    while (tier < h && flow.OnSourceSide(var(v, tier))) ++tier;
    result.tier[v] = tier;
  }
  result.cost = PlacementCost(p, result.tier);
  return result;
}

}  // namespace

double PlacementCost(const PlacementProblem& p, const std::vector<int>& tier) {
  double cost = 0;
  int highest = 0;
  bool first_tier_used = false;
  for (size_t v = 0; v < p.node_cost.size(); ++v) {
    cost += p.node_cost[v][tier[v]];
    highest = std::max(highest, tier[v]);
    first_tier_used |= tier[v] == 0;
  }
  if (first_tier_used) cost += p.first_tier_cost;
  for (const auto& t : p.tensors) {
    const int from = t.producer >= 0 ? tier[t.producer] : 0;
    int to = from;
    for (int c : t.consumers) {
      if (tier[c] < from) return kForbidden;
      to = std::max(to, tier[c]);
    }
    for (int k = from; k < to; ++k) cost += t.link_cost[k];
  }
  for (int k = 0; k < highest; ++k) cost += p.fixed_link_cost[k];
  return cost;
}

Result<Placement> SolvePlacement(const PlacementProblem& problem) {
  SEAM_RETURN_IF_ERROR(Validate(problem));
  const Scale scale = ChooseScale(problem);
  Placement best = SolveCut(problem, scale);
  if (std::isinf(best.cost)) {
    return FailedPrecondition(
        "no placement satisfies the constraints (every one runs a node "
        "where it may not run or moves a tensor where it may not go)");
  }
  return best;
}

}  // namespace seam::plan
