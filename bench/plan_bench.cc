// plan_bench: how long the exact planner takes on a 300-node chain and a 2,000-node DAG with three
// tiers, against the classic baseline measured in the same run: the best placement that cuts the
// topological order into contiguous device / edge / cloud runs (Neurosurgeon's split point, two of
// them), found by exhaustive enumeration of the cut pairs with prefix sums.
//
// Reported per graph: planner time (median of --reps) against its goal (chain 1 ms, DAG 10 ms),
// the baseline's time, and the cost ratio planner / baseline: 1.0 on a chain (the exact optimum
// of a chain is contiguous) and <= 1.0 on a DAG, where side branches may go elsewhere.
//
// Plan sets (plan/plan_set.h) on the chain: how long `seam plan --set` takes (1,296 sampled
// conditions), how many plans it keeps and their worst regret, and what the device's per-request
// choice costs: re-predicting every plan from its terms, against planning again (MakePlan) under
// the same conditions, in the same run.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <random>

#include "common/file_util.h"
#include "plan/cost_model.h"
#include "plan/placement.h"
#include "plan/plan_set.h"
#include "plan/planner.h"

namespace seam::bench {
namespace {

using plan::PlanRequest;

// A synthetic model with three tiers: the device 10x and the edge 3x slower than the cloud.
PlanRequest MakeRequest(int nodes, bool dag, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> ms(0.05, 2.0);
  std::uniform_int_distribution<int64_t> bytes(4 << 10, 1 << 20);
  PlanRequest r;
  r.graph.model_path = dag ? "synthetic-dag" : "synthetic-chain";
  r.graph.tensors.push_back({.name = "input", .producer = -1, .bytes = 600000, .is_float32 = true});
  for (int v = 0; v < nodes; ++v) {
    r.graph.nodes.push_back({"n" + std::to_string(v), "Conv", 1000});
    // Reads the previous node's output, and on a DAG sometimes a skip from up to 12 nodes back.
    r.graph.tensors[v].consumers.push_back(v);
    if (dag && v > 2 && rng() % 3 == 0) {
      const int back = 1 + static_cast<int>(rng() % std::min(v, 12));
      auto& skip = r.graph.tensors[v - back].consumers;
      if (std::find(skip.begin(), skip.end(), v) == skip.end()) skip.push_back(v);
    }
    r.graph.tensors.push_back({.name = "t" + std::to_string(v),
                               .producer = v,
                               .bytes = bytes(rng),
                               .is_model_output = v == nodes - 1,
                               .is_float32 = true});
  }
  const double speed[3] = {10, 3, 1};
  const char* names[3] = {"device", "edge", "cloud"};
  for (int j = 0; j < 3; ++j) {
    plan::TierModel tier;
    tier.name = names[j];
    tier.overhead_ms = 0.2;
    r.tiers.push_back(tier);
  }
  for (int v = 0; v < nodes; ++v) {
    const double base = ms(rng);
    for (int j = 0; j < 3; ++j) r.tiers[j].node_ms.push_back(base * speed[j]);
  }
  r.links = {{20e6, 5, 0.1}, {100e6, 20, 0.1}};
  return r;
}

// Best contiguous three-way split of the node order, by exhaustive search over cut pairs.
double BestOrderCut(const plan::PlacementProblem& p) {
  const int n = static_cast<int>(p.node_cost.size());
  std::vector<std::vector<double>> prefix(3, std::vector<double>(n + 1, 0));
  for (int j = 0; j < 3; ++j) {
    for (int v = 0; v < n; ++v) prefix[j][v + 1] = prefix[j][v] + p.node_cost[v][j];
  }
  // crossing[k][c]: what link k costs when the cut for it sits before node c.
  std::vector<std::vector<double>> crossing(2, std::vector<double>(n + 1, 0));
  for (const auto& t : p.tensors) {
    int last = -1;
    for (int c : t.consumers) last = std::max(last, c);
    for (int k = 0; k < 2; ++k) {
      for (int c = t.producer + 1; c <= last; ++c) crossing[k][c] += t.link_cost[k];
    }
  }
  double best = plan::kForbidden;
  for (int i = 0; i <= n; ++i) {
    for (int j = i; j <= n; ++j) {
      double cost = prefix[0][i] + (prefix[1][j] - prefix[1][i]) + (prefix[2][n] - prefix[2][j]);
      cost += crossing[0][i] + crossing[1][j];
      if (i > 0) cost += p.first_tier_cost;
      if (i < n) cost += p.fixed_link_cost[0];
      if (j < n) cost += p.fixed_link_cost[1];
      best = std::min(best, cost);
    }
  }
  return best;
}

template <typename F>
double MedianMs(int reps, F&& f) {
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    f();
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  using namespace seam;
  CLI::App app{"planner time and quality against the best contiguous split"};
  int reps = 21;
  std::string json_path;
  app.add_option("--reps", reps, "repetitions (median)")->check(CLI::PositiveNumber);
  app.add_option("--json", json_path, "also write the figures as JSON");
  CLI11_PARSE(app, argc, argv);

  struct Case {
    const char* name;
    int nodes;
    bool dag;
    double goal_ms;
  };
  nlohmann::json out = nlohmann::json::array();
  std::printf("%-14s %6s %12s %9s %8s %14s %16s\n", "graph", "nodes", "planner ms", "goal ms",
              "result", "baseline ms", "cost / baseline");
  for (const Case c : {Case{"chain", 300, false, 1.0}, Case{"dag", 2000, true, 10.0}}) {
    const plan::PlanRequest request = bench::MakeRequest(c.nodes, c.dag, 7);
    Result<plan::Plan> plan = plan::MakePlan(request);
    if (!plan.ok()) {
      std::fprintf(stderr, "plan_bench: %s\n", plan.status().ToString().c_str());
      return 1;
    }
    const double planner_ms = bench::MedianMs(reps, [&] { (void)plan::MakePlan(request); });
    if (std::getenv("SEAM_BENCH_PASSES")) {
      for (const auto& pass : plan->passes)
        std::printf("  %s %.3f ms\n", pass.name.c_str(), pass.ms);
    }
    const plan::CandidateCosts costs = plan::BuildCandidateCosts(request);
    const plan::PlacementProblem problem = plan::BuildProblem(request, costs, {0, {}});
    double baseline = 0;
    const double baseline_ms =
        bench::MedianMs(std::max(1, reps / 4), [&] { baseline = bench::BestOrderCut(problem); });
    const double ratio = plan->objective_value / baseline;
    std::printf("%-14s %6d %12.3f %9.1f %8s %14.3f %16.4f\n", c.name, c.nodes, planner_ms,
                c.goal_ms, planner_ms <= c.goal_ms ? "met" : "NOT met", baseline_ms, ratio);
    out.push_back({{"graph", c.name},
                   {"nodes", c.nodes},
                   {"planner_ms", planner_ms},
                   {"goal_ms", c.goal_ms},
                   {"baseline_ms", baseline_ms},
                   {"planner_cost", plan->objective_value},
                   {"baseline_cost", baseline},
                   {"cost_ratio", ratio}});
  }
  {
    const plan::PlanRequest request = bench::MakeRequest(300, false, 7);
    Result<plan::PlanSet> set = plan::MakePlanSet(request, {});
    if (!set.ok()) {
      std::fprintf(stderr, "plan_bench: %s\n", set.status().ToString().c_str());
      return 1;
    }
    const double set_ms =
        bench::MedianMs(std::max(1, reps / 7), [&] { (void)plan::MakePlanSet(request, {}); });
    plan::PlanConditions c = plan::NominalConditions(request);
    c.tier_speed[0] = 3;
    c.bandwidth_bps[0] /= 5;
    double sink = 0;
    constexpr int kChoices = 10000;
    const double predict_ms = bench::MedianMs(reps,
                                              [&] {
                                                for (int i = 0; i < kChoices; ++i) {
                                                  for (const auto& m : set->members)
                                                    sink += plan::PredictLatencyMs(m.terms, c);
                                                }
                                              }) /
                              kChoices;
    const plan::PlanRequest scaled = plan::ScaledRequest(request, c);
    const double replan_ms = bench::MedianMs(reps, [&] { (void)plan::MakePlan(scaled); });
    std::printf(
        "plan set (chain 300, %d conditions): %.0f ms, %zu plans, worst regret %.3f; choosing per "
        "request (every plan re-predicted) %.4f us vs planning again %.3f ms: %.0fx faster%s\n",
        set->points, set_ms, set->members.size(), set->worst_regret, predict_ms * 1e3, replan_ms,
        replan_ms / predict_ms, sink > 0 ? "" : " ");
    // Beyond the set's range (where the device would re-plan): how far its best plan is from a
    // fresh plan for those conditions. Links 16-256x slower or faster than planned, the device
    // 12-64x slower, servers 2-3x faster or 4.5-10x slower than profiled.
    std::mt19937 rng(11);
    auto log_uniform = [&](double lo, double hi) {
      return std::exp(std::uniform_real_distribution<double>(std::log(lo), std::log(hi))(rng));
    };
    std::vector<double> regrets;
    const plan::PlanConditions nominal = plan::NominalConditions(request);
    for (int i = 0; i < 200; ++i) {
      plan::PlanConditions x = nominal;
      for (auto& bps : x.bandwidth_bps) {
        bps *= rng() % 2 ? log_uniform(16, 256) : 1 / log_uniform(16, 256);
      }
      x.tier_speed[0] = log_uniform(12, 64);
      for (size_t j = 1; j < x.tier_speed.size(); ++j) {
        x.tier_speed[j] = rng() % 2 ? log_uniform(0.33, 0.5) : log_uniform(4.5, 10);
      }
      auto fresh = plan::MakePlan(plan::ScaledRequest(request, x));
      if (!fresh.ok()) continue;
      double best = 1e300;
      for (const auto& m : set->members) best = std::min(best, plan::PredictLatencyMs(m.terms, x));
      regrets.push_back(best / fresh->latency_ms);
    }
    std::sort(regrets.begin(), regrets.end());
    const double median_out = regrets.empty() ? 0 : regrets[regrets.size() / 2];
    const double worst_out = regrets.empty() ? 0 : regrets.back();
    const auto over =
        std::count_if(regrets.begin(), regrets.end(), [](double r) { return r > 1.05; });
    std::printf(
        "beyond the set's range (%zu conditions: links 16-256x off, device 12-64x slower, servers "
        "2-3x faster or 4.5-10x slower): best plan of the set / a fresh plan: median %.3f, "
        "worst %.3f, over 1.05 in %td\n",
        regrets.size(), median_out, worst_out, over);
    out.push_back({{"graph", "chain-plan-set"},
                   {"outside_median_regret", median_out},
                   {"outside_worst_regret", worst_out},
                   {"outside_over_5_percent", over},
                   {"points", set->points},
                   {"set_ms", set_ms},
                   {"plans", set->members.size()},
                   {"worst_regret", set->worst_regret},
                   {"choose_us", predict_ms * 1e3},
                   {"replan_ms", replan_ms},
                   {"replan_over_choose", replan_ms / predict_ms}});
  }
  if (!json_path.empty()) {
    if (Status s = WriteFileAtomic(json_path, out.dump(2) + "\n"); !s.ok()) {
      std::fprintf(stderr, "plan_bench: %s\n", s.message().c_str());
      return 1;
    }
  }
  return 0;
}
