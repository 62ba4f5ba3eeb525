// A plan as users and later layers see it: the plan file (schema "seam.plan/v1",
// docs/plan.md), a readable table, and an SVG of the graph coloured by tier with the tensors that
// cross a link labelled with their size and codec.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "plan/planner.h"

namespace seam::plan {

// Whether the device can hold the whole model (its fallback finishes a request the tiers above
// cannot answer: every node, its own and those above it), under its memory limit.
struct DeviceFallback {
  bool fits = true;
  double param_bytes = 0;
  double memory_limit_bytes = 0;  // 0: none
};
DeviceFallback DeviceFallbackOf(const PlanRequest& request);

nlohmann::json PlanToJson(const PlanRequest& request, const Plan& plan);
std::string PlanToTable(const PlanRequest& request, const Plan& plan);
std::string PlanToSvg(const PlanRequest& request, const Plan& plan);

}  // namespace seam::plan
