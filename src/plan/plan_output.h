// A plan as users and later layers see it: the plan file (schema "seam.plan/v1",
// docs/plan.md), a readable table, and an SVG of the graph coloured by tier with the tensors that
// cross a link labelled with their size and codec.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "plan/planner.h"

namespace seam::plan {

nlohmann::json PlanToJson(const PlanRequest& request, const Plan& plan);
std::string PlanToTable(const PlanRequest& request, const Plan& plan);
std::string PlanToSvg(const PlanRequest& request, const Plan& plan);

}  // namespace seam::plan
