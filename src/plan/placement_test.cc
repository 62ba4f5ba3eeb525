// Optimality property: on random DAGs with random costs, the exact solver's cost equals a brute
// force over every valid placement, for 2 and 3 tiers.
#include "plan/placement.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>

namespace seam::plan {
namespace {

// A random DAG in topological order 0..n-1: each node reads 1-3 earlier tensors (or the input).
PlacementProblem RandomProblem(std::mt19937_64& rng, int nodes, int tiers, bool allow_forbidden) {
  std::uniform_real_distribution<double> cost(0.0, 10.0);
  std::uniform_int_distribution<int> coin(0, 99);
  PlacementProblem p;
  p.num_tiers = tiers;
  p.node_cost.resize(nodes);
  for (auto& c : p.node_cost) {
    for (int j = 0; j < tiers; ++j) {
      c.push_back(allow_forbidden && coin(rng) < 5 ? kForbidden : cost(rng));
    }
  }
  for (int k = 0; k + 1 < tiers; ++k) p.fixed_link_cost.push_back(cost(rng));
  if (coin(rng) < 50) p.first_tier_cost = cost(rng);
  // Tensor 0: the model input; then one output tensor per node.
  p.tensors.resize(nodes + 1);
  p.tensors[0].producer = -1;
  for (int v = 0; v < nodes; ++v) p.tensors[v + 1].producer = v;
  for (int v = 0; v < nodes; ++v) {
    const int reads = 1 + coin(rng) % 3;
    for (int r = 0; r < reads; ++r) {
      const int t = std::uniform_int_distribution<int>(0, v)(rng);  // input or an earlier node
      auto& consumers = p.tensors[t].consumers;
      if (std::find(consumers.begin(), consumers.end(), v) == consumers.end())
        consumers.push_back(v);
    }
  }
  for (auto& t : p.tensors) {
    for (int k = 0; k + 1 < tiers; ++k) {
      t.link_cost.push_back(allow_forbidden && t.producer < 0 && coin(rng) < 10 ? kForbidden
                                                                                : cost(rng));
    }
  }
  return p;
}

// Enumerates placements in topological order, each node at or above its producers' tiers.
double BruteForce(const PlacementProblem& p) {
  const int n = static_cast<int>(p.node_cost.size());
  std::vector<std::vector<int>> readers_of(n);  // producers each node reads from
  for (const auto& t : p.tensors) {
    for (int c : t.consumers) {
      if (t.producer >= 0) readers_of[c].push_back(t.producer);
    }
  }
  std::vector<int> tier(n, 0);
  double best = kForbidden;
  std::function<void(int)> place = [&](int v) {
    if (v == n) {
      best = std::min(best, PlacementCost(p, tier));
      return;
    }
    int low = 0;
    for (int u : readers_of[v]) low = std::max(low, tier[u]);
    for (int j = low; j < p.num_tiers; ++j) {
      tier[v] = j;
      place(v + 1);
    }
  };
  place(0);
  return best;
}

void CheckRandom(int tiers, int max_nodes, int cases, bool allow_forbidden, uint64_t seed) {
  std::mt19937_64 rng(seed);
  for (int i = 0; i < cases; ++i) {
    const int nodes = 1 + static_cast<int>(rng() % max_nodes);
    PlacementProblem p = RandomProblem(rng, nodes, tiers, allow_forbidden);
    const double expected = BruteForce(p);
    auto solved = SolvePlacement(p);
    if (std::isinf(expected)) {
      EXPECT_FALSE(solved.ok()) << "case " << i;
      continue;
    }
    ASSERT_TRUE(solved.ok()) << "case " << i << ": " << solved.status().ToString();
    EXPECT_NEAR(solved->cost, expected, 1e-6) << "case " << i << " (" << nodes << " nodes)";
    EXPECT_NEAR(PlacementCost(p, solved->tier), solved->cost, 1e-9);
  }
}

TEST(PlacementTest, TwoTiersMatchesBruteForce) { CheckRandom(2, 14, 2000, false, 1); }
TEST(PlacementTest, ThreeTiersMatchesBruteForce) { CheckRandom(3, 12, 1500, false, 2); }
TEST(PlacementTest, ThreeTiersFourteenNodes) { CheckRandom(3, 14, 200, false, 3); }
TEST(PlacementTest, ForbiddenTiersAndLinksMatchBruteForce) {
  CheckRandom(2, 12, 1000, true, 4);
  CheckRandom(3, 10, 1000, true, 5);
}
TEST(PlacementTest, FourTiers) { CheckRandom(4, 8, 300, false, 6); }

TEST(PlacementTest, SharedTensorPaysEachLinkOnce) {
  // input -> a; a is read by b and c. All compute is free on tier 1 and costly on tier 0.
  PlacementProblem p;
  p.num_tiers = 2;
  p.node_cost = {{0, 100}, {100, 0}, {100, 0}};
  p.fixed_link_cost = {1};
  p.tensors = {{-1, {0}, {1000}}, {0, {1, 2}, {5}}, {1, {}, {0}}, {2, {}, {0}}};
  auto solved = SolvePlacement(p);
  ASSERT_TRUE(solved.ok());
  EXPECT_EQ(solved->tier, (std::vector<int>{0, 1, 1}));
  EXPECT_DOUBLE_EQ(solved->cost, 0 + 5 + 1);  // 'a' crosses once, not twice
}

TEST(PlacementTest, InfeasibleAndMalformedProblems) {
  PlacementProblem p;
  p.num_tiers = 2;
  p.node_cost = {{kForbidden, kForbidden}};
  p.fixed_link_cost = {0};
  p.tensors = {{-1, {0}, {0}}};
  EXPECT_EQ(SolvePlacement(p).status().code(), StatusCode::kFailedPrecondition);
  p.node_cost = {{1, -1}};
  EXPECT_EQ(SolvePlacement(p).status().code(), StatusCode::kInvalidArgument);
  p.node_cost = {{1}};
  EXPECT_EQ(SolvePlacement(p).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace seam::plan
