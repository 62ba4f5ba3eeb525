// `seam plan`: profiles + links + constraints -> a plan file, a table on stdout, an SVG.
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "common/file_util.h"
#include "graph/model_loader.h"
#include "plan/plan_graph.h"
#include "plan/plan_output.h"
#include "plan/plan_set_file.h"
#include "plan/request_builder.h"
#include "profile/calibration.h"

namespace seam::cli {
namespace {

struct PlanOptions {
  std::string model;
  std::vector<std::string> profiles;  // TIER=FILE, in chain order
  std::vector<std::string> links;     // A-B=BW,RTT[,OVERHEAD]
  std::vector<std::string> memory;    // TIER=MB
  std::vector<std::string> shapes;
  std::string objective = "latency";
  double slo_ms = 0;
  bool keep_input_on_device = false;
  std::string accuracy;  // seam.accuracy/v1 file: lossy codecs allowed per tensor
  std::string output;
  std::string svg;
  std::string pin;   // every node on this tier: a single-tier baseline with the same cost model
  bool set = false;  // write a plan set (plan/plan_set.h) instead of one plan
  plan::PlanSetOptions set_options;
};

// Splits "KEY=VALUE"; the error names the flag.
Result<std::pair<std::string, std::string>> KeyValue(const std::string& flag,
                                                     const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    return InvalidArgument(flag + " '" + text + "': expected NAME=VALUE");
  }
  return std::make_pair(text.substr(0, eq), text.substr(eq + 1));
}

// The flags as planning inputs (plan/request_builder.h).
Result<plan::PlanningInputs> Inputs(const PlanOptions& o) {
  plan::PlanningInputs in;
  graph::ShapeOverrides overrides;
  for (const auto& text : o.shapes) {
    SEAM_RETURN_IF_ERROR(graph::ParseShapeOverride(text, overrides));
  }
  in.shapes = o.shapes;
  SEAM_RETURN_IF_ERROR(plan::ParseObjective(o.objective).status());
  in.objective = o.objective;
  if (o.slo_ms < 0) return InvalidArgument("--slo-ms must be positive");
  in.slo_ms = o.slo_ms;
  in.keep_input_on_device = o.keep_input_on_device;
  for (const auto& text : o.profiles) {
    SEAM_ASSIGN_OR_RETURN(auto kv, KeyValue("--profile", text));
    in.profiles.emplace_back(kv.first, kv.second);
  }
  for (const auto& text : o.links) {
    SEAM_ASSIGN_OR_RETURN(auto kv, KeyValue("--link", text));
    in.links[kv.first] = kv.second;
  }
  for (const auto& text : o.memory) {
    SEAM_ASSIGN_OR_RETURN(auto kv, KeyValue("--memory", text));
    char* end = nullptr;
    const double mb = std::strtod(kv.second.c_str(), &end);
    if (end == kv.second.c_str() || *end != '\0') {
      return InvalidArgument("--memory " + text + ": '" + kv.second + "' is not a number of MB");
    }
    in.memory_mb[kv.first] = mb;
  }
  in.model_path = o.model;
  in.pin = o.pin;
  return in;
}

int RunPlan(const PlanOptions& o) {
  auto inputs = Inputs(o);
  if (!inputs.ok()) return ReportError(inputs.status());
  auto request = plan::BuildPlanRequestFromFiles(*inputs);
  if (!request.ok()) return ReportError(request.status());
  if (!o.accuracy.empty()) {
    auto accuracy = profile::ReadAccuracy(o.accuracy);
    if (!accuracy.ok()) return ReportError(accuracy.status());
    if (accuracy->model_sha256 != request->graph.model_sha256) {
      return ReportError(InvalidArgument("--accuracy " + o.accuracy + " was calibrated on " +
                                         accuracy->model_path + ", not " + o.model));
    }
    request->lossy_allowed = accuracy->Allowed();
    inputs->lossy_allowed = request->lossy_allowed;
  }
  if (o.set) {
    if (!o.svg.empty()) return ReportError(InvalidArgument("--svg draws one plan, not a --set"));
    auto set = plan::MakePlanSet(*request, o.set_options);
    if (!set.ok()) return ReportError(set.status());
    auto json = plan::WritePlanSetMembers(o.output, *request, *set, o.set_options);
    if (!json.ok()) return ReportError(json.status());
    // What the device re-plans from when it measures conditions beyond the set's range.
    inputs->model_path = std::filesystem::absolute(inputs->model_path).string();
    for (auto& [tier, path] : inputs->profiles) path = std::filesystem::absolute(path).string();
    (*json)["planning"] = plan::PlanningInputsToJson(*inputs);
    if (Status s = WriteFileAtomic(o.output, json->dump(2) + "\n"); !s.ok()) return ReportError(s);
    std::cout << plan::PlanSetToTable(*request, *set);
    std::cout << "plan set written to " << o.output << " (its plans beside it); deploy it with "
              << "seam deploy " << o.output << "\n";
    return 0;
  }
  auto plan = plan::MakePlan(*request);
  if (!plan.ok()) return ReportError(plan.status());
  if (Status s = WriteFileAtomic(o.output, plan::PlanToJson(*request, *plan).dump(2) + "\n");
      !s.ok()) {
    return ReportError(s);
  }
  if (!o.svg.empty()) {
    if (Status s = WriteFileAtomic(o.svg, plan::PlanToSvg(*request, *plan)); !s.ok())
      return ReportError(s);
  }
  std::cout << plan::PlanToTable(*request, *plan);
  std::cout << "plan written to " << o.output << (o.svg.empty() ? "" : ", drawing to " + o.svg)
            << "\n";
  return 0;
}

}  // namespace

void RegisterPlanCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<PlanOptions>();
  auto* cmd = app.add_subcommand("plan", "place each node on a tier and pick each link's codecs");
  cmd->add_option("model", o->model, "ONNX model file")->required();
  cmd->add_option("--profile", o->profiles, "TIER=PROFILE.json, device first, in chain order")
      ->required()
      ->allow_extra_args(false);
  cmd->add_option("--link", o->links,
                  "A-B=BANDWIDTH,RTT[,OVERHEAD] between consecutive tiers, "
                  "e.g. device-edge=20mbit,5ms")
      ->allow_extra_args(false);
  cmd->add_option("--pin", o->pin,
                  "place every node on this tier: the single-tier baseline, costed the same way");
  cmd->add_option("--objective", o->objective, "latency, device-energy or cost");
  cmd->add_option("--slo-ms", o->slo_ms, "latency bound per request (ms)");
  cmd->add_flag("--keep-input-on-device", o->keep_input_on_device,
                "the raw input never leaves the device");
  cmd->add_option("--memory", o->memory, "TIER=MB: parameter memory a tier may hold")
      ->allow_extra_args(false);
  cmd->add_option("--shape", o->shapes, "fix an input's shape, NAME=D0,D1,...")
      ->allow_extra_args(false);
  cmd->add_option("-o,--output", o->output, "plan file to write (seam.plan/v1)")->required();
  cmd->add_option("--svg", o->svg, "also draw the plan as SVG");
  cmd->add_option("--accuracy", o->accuracy,
                  "lossy codecs allowed per tensor, from seam calibrate (default: lossless only)");
  cmd->add_flag("--set", o->set,
                "write a plan set: the few plans that are best over a range of link bandwidths "
                "and tier speeds (plus the all-device plan), for the device to choose among per "
                "request; -o names the set file, its plans go beside it");
  cmd->add_option("--set-range", o->set_options.bandwidth_range,
                  "plan set: each link's bandwidth from 1/F to F times the --link one")
      ->capture_default_str();
  cmd->add_option("--set-points", o->set_options.bandwidth_points,
                  "plan set: bandwidths sampled per link")
      ->capture_default_str();
  cmd->add_option("--set-device-speeds", o->set_options.device_speeds,
                  "plan set: device slowdowns sampled (2 = twice as slow as profiled)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--set-tolerance", o->set_options.tolerance,
                  "plan set: how far from the optimum the best kept plan may be (0.05 = 5%)")
      ->capture_default_str();
  cmd->add_option("--set-max-plans", o->set_options.max_plans,
                  "plan set: most plans kept (each is deployed on every tier it uses)")
      ->capture_default_str();
  cmd->callback([o, &exit_code] { exit_code = RunPlan(*o); });
}

}  // namespace seam::cli
