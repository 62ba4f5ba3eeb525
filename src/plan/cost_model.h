// Candidate costs: every choice the planner can make, priced in the objective and in milliseconds
// (internal to the planner; see planner.h for the model).
#pragma once

#include <vector>

#include "plan/placement.h"
#include "plan/planner.h"

namespace seam::plan {

// A cost in the objective's unit and the request latency it adds.
struct Terms {
  double objective = 0;
  double ms = 0;
  Terms& operator+=(const Terms& o) {
    objective += o.objective;
    ms += o.ms;
    return *this;
  }
};

// One way to move a tensor over a link: a codec and what it costs.
struct MoveOption {
  TensorMove move;
  Terms terms;
};

struct CandidateCosts {
  std::vector<std::vector<Terms>> compute;  // [node][tier], in a segment that starts at a cut
  // [node][tier], on the lowest tier running anything (its segment starts at the model input).
  std::vector<std::vector<Terms>> compute_from_input;
  // [tensor][link]: options up the chain; empty when the tensor may not cross that link.
  std::vector<std::vector<std::vector<MoveOption>>> up;
  // [tensor][link]: options for a model output returning down the chain (lossless only).
  std::vector<std::vector<std::vector<MoveOption>>> down;
  std::vector<Terms> fixed_link;  // per link used
  std::vector<Terms> fixed_tier;  // per tier: its per-run overhead (see BuildProblem for when)
};

CandidateCosts BuildCandidateCosts(const PlanRequest& request);

// The placement problem for multipliers `lambda` (per ms of latency) and `mu` (per parameter
// byte on each tier), among placements whose lowest tier running anything is `lowest` or above:
// tiers below it are forbidden and nodes on it cost compute_from_input. Its cost is exact for
// placements that use tier `lowest`, and no lower than exact for the others (compute_from_input
// is never above compute), so the best over every `lowest` is the optimum (planner.cc).
struct Multipliers {
  double lambda = 0;
  std::vector<double> mu;
};
PlacementProblem BuildProblem(const PlanRequest& request, const CandidateCosts& costs,
                              const Multipliers& m, int lowest = 0);

// Whether some tier above the device has compute_from_input below compute: only then can the
// lowest tier used matter beyond the device.
bool StartMatters(const CandidateCosts& costs);

// The cheapest option under the multipliers; nullptr when there is none.
const MoveOption* BestOption(const std::vector<MoveOption>& options, const Multipliers& m);

}  // namespace seam::plan
