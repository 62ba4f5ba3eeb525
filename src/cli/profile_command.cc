// `seam profile`: measure one model on this host as one tier and write the profile JSON
// (schema seam.profile/v1, docs/profile.md).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "profile/cpu_quota.h"
#include "profile/host_info.h"
#include "profile/profiler.h"

namespace seam::cli {
namespace {

struct ProfileCommandOptions {
  std::string model;
  std::string output;
  profile::ProfileOptions profile;
  bool quota_given = false;
  std::string codecs;  // comma-separated; "none" for none; empty: the default list
  // User-supplied figures, copied into the profile as they are.
  double power_compute_w = 0, power_transmit_w = 0, power_idle_w = 0;
  double price_compute_second = 0, price_gb_egress = 0;
};

Status ValidateFigures(const ProfileCommandOptions& o) {
  const std::pair<const char*, double> figures[] = {
      {"--power-compute-w", o.power_compute_w},
      {"--power-transmit-w", o.power_transmit_w},
      {"--power-idle-w", o.power_idle_w},
      {"--price-compute-second", o.price_compute_second},
      {"--price-gb-egress", o.price_gb_egress}};
  for (const auto& [flag, value] : figures) {
    if (!(value >= 0)) {
      std::ostringstream msg;
      msg << flag << " " << value << ": must be 0 or more";
      return InvalidArgument(msg.str());
    }
  }
  return Status::Ok();
}

int RunProfile(const ProfileCommandOptions& o) {
  const profile::HostInfo host = profile::ReadHostInfo();
  // An explicit --cpu-quota 0 is an error, not "no quota": the flag's absence means that.
  if (o.quota_given) {
    if (Status s = profile::ValidateCpuQuota(o.profile.cpu_quota, host.logical_cores); !s.ok()) {
      return ReportError(s);
    }
  }
  ProfileCommandOptions options = o;
  if (o.codecs == "none") {
    options.profile.codecs.clear();
  } else if (!o.codecs.empty()) {
    options.profile.codecs.clear();
    size_t start = 0;
    while (start <= o.codecs.size()) {
      const size_t comma = std::min(o.codecs.find(',', start), o.codecs.size());
      options.profile.codecs.push_back(o.codecs.substr(start, comma - start));
      start = comma + 1;
    }
  }
  if (Status s = profile::ValidateProfileOptions(options.profile, host.logical_cores); !s.ok()) {
    return ReportError(s);
  }
  if (Status s = ValidateFigures(o); !s.ok()) return ReportError(s);
  // Checked before measuring, which can take a minute, rather than when writing.
  const std::filesystem::path dir = std::filesystem::path(o.output).parent_path();
  std::error_code ec;
  if (!dir.empty() && !std::filesystem::is_directory(dir, ec)) {
    return ReportError(
        InvalidArgument("-o " + o.output + ": directory '" + dir.string() + "' does not exist"));
  }

  auto result = profile::ProfileModel(o.model, options.profile);
  if (!result.ok()) return ReportError(result.status());
  profile::Profile& p = *result;
  if (o.quota_given && !p.quota_applied) {
    std::fprintf(stderr, "seam: warning: --cpu-quota %g not applied, measured at full speed: %s\n",
                 o.profile.cpu_quota, p.quota_note.c_str());
  }
  p.power_compute_w = o.power_compute_w;
  p.power_transmit_w = o.power_transmit_w;
  p.power_idle_w = o.power_idle_w;
  p.price_per_compute_second = o.price_compute_second;
  p.price_per_gb_egress = o.price_gb_egress;
  if (Status s = profile::WriteProfile(p, o.output); !s.ok()) return ReportError(s);

  char quota[64] = "none";
  if (p.quota_applied) {
    std::snprintf(quota, sizeof quota, "%g core (%s)", p.cpu_quota, p.quota_mechanism.c_str());
  }
  std::printf("tier '%s' on %s, %d thread(s), quota %s\n", p.tier.c_str(), p.cpu.c_str(), p.threads,
              quota);
  std::printf("whole model    %9.3f ms median %9.3f ms p90  (%d nodes, optimised)\n",
              p.whole_model.median_ms, p.whole_model.p90_ms, p.model_nodes);
  std::printf("per-run cost   %9.3f ms median %9.3f ms p90\n", p.per_run_overhead.median_ms,
              p.per_run_overhead.p90_ms);
  double node_sum = 0;
  for (const auto& n : p.nodes) node_sum += n.time.median_ms;
  std::printf("sum of nodes   %9.3f ms median               (unoptimised kernels)\n", node_sum);
  std::printf("segments       %zu measured (the whole model included)\n", p.segments.size());
  for (const auto& c : p.codecs) {
    std::printf("codec %-22s encode %7.2f GB/s  decode %7.2f GB/s  size %.3f\n", c.codec.c_str(),
                c.encode_gbps, c.decode_gbps, c.ratio);
  }
  std::printf("%s written in %.1f s\n", o.output.c_str(), p.profile_seconds);
  return 0;
}

}  // namespace

void RegisterProfileCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ProfileCommandOptions>();
  auto* cmd = app.add_subcommand("profile",
                                 "measure a model's node, segment and run times on "
                                 "this host as one tier");
  cmd->add_option("model", o->model, "ONNX model file")->required();
  cmd->add_option("--tier", o->profile.tier, "name of the tier this host stands for")->required();
  cmd->add_option("-o,--output", o->output, "profile JSON to write")->required();
  cmd->add_option("--threads", o->profile.timer.threads, "ONNX Runtime intra-op threads")
      ->capture_default_str();
  auto* quota = cmd->add_option("--cpu-quota", o->profile.cpu_quota,
                                "limit to this much CPU time per second with a cgroup, e.g. 0.5 "
                                "for half a core (emulates a weaker device)");
  cmd->add_option("--runs", o->profile.timer.runs, "timed runs per measurement")
      ->capture_default_str();
  cmd->add_option("--warmup", o->profile.timer.warmup, "untimed runs before them")
      ->capture_default_str();
  cmd->add_option("--prefixes", o->profile.prefixes,
                  "prefixes measured besides the whole model (zones for segments from the input)")
      ->capture_default_str();
  cmd->add_option("--tiles", o->profile.tiles,
                  "zones measured alone (how the optimisation gain varies along the model)")
      ->capture_default_str();
  cmd->add_option("--segments", o->profile.segments,
                  "random segments measured besides the prefixes and tiles")
      ->capture_default_str();
  cmd->add_option("--seed", o->profile.timer.seed, "seed of the inputs and the segment sample")
      ->capture_default_str();
  cmd->add_option("--codecs", o->codecs,
                  "codecs to measure, comma-separated, or 'none' (default: every codec the "
                  "planner may choose)");
  cmd->add_option("--codec-tensors", o->profile.codec_tensors,
                  "largest activations the codecs are measured on")
      ->capture_default_str();
  cmd->add_option("--power-compute-w", o->power_compute_w, "device power while computing, W");
  cmd->add_option("--power-transmit-w", o->power_transmit_w, "device power while sending, W");
  cmd->add_option("--power-idle-w", o->power_idle_w, "device power while waiting, W");
  cmd->add_option("--price-compute-second", o->price_compute_second,
                  "price of one second of compute on this tier");
  cmd->add_option("--price-gb-egress", o->price_gb_egress, "price of one GB leaving this tier");
  cmd->callback([o, quota, &exit_code] {
    o->quota_given = quota->count() > 0;
    exit_code = RunProfile(*o);
  });
}

}  // namespace seam::cli
