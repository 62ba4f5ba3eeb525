// Assembles a PlanRequest from what users give `seam plan`: a model's plan graph, one profile per
// tier (in chain order, the device first), the links between consecutive tiers, limits and the
// objective. Every inconsistency is an error that names the flag or file at fault.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
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

// What `seam plan` was given, as files and flag values: enough to build the same request again
// from the files (a plan set records it, so that the device can re-plan for conditions it
// measures beyond the set's range). Paths are absolute.
struct PlanningInputs {
  std::string model_path;
  std::vector<std::string> shapes;                            // --shape NAME=D1xD2...
  std::vector<std::pair<std::string, std::string>> profiles;  // tier, profile file; chain order
  std::map<std::string, std::string> links;                   // "device-edge" -> "10mbit,20ms"
  std::map<std::string, double> memory_mb;
  std::string objective = "latency";
  double slo_ms = 0;
  bool keep_input_on_device = false;
  std::string pin;  // "" or the tier every node is pinned to
  std::map<std::string, std::vector<std::string>> lossy_allowed;  // from an accuracy calibration
};

// Reads the model and the profiles and builds the request; errors name the file or flag.
Result<PlanRequest> BuildPlanRequestFromFiles(const PlanningInputs& inputs);
nlohmann::json PlanningInputsToJson(const PlanningInputs& inputs);
// Throws nlohmann::json::exception when malformed.
PlanningInputs PlanningInputsFromJson(const nlohmann::json& json);

}  // namespace seam::plan
