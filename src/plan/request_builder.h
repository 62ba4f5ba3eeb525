// Assembles a PlanRequest from what users give `seam plan`: a model's plan graph, one profile per
// tier (in chain order, the device first), the links between consecutive tiers, limits and the
// objective. Every inconsistency is an error that names the flag or file at fault.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plan/planner.h"
#include "profile_format/profile.h"

namespace seam::plan {

struct TierInput {
  std::string name;
  std::string profile_path;  // for messages
  profile::Profile profile;
};

struct RequestInputs {
  std::vector<TierInput> tiers;              // chain order
  std::map<std::string, std::string> links;  // "device-edge" -> "10mbit,20ms"
  std::map<std::string, double> memory_mb;   // tier -> parameter memory limit in MB
  Objective objective = Objective::kLatency;
  double slo_ms = 0;
  bool keep_input_on_device = false;
};

Result<PlanRequest> BuildPlanRequest(const PlanGraph& graph, const RequestInputs& inputs);

}  // namespace seam::plan
