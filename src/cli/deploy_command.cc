// `seam deploy PLAN.json`: cut the plan's segments from the model and put each tier's stage where
// it is served (pipeline/deployment.h).
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "pipeline/deployment.h"
#include "plan/plan_set_file.h"

namespace seam::cli {
namespace {

struct DeployFlags {
  std::string plan;
  std::string model;  // default: the path recorded in the plan
  std::string name;   // default: the model file's stem
  std::vector<std::string> repositories, addresses, control;
  std::string device_dir;
  bool bitwise = false;
  int threads = 1;
};

Result<std::map<std::string, std::string>> TierMap(const std::string& flag,
                                                   const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      return InvalidArgument(flag + " '" + item + "': expected TIER=VALUE");
    }
    out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

int RunDeploy(const DeployFlags& f) {
  auto set = plan::ReadPlanSet(f.plan);
  if (!set.ok()) return ReportError(set.status());
  std::string model_path = f.model;
  if (model_path.empty()) model_path = set->model_path;
  auto model = graph::LoadModel(model_path);
  if (!model.ok()) return ReportError(model.status());
  pipeline::DeployOptions options;
  options.name = f.name.empty() ? std::filesystem::path(model_path).stem().string() : f.name;
  auto repositories = TierMap("--repository", f.repositories);
  auto addresses = TierMap("--address", f.addresses);
  auto control = TierMap("--control", f.control);
  for (const auto* m : {&repositories, &addresses, &control}) {
    if (!m->ok()) return ReportError(m->status());
  }
  options.repositories = *repositories;
  options.addresses = *addresses;
  options.control = *control;
  for (const auto& [tier, value] : options.addresses) {
    if (std::find(set->tiers.begin(), set->tiers.end(), tier) == set->tiers.end()) {
      return ReportError(InvalidArgument("--address " + tier + "=" + value +
                                         ": the plan has no tier '" + tier + "'"));
    }
  }
  options.device_directory = f.device_dir;
  if (options.device_directory.empty()) {
    const std::filesystem::path p(f.plan);
    options.device_directory = (p.parent_path() / (p.stem().string() + ".device")).string();
  }
  options.optimize = !f.bitwise;
  options.intra_op_threads = f.threads;
  auto deployed = pipeline::DeploySet(*model, f.plan, options);
  if (!deployed.ok()) return ReportError(deployed.status());
  for (size_t i = 0; i < deployed->size(); ++i) {
    const auto& tiers = (*deployed)[i];
    const auto& member = set->members[i];
    std::cout << (set->is_set ? "m" + std::to_string(i) + " (" + member.label + "): " : "")
              << "plan " << member.id << " of " << model_path << " deployed on " << tiers.size()
              << " tier" << (tiers.size() == 1 ? "" : "s") << ":\n";
    for (const auto& d : tiers) {
      if (d.model.empty()) {
        std::cout << "  " << d.tier << ": stage in " << d.directory << "\n";
      } else {
        std::cout << "  " << d.tier << ": model " << d.model << " version " << d.version << " at "
                  << d.address << " (" << d.directory << ")\n";
      }
    }
  }
  std::cout << "run it with: seam run --plan " << f.plan << "\n";
  return 0;
}

}  // namespace

void RegisterDeployCommand(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<DeployFlags>();
  auto* cmd = app.add_subcommand(
      "deploy", "put a plan's stages (or every plan's of a set) on the tiers that run them");
  cmd->add_option("plan", f->plan, "plan or plan-set file (seam plan --output, seam plan --set)")
      ->required();
  cmd->add_option("--model", f->model, "the ONNX model (default: the path in the plan)");
  cmd->add_option("--name", f->name, "stage models are NAME-TIER (default: the model's stem)");
  cmd->add_option("--repository", f->repositories, "TIER=DIR: a server tier's model repository")
      ->allow_extra_args(false);
  cmd->add_option("--address", f->addresses,
                  "TIER=HOST:PORT: where the tier below reaches a server tier")
      ->allow_extra_args(false);
  cmd->add_option("--control", f->control,
                  "TIER=HOST:PORT: where this command reaches a tier, to wait until it serves the "
                  "new stage before deploying the tier below")
      ->allow_extra_args(false);
  cmd->add_option("--device-dir", f->device_dir,
                  "where the device's stage goes (default: PLAN.device/ beside the plan)");
  cmd->add_flag("--bitwise", f->bitwise,
                "disable ONNX Runtime's graph optimisations on every tier: results equal the "
                "whole model's (run without them) bit for bit");
  cmd->add_option("--threads", f->threads, "ONNX Runtime intra-op threads per stage");
  cmd->callback([f, &exit_code] { exit_code = RunDeploy(*f); });
}

}  // namespace seam::cli
