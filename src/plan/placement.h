// The placement problem at the heart of the planner, in its pure form, and its exact solver.
//
// Tiers are ordered 0..T-1 along the chain device -> edge -> cloud; link k joins tier k and k+1.
// Every node gets a tier, and data only moves up the chain: a node's tier is at least the tier of
// every node it reads from. The request's input starts on tier 0.
//
// The cost of a placement (any additive objective: milliseconds, joules, money) is
//   sum over nodes v          of node_cost[v][tier(v)]
// + sum over tensors t, links k crossed by t  of link_cost[t][k]
// + sum over links k that carry anything      of fixed_link_cost[k]
// + first_tier_cost if tier 0 runs any node.
// (A tier above the first pays its per-request costs whenever data reaches it, even to pass it
// on: put those in the fixed cost of the link below it.)
// A tensor produced on tier a (a model input: tier 0) and read up to tier b crosses links
// a..b-1, once each however many readers it has. A link carries something iff some node sits
// above it (every compute node depends on the input, which starts on tier 0).
//
// SolvePlacement finds a placement of minimum cost exactly, with one minimum s-t cut over a layered
// graph (Ishikawa's construction): one layer per link, infinite edges for the monotone order, one
// auxiliary node per multi-reader tensor and layer so that a tensor read by several nodes above a
// link pays that link once, one per link for its fixed cost (an OR of "some node above it"), and
// one for the first tier's fixed cost (an AND of "every node above it", which is submodular with
// a negative weight: -c*AND(x) = min_z c*(-z + z*sum(1-x))).
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "common/status.h"

namespace seam::plan {

inline constexpr double kForbidden = std::numeric_limits<double>::infinity();

struct PlacementProblem {
  int num_tiers = 0;
  // node_cost[v][j]: cost of running node v on tier j; kForbidden where it may not run.
  std::vector<std::vector<double>> node_cost;
  struct Tensor {
    int producer = -1;           // node index, or -1 for a model input (on tier 0)
    std::vector<int> consumers;  // node indices
    // link_cost[k]: cost of moving the tensor over link k (tier k -> k+1); kForbidden if it
    // must not cross link k (e.g. raw input that must stay on the device).
    std::vector<double> link_cost;
  };
  std::vector<Tensor> tensors;
  std::vector<double> fixed_link_cost;  // per link, paid once if the link carries anything
  double first_tier_cost = 0;           // paid once if tier 0 runs any node
};

struct Placement {
  std::vector<int> tier;  // per node
  double cost = 0;
};

// Cost of a given placement (kForbidden if it breaks an order or a kForbidden entry).
double PlacementCost(const PlacementProblem& problem, const std::vector<int>& tier);

// Validates the problem's shape (sizes, indices, non-negative costs), then solves it exactly.
// FAILED_PRECONDITION when every placement is forbidden.
Result<Placement> SolvePlacement(const PlacementProblem& problem);

}  // namespace seam::plan
