#include "plan/planner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <tuple>

#include "plan/cost_model.h"
#include "plan/placement.h"

namespace seam::plan {
namespace {

using Clock = std::chrono::steady_clock;

// Runs one pass and records its time.
template <typename F>
auto Timed(std::vector<PassTiming>& passes, const char* name, F&& pass) {
  const auto start = Clock::now();
  auto result = pass();
  passes.push_back({name, std::chrono::duration<double, std::milli>(Clock::now() - start).count()});
  return result;
}

Status Validate(const PlanRequest& r) {
  const int tiers = static_cast<int>(r.tiers.size());
  const size_t nodes = r.graph.nodes.size();
  if (tiers < 1) return InvalidArgument("no tier to plan for: give at least one --profile");
  if (tiers > 8) return InvalidArgument("at most 8 tiers are supported");
  if (nodes == 0) return InvalidArgument("the model has no compute node");
  if (r.pinned_tier >= tiers) {
    return InvalidArgument("pinned tier " + std::to_string(r.pinned_tier) + " of " +
                           std::to_string(tiers));
  }
  if (static_cast<int>(r.links.size()) != tiers - 1) {
    return InvalidArgument(std::to_string(tiers) + " tiers need " + std::to_string(tiers - 1) +
                           " links, got " + std::to_string(r.links.size()));
  }
  for (size_t k = 0; k < r.links.size(); ++k) {
    const Link& l = r.links[k];
    const std::string where = "link " + r.tiers[k].name + "-" + r.tiers[k + 1].name;
    if (!(l.bandwidth_bps > 0) || !std::isfinite(l.bandwidth_bps)) {
      return InvalidArgument(where + ": bandwidth must be positive");
    }
    if (l.rtt_ms < 0 || l.overhead_ms < 0) return InvalidArgument(where + ": negative time");
  }
  for (const auto& tier : r.tiers) {
    if (tier.node_ms.size() != nodes) {
      return InvalidArgument("tier '" + tier.name + "' has times for " +
                             std::to_string(tier.node_ms.size()) + " nodes; the model has " +
                             std::to_string(nodes));
    }
    if (!tier.input_node_ms.empty() && tier.input_node_ms.size() != nodes) {
      return InvalidArgument("tier '" + tier.name + "' has times from the model input for " +
                             std::to_string(tier.input_node_ms.size()) + " nodes; the model has " +
                             std::to_string(nodes));
    }
    for (size_t v = 0; v < nodes; ++v) {
      if (!(tier.node_ms[v] >= 0) ||
          (!tier.input_node_ms.empty() && !(tier.input_node_ms[v] >= 0))) {
        return InvalidArgument("tier '" + tier.name + "': node '" + r.graph.nodes[v].name +
                               "' has a negative or missing time");
      }
    }
    if (!(tier.boundary_ms_per_byte >= 0) || !std::isfinite(tier.boundary_ms_per_byte)) {
      return InvalidArgument("tier '" + tier.name + "': negative or non-finite boundary cost");
    }
    if (tier.overhead_ms < 0 || tier.memory_limit_bytes < 0) {
      return InvalidArgument("tier '" + tier.name + "': negative overhead or memory limit");
    }
  }
  if (r.slo_ms < 0) return InvalidArgument("the latency SLO must be positive");
  return Status::Ok();
}

using Picker = std::function<const MoveOption*(const std::vector<MoveOption>&)>;

struct Evaluation {
  Terms total;                      // objective and latency of one request
  std::vector<double> param_bytes;  // per tier
  std::vector<double> compute_ms;   // per tier, overhead included
  std::vector<double> link_ms;      // per link
  std::vector<TensorMove> moves;    // up the chain first, then results down
};

// Prices a placement term by term, moving each tensor with the option `pick` chooses.
Evaluation Evaluate(const PlanRequest& r, const CandidateCosts& c, const std::vector<int>& tier,
                    const Picker& pick) {
  const int tiers = static_cast<int>(r.tiers.size());
  Evaluation e;
  e.param_bytes.assign(tiers, 0);
  e.compute_ms.assign(tiers, 0);
  e.link_ms.assign(std::max(0, tiers - 1), 0);
  std::vector<char> used(tiers, 0);
  int highest = 0;
  const int lowest = tier.empty() ? 0 : *std::min_element(tier.begin(), tier.end());
  for (size_t v = 0; v < tier.size(); ++v) {
    const Terms& compute =
        tier[v] == lowest ? c.compute_from_input[v][tier[v]] : c.compute[v][tier[v]];
    e.total += compute;
    e.compute_ms[tier[v]] += compute.ms;
    e.param_bytes[tier[v]] += r.graph.nodes[v].param_bytes;
    used[tier[v]] = 1;
    highest = std::max(highest, tier[v]);
  }
  for (int j = 0; j < tiers; ++j) {
    // See BuildProblem: the device pays when it runs a node, the others when data reaches them.
    if (j == 0 ? !used[0] : j > highest) continue;
    e.total += c.fixed_tier[j];
    e.compute_ms[j] += c.fixed_tier[j].ms;
  }
  for (int k = 0; k < highest; ++k) {
    e.total += c.fixed_link[k];
    e.link_ms[k] += c.fixed_link[k].ms;
  }
  std::vector<TensorMove> down;
  for (size_t t = 0; t < r.graph.tensors.size(); ++t) {
    const PlanTensor& tensor = r.graph.tensors[t];
    const int from = tensor.producer >= 0 ? tier[tensor.producer] : 0;
    int to = from;
    for (int consumer : tensor.consumers) to = std::max(to, tier[consumer]);
    for (int k = from; k < to; ++k) {
      const MoveOption* o = pick(c.up[t][k]);
      e.total += o->terms;
      e.link_ms[k] += o->terms.ms;
      e.moves.push_back(o->move);
    }
    if (tensor.is_model_output && tensor.producer >= 0) {
      for (int k = from - 1; k >= 0; --k) {
        const MoveOption* o = pick(c.down[t][k]);
        e.total += o->terms;
        e.link_ms[k] += o->terms.ms;
        down.push_back(o->move);
      }
    }
  }
  e.moves.insert(e.moves.end(), down.begin(), down.end());
  return e;
}

Picker CheapestUnder(double lambda) {
  return [lambda](const std::vector<MoveOption>& options) {
    return BestOption(options, Multipliers{lambda, {}});
  };
}

struct Solution {
  std::vector<int> tier;
  Multipliers multipliers;
  Evaluation eval;
  bool exact = true;
  double lower_bound = 0;
  std::string note;
};

bool MemoryOk(const PlanRequest& r, const Evaluation& e) {
  // Placement never picks an option that is not there; guard anyway for forbidden moves.
  for (size_t j = 0; j < r.tiers.size(); ++j) {
    const double limit = r.tiers[j].memory_limit_bytes;
    if (limit > 0 && e.param_bytes[j] > limit) return false;
  }
  return true;
}

// The lowest tier that runs a node of `tier`.
int LowestTier(const std::vector<int>& tier) {
  return tier.empty() ? 0 : *std::min_element(tier.begin(), tier.end());
}

// Solves under multipliers; returns the Lagrangian value too (a lower bound when it is exact).
// When the tier a segment starts on matters (StartMatters), one min-cut per lowest tier used
// (BuildProblem): each is exact on its own placements and an over-estimate on the others, so the
// cheapest of them is the optimum.
Result<std::pair<std::vector<int>, double>> SolveWith(const PlanRequest& r, const CandidateCosts& c,
                                                      const Multipliers& m) {
  const int cases = StartMatters(c) ? static_cast<int>(r.tiers.size()) : 1;
  std::optional<Placement> best;
  Status first_error = Status::Ok();
  for (int lowest = 0; lowest < cases; ++lowest) {
    Result<Placement> p = SolvePlacement(BuildProblem(r, c, m, lowest));
    if (!p.ok()) {
      // A case can be infeasible (the raw input must stay on the device): the others decide.
      if (lowest == 0) first_error = p.status();
      continue;
    }
    if (!best || p->cost < best->cost) best = std::move(p).value();
  }
  if (!best) return first_error;
  double dual = best->cost - m.lambda * r.slo_ms;
  for (size_t j = 0; j < m.mu.size(); ++j) dual -= m.mu[j] * r.tiers[j].memory_limit_bytes;
  return std::make_pair(std::move(best->tier), dual);
}

Result<Solution> Solve(const PlanRequest& r, const CandidateCosts& c) {
  const size_t tiers = r.tiers.size();
  Multipliers m{0, std::vector<double>(tiers, 0)};
  Solution best;
  double best_bound = -std::numeric_limits<double>::infinity();
  auto run = [&](const Multipliers& mm) -> Result<std::pair<std::vector<int>, Evaluation>> {
    SEAM_ASSIGN_OR_RETURN(auto solved, SolveWith(r, c, mm));
    best_bound = std::max(best_bound, solved.second);
    Evaluation e = Evaluate(r, c, solved.first, CheapestUnder(mm.lambda));
    return std::make_pair(std::move(solved.first), std::move(e));
  };
  auto feasible = [&](const Evaluation& e) {
    return MemoryOk(r, e) && (r.slo_ms <= 0 || e.total.ms <= r.slo_ms * (1 + 1e-9));
  };

  SEAM_ASSIGN_OR_RETURN(auto first, run(m));
  if (feasible(first.second)) {
    best.tier = std::move(first.first);
    best.eval = first.second;
    best.multipliers = m;
    best.lower_bound = best.eval.total.objective;
    return best;
  }

  // A memory limit binds: raise the multiplier of each violated tier until it holds (bisection
  // on the price per byte), a few rounds for limits that interact.
  for (int round = 0; round < 3; ++round) {
    bool changed = false;
    for (size_t j = 0; j < tiers; ++j) {
      const double limit = r.tiers[j].memory_limit_bytes;
      if (limit <= 0) continue;
      SEAM_ASSIGN_OR_RETURN(auto current, run(m));
      if (current.second.param_bytes[j] <= limit) continue;
      double lo = m.mu[j], hi = std::max(1e-12, m.mu[j] * 2);
      for (int i = 0; i < 80; ++i) {  // find a price that frees the tier enough
        Multipliers trial = m;
        trial.mu[j] = hi;
        SEAM_ASSIGN_OR_RETURN(auto t, run(trial));
        if (t.second.param_bytes[j] <= limit) break;
        lo = hi;
        hi *= 4;
      }
      for (int i = 0; i < 40; ++i) {
        Multipliers trial = m;
        trial.mu[j] = (lo + hi) / 2;
        SEAM_ASSIGN_OR_RETURN(auto t, run(trial));
        (t.second.param_bytes[j] <= limit ? hi : lo) = trial.mu[j];
      }
      m.mu[j] = hi;
      changed = true;
    }
    if (!changed) break;
  }
  SEAM_ASSIGN_OR_RETURN(auto with_memory, run(m));
  if (!MemoryOk(r, with_memory.second)) {
    return FailedPrecondition(
        "no placement fits the memory limits: the model's parameters do not "
        "fit on the tiers allowed to hold them");
  }

  // An SLO binds: price latency until the plan meets it.
  auto latest = std::move(with_memory);
  if (r.slo_ms > 0 && latest.second.total.ms > r.slo_ms) {
    double lo = 0, hi = 1;
    bool met = false;
    for (int i = 0; i < 60 && !met; ++i) {
      Multipliers trial = m;
      trial.lambda = hi;
      SEAM_ASSIGN_OR_RETURN(auto t, run(trial));
      if (t.second.total.ms <= r.slo_ms) {
        met = true;
        latest = std::move(t);
      } else {
        lo = hi;
        hi *= 4;
      }
    }
    if (!met) {
      return FailedPrecondition("no placement meets the latency SLO of " +
                                std::to_string(r.slo_ms) + " ms: the fastest takes " +
                                std::to_string(latest.second.total.ms) + " ms");
    }
    for (int i = 0; i < 40; ++i) {
      Multipliers trial = m;
      trial.lambda = (lo + hi) / 2;
      SEAM_ASSIGN_OR_RETURN(auto t, run(trial));
      if (t.second.total.ms <= r.slo_ms) {
        hi = trial.lambda;
        latest = std::move(t);
      } else {
        lo = trial.lambda;
      }
    }
    m.lambda = hi;
  }
  best.tier = std::move(latest.first);
  best.eval = latest.second;
  best.multipliers = m;
  best.exact = false;
  best.lower_bound = std::min(best_bound, best.eval.total.objective);
  const double gap = best.eval.total.objective - best.lower_bound;
  best.note = std::string("a constraint binds (") + (m.lambda > 0 ? "latency SLO" : "memory") +
              "), solved with Lagrangian multipliers: the plan is within " + std::to_string(gap) +
              " of the lower bound " + std::to_string(best.lower_bound);
  if (gap <= 1e-9 * std::max(1.0, std::fabs(best.eval.total.objective))) {
    best.exact = true;
    best.note = "a constraint binds; the Lagrangian bound is tight, so the plan is optimal";
  }
  return best;
}

// Fills the plan from the solution: placement, moves with their codecs, predictions.
Plan Describe(const Solution& s) {
  Plan plan;
  plan.tier_of_node = s.tier;
  plan.moves = s.eval.moves;
  plan.compute_ms = s.eval.compute_ms;
  plan.link_ms = s.eval.link_ms;
  plan.param_bytes = s.eval.param_bytes;
  plan.latency_ms = s.eval.total.ms;
  plan.objective_value = s.eval.total.objective;
  plan.exact = s.exact;
  plan.lower_bound = s.lower_bound;
  plan.note = s.note;
  return plan;
}

// Moves each tensor with the codec `plan` chose for it (identity when it names none or the
// request does not offer it).
Picker SameCodecAs(const Plan& plan) {
  auto codec_of = std::make_shared<std::map<std::tuple<int, int, bool>, std::string>>();
  for (const auto& m : plan.moves) (*codec_of)[{m.tensor, m.link, m.to_device}] = m.codec;
  return [codec_of](const std::vector<MoveOption>& options) -> const MoveOption* {
    const auto& first = options.front().move;
    auto it = codec_of->find({first.tensor, first.link, first.to_device});
    if (it == codec_of->end()) return &options.front();
    for (const auto& o : options) {
      if (o.move.codec == it->second) return &o;
    }
    return &options.front();
  };
}

// The plan priced in another objective, with the same placement and codecs.
double PriceIn(const PlanRequest& r, Objective objective, const Plan& plan) {
  PlanRequest other = r;
  other.objective = objective;
  const CandidateCosts c = BuildCandidateCosts(other);
  return Evaluate(other, c, plan.tier_of_node, SameCodecAs(plan)).total.objective;
}

Status Verify(const PlanRequest& r, const CandidateCosts& c, const Solution& s, const Plan& plan) {
  for (const PlanTensor& tensor : r.graph.tensors) {
    const int from = tensor.producer >= 0 ? plan.tier_of_node[tensor.producer] : 0;
    for (int consumer : tensor.consumers) {
      if (plan.tier_of_node[consumer] < from) {
        return Internal("plan moves tensor '" + tensor.name + "' down the chain");
      }
      if (tensor.producer < 0 && r.keep_input_on_device && plan.tier_of_node[consumer] != 0) {
        return Internal("plan sends raw input '" + tensor.name + "' off the device");
      }
    }
  }
  if (!MemoryOk(r, s.eval)) return Internal("plan breaks a memory limit");
  // The solver's own cost function must agree with the term-by-term pricing.
  const double lambda = s.multipliers.lambda;
  const double solver = PlacementCost(
      BuildProblem(r, c, {lambda, {}}, LowestTier(plan.tier_of_node)), plan.tier_of_node);
  const double priced = plan.objective_value + lambda * plan.latency_ms;
  if (std::fabs(solver - priced) > 1e-6 * std::max(1.0, std::fabs(solver))) {
    return Internal("plan cost " + std::to_string(priced) + " differs from the solver's " +
                    std::to_string(solver));
  }
  return Status::Ok();
}

}  // namespace

const char* ObjectiveName(Objective objective) {
  switch (objective) {
    case Objective::kLatency:
      return "latency";
    case Objective::kDeviceEnergy:
      return "device-energy";
    case Objective::kCost:
      return "cost";
  }
  return "latency";
}

Result<Objective> ParseObjective(const std::string& text) {
  for (Objective o : {Objective::kLatency, Objective::kDeviceEnergy, Objective::kCost}) {
    if (text == ObjectiveName(o)) return o;
  }
  return InvalidArgument("unknown objective '" + text + "' (use latency, device-energy or cost)");
}

Result<Plan> MakePlan(const PlanRequest& request) {
  std::vector<PassTiming> passes;
  SEAM_RETURN_IF_ERROR(Timed(passes, "validate", [&] { return Validate(request); }));
  const CandidateCosts costs =
      Timed(passes, "candidate costs", [&] { return BuildCandidateCosts(request); });
  SEAM_ASSIGN_OR_RETURN(Solution solution,
                        Timed(passes, "solve", [&] { return Solve(request, costs); }));
  Plan plan = Timed(passes, "codec choice", [&] { return Describe(solution); });
  SEAM_RETURN_IF_ERROR(
      Timed(passes, "verify", [&] { return Verify(request, costs, solution, plan); }));
  plan.device_energy_mj = request.objective == Objective::kDeviceEnergy
                              ? plan.objective_value
                              : PriceIn(request, Objective::kDeviceEnergy, plan);
  plan.money = request.objective == Objective::kCost ? plan.objective_value
                                                     : PriceIn(request, Objective::kCost, plan);
  plan.passes = std::move(passes);
  return plan;
}

Result<Plan> PricePlan(const PlanRequest& request, const Plan& plan) {
  SEAM_RETURN_IF_ERROR(Validate(request));
  const int tiers = static_cast<int>(request.tiers.size());
  if (plan.tier_of_node.size() != request.graph.nodes.size()) {
    return InvalidArgument("the placement has " + std::to_string(plan.tier_of_node.size()) +
                           " nodes, the model " + std::to_string(request.graph.nodes.size()));
  }
  for (int t : plan.tier_of_node) {
    if (t < 0 || t >= tiers)
      return InvalidArgument("the placement names tier " + std::to_string(t));
  }
  for (const PlanTensor& tensor : request.graph.tensors) {
    const int from = tensor.producer >= 0 ? plan.tier_of_node[tensor.producer] : 0;
    for (int consumer : tensor.consumers) {
      const int to = plan.tier_of_node[consumer];
      if (to < from) {
        return InvalidArgument("the placement moves tensor '" + tensor.name + "' down the chain");
      }
      if (to > from && tensor.producer < 0 && request.keep_input_on_device) {
        return InvalidArgument("the placement sends raw input '" + tensor.name +
                               "' off the device");
      }
    }
  }
  const CandidateCosts c = BuildCandidateCosts(request);
  Solution s;
  s.tier = plan.tier_of_node;
  s.eval = Evaluate(request, c, s.tier, SameCodecAs(plan));
  Plan priced = Describe(s);
  priced.device_energy_mj = PriceIn(request, Objective::kDeviceEnergy, priced);
  priced.money = PriceIn(request, Objective::kCost, priced);
  return priced;
}

}  // namespace seam::plan
