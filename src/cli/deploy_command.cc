// `seam deploy PLAN.json`: cut the plan's segments from the model and put each tier's stage where
// it is served (pipeline/deployment.h).
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "cli/tier_flags.h"
#include "pipeline/deployment.h"
#include "plan/plan_set_file.h"

namespace seam::cli {
namespace {

struct DeployFlags {
  std::string plan;
  std::string model;  // default: the path recorded in the plan
  std::string name;   // default: the model file's stem
  std::vector<std::string> repositories, addresses, control;
  HopSecurityFlags security;
  std::string sign;                  // a source of the PEM private key
  std::vector<std::string> encrypt;  // TIER=SRC: a model key
  std::string device_dir;
  bool bitwise = false;
  int threads = 1;
  double ready_timeout_s = 30;
};

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
  // The same files are named in the stages (read there by the tier below) and used by this
  // command's own control calls: one machine's paths in a lab, one secret mount in a cluster.
  auto security = HopSecurityByTier(f.security);
  if (!security.ok()) return ReportError(security.status());
  options.security = *security;
  if (!f.sign.empty()) {
    auto signer = pipeline::StageSigner::Load(f.sign);
    if (!signer.ok()) return ReportError(signer.status());
    options.signer = std::move(signer).value();
  }
  auto encrypt = TierMap("--encrypt", f.encrypt, /*secret=*/true);
  if (!encrypt.ok()) return ReportError(encrypt.status());
  for (const auto& [tier, source] : *encrypt) {
    auto key = ModelKeys::LoadOne(source, "--encrypt " + tier);
    if (!key.ok()) return ReportError(key.status());
    options.encrypt[tier] = std::move(key).value();
  }
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
  if (!(f.ready_timeout_s > 0)) {
    return ReportError(InvalidArgument("--ready-timeout-s must be positive, got " +
                                       std::to_string(f.ready_timeout_s)));
  }
  options.ready_timeout_ms = f.ready_timeout_s * 1e3;
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
  AddHopSecurityFlags(cmd, &f->security, "the tier below (and this command's --control)");
  cmd->add_option("--sign", f->sign,
                  "sign every stage with this PEM private key, Ed25519 or ECDSA (file:PATH or "
                  "env:NAME; never written beside the models): tiers with --trusted-keys load "
                  "only signed stages");
  cmd->add_option("--encrypt", f->encrypt,
                  "TIER=SRC: seal TIER's segments at rest with this model key (AES-256-GCM; "
                  "file:PATH or env:NAME, seam keygen writes one); the tier opens them with "
                  "--model-key (seam serve, seam run). The device's tier may be named too")
      ->allow_extra_args(false);
  cmd->add_option("--device-dir", f->device_dir,
                  "where the device's stage goes (default: PLAN.device/ beside the plan)");
  cmd->add_flag("--bitwise", f->bitwise,
                "disable ONNX Runtime's graph optimisations on every tier: results equal the "
                "whole model's (run without them) bit for bit");
  cmd->add_option("--threads", f->threads, "ONNX Runtime intra-op threads per stage");
  cmd->add_option("--ready-timeout-s", f->ready_timeout_s,
                  "with --control, how long to wait for each tier to serve its new stage")
      ->capture_default_str();
  cmd->callback([f, &exit_code] { exit_code = RunDeploy(*f); });
}

}  // namespace seam::cli
