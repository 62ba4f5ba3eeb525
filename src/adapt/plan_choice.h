// The device's choice among the plans of a set (plan/plan_set.h), per request: the plan with the
// lowest predicted latency under the current estimates, with hysteresis so that noise in the
// estimates does not make it flap. Pure: the predictions in, a choice and its reason out.
//
// The rule: among the plans that may run now (a plan whose next tier's circuit is open may not),
// take the fastest predicted; keep the current plan unless that one is predicted faster by the
// hysteresis share, or the current one may not run. With no plan allowed, the one that needs
// nothing above the device if there is one, else the current plan (its own fallback decides).
#pragma once

#include <string>
#include <vector>

namespace seam::adapt {

struct PlanOption {
  std::string name;  // for the reason: "m1 (device 12 | edge 88)"
  double predicted_ms = 0;
  bool allowed = true;
  bool local_only = false;  // needs nothing above the device
};

struct PlanChoice {
  int index = 0;
  bool switched = false;
  std::string reason;  // one line
};

inline constexpr double kPlanHysteresis = 0.15;

// `current`: the plan chosen for the previous request (-1: none yet).
PlanChoice ChoosePlan(const std::vector<PlanOption>& options, int current,
                      double hysteresis = kPlanHysteresis);

}  // namespace seam::adapt
