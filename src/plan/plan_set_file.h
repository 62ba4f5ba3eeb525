// The plan-set file (schema "seam.planset/v1"): the one module that writes and reads it.
//
// `seam plan --set -o SET.json` writes SET.json and one ordinary plan file per member beside it
// (SET.m0.json, SET.m1.json, ...; member 0 is the plan for the profiled conditions). The set file
// names them with their ids and holds what the device needs to choose among them per request:
// each member's cost terms (plan_set.h), the nominal links, and for people the members' shares
// and the bandwidth breakpoints. `seam deploy SET.json` deploys every member; `seam run --plan
// SET.json` and the client choose among them. A single plan reads as a set of one member.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "plan/plan_set.h"
#include "plan/request_builder.h"

namespace seam::plan {

// Writes the members' plan files beside `set_path` and returns the set file's JSON (not written).
Result<nlohmann::json> WritePlanSetMembers(const std::string& set_path, const PlanRequest& request,
                                           const PlanSet& set, const PlanSetOptions& options);
std::string PlanSetToTable(const PlanRequest& request, const PlanSet& set);

struct PlanSetEntry {
  std::string plan_path;  // resolved against the set file's directory
  std::string id;
  std::string label;
  bool all_device = false;
  PlanTerms terms;  // empty for a lone plan (nothing to choose)
};

// A plan set read for execution.
struct ExecutablePlanSet {
  std::string path;
  bool is_set = false;  // false: a lone seam.plan/v1 file, read as a set of one
  std::string model_sha256;
  std::string model_path;  // as `seam plan` recorded it
  std::vector<std::string> tiers;
  PlanConditions nominal;  // as the set was planned for (empty for a lone plan)
  PlanSetOptions range;    // the conditions it was made for, around `nominal`
  std::vector<PlanSetEntry> members;
  // What `seam plan --set` was given (absent in sets written before it was recorded): the device
  // re-plans from it beyond the set's range.
  std::optional<PlanningInputs> planning;
};

// Reads a seam.planset/v1 file, checking that every member is there, is a plan of the same model
// and tiers and still has the id the set recorded; or a seam.plan/v1 file as a set of one.
// INVALID_ARGUMENT naming the file otherwise.
Result<ExecutablePlanSet> ReadPlanSet(const std::string& path);

}  // namespace seam::plan
