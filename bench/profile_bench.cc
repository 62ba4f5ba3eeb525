// profile_bench: how well a tier's profile predicts segment latency, and how long profiling takes.
//
// For each model: `seam profile`'s measurement (ProfileModel) with the given settings, timed
// (goal: <= 60 s per tier); FitLatencyModel on the profile; then --checks random contiguous
// segments that the fit did not see, each cut out and measured as deployed, compared with the
// prediction: the mean absolute percentage error (goal: <= 10%, issue 5 item 2).
// --cpu-quota applies one cgroup quota to the whole run (profile and checks alike), emulating a
// weaker tier. Missed goals are reported (NOT met), not errors; exit 1 only when a step fails.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plan/latency_model.h"
#include "profile/cpu_quota.h"
#include "profile/host_info.h"
#include "profile/prediction_check.h"
#include "profile/profiler.h"

namespace seam::bench {
namespace {

constexpr double kMapeGoalPercent = 10;
constexpr double kProfileGoalSeconds = 60;

struct Options {
  std::vector<std::string> models;
  profile::ProfileOptions profile;
  int checks = 30;
  double cpu_quota = 0;
  std::string json;
};

struct Row {
  std::string model;
  profile::Profile profile;
  plan::LatencyModel latency;
  profile::PredictionCheck check;
};

Result<Row> BenchModel(const std::string& path, const Options& o) {
  Row row;
  row.model = std::filesystem::path(path).filename().string();
  SEAM_ASSIGN_OR_RETURN(row.profile, profile::ProfileModel(path, o.profile));
  SEAM_ASSIGN_OR_RETURN(row.latency, plan::FitLatencyModel(row.profile));
  std::vector<std::pair<int, int>> fitted;
  for (const auto& s : row.profile.segments) fitted.emplace_back(s.first, s.last);
  SEAM_ASSIGN_OR_RETURN(auto timer, profile::SegmentTimer::Create(path, o.profile.timer));
  const auto segments =
      profile::RandomSegments(timer->num_nodes(), o.checks, o.profile.timer.seed + 1000, fitted);
  const plan::LatencyModel& latency = row.latency;
  SEAM_ASSIGN_OR_RETURN(
      row.check,
      profile::CheckPredictions(
          *timer, [&](int f, int l, int64_t bytes) { return latency.PredictMs(f, l, bytes); },
          segments));
  return row;
}

// The scale of each zone, for segments that start as `start` says.
std::vector<double> Scales(const plan::LatencyModel& m, plan::SegmentStart start) {
  std::vector<double> scales;
  for (int first : m.zone_starts(start)) scales.push_back(m.ScaleAt(first, start));
  return scales;
}

nlohmann::json RowJson(const Row& r) {
  nlohmann::json segments = nlohmann::json::array();
  for (const auto& s : r.check.segments) {
    segments.push_back({{"first", s.first},
                        {"last", s.last},
                        {"boundary_bytes", s.boundary_bytes},
                        {"measured_ms", s.measured_ms},
                        {"predicted_ms", s.predicted_ms}});
  }
  return {{"model", r.model},
          {"nodes", r.profile.model_nodes},
          {"whole_model_ms", r.profile.whole_model.median_ms},
          {"overhead_ms", r.latency.overhead_ms()},
          {"input_zone_starts", r.latency.zone_starts(plan::SegmentStart::kModelInput)},
          {"inside_zone_starts", r.latency.zone_starts(plan::SegmentStart::kInside)},
          {"scale_from_input", Scales(r.latency, plan::SegmentStart::kModelInput)},
          {"scale_inside", Scales(r.latency, plan::SegmentStart::kInside)},
          {"ms_per_boundary_byte", r.latency.ms_per_boundary_byte()},
          {"fit", r.latency.method()},
          {"profile_seconds", r.profile.profile_seconds},
          {"profile_goal_seconds", kProfileGoalSeconds},
          {"profile_goal_met", r.profile.profile_seconds <= kProfileGoalSeconds},
          {"mape_percent", r.check.mape_percent},
          {"max_ape_percent", r.check.max_ape_percent},
          {"mape_goal_percent", kMapeGoalPercent},
          {"mape_goal_met", r.check.mape_percent <= kMapeGoalPercent},
          {"checked_segments", segments},
          {"profile", profile::ProfileToJson(r.profile)}};
}

int Run(Options o) {
  const profile::HostInfo host = profile::ReadHostInfo();
  std::unique_ptr<profile::CpuQuota> quota;
  if (o.cpu_quota > 0) {
    if (Status s = profile::ValidateCpuQuota(o.cpu_quota, host.logical_cores); !s.ok()) {
      std::fprintf(stderr, "profile_bench: %s\n", s.message().c_str());
      return 1;
    }
    quota = profile::CpuQuota::Apply(o.cpu_quota);
    if (quota->applied()) o.profile.timer.min_batch_ms = profile::kQuotaMinBatchMs;
    if (!quota->applied()) {
      std::fprintf(stderr, "profile_bench: warning: no quota: %s\n", quota->note().c_str());
    }
  }
  std::printf(
      "host: %s, %d logical cores; runs %d, warmup %d, %d fitted + %d checked segments, "
      "%d thread(s), quota %s\n",
      host.cpu.c_str(), host.logical_cores, o.profile.timer.runs, o.profile.timer.warmup,
      o.profile.segments, o.checks, o.profile.timer.threads,
      quota && quota->applied()
          ? (std::to_string(o.cpu_quota) + " (" + quota->mechanism() + ")").c_str()
          : "none");
  std::printf("%-18s %5s %10s %9s %5s %9s %10s %7s %9s %9s  %s\n", "model", "nodes", "whole ms",
              "a ms", "zones", "c ns/B", "profile s", "checks", "MAPE %", "max APE %", "goals");
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& path : o.models) {
    if (!std::filesystem::exists(path)) {
      std::printf("%-18s skipped: %s not found (run scripts/setup.sh)\n",
                  std::filesystem::path(path).filename().c_str(), path.c_str());
      continue;
    }
    auto row = BenchModel(path, o);
    if (!row.ok()) {
      std::fprintf(stderr, "profile_bench: %s\n", row.status().message().c_str());
      return 1;
    }
    const bool mape_met = row->check.mape_percent <= kMapeGoalPercent;
    const bool time_met = row->profile.profile_seconds <= kProfileGoalSeconds;
    std::printf(
        "%-18s %5d %10.4f %9.4f %5d %9.4f %10.2f %7zu %9.1f %9.1f  MAPE<=10%%: %s, "
        "<=60 s: %s\n",
        row->model.c_str(), row->profile.model_nodes, row->profile.whole_model.median_ms,
        row->latency.overhead_ms(),
        static_cast<int>(row->latency.zone_starts(plan::SegmentStart::kInside).size()),
        row->latency.ms_per_boundary_byte() * 1e6, row->profile.profile_seconds,
        row->check.segments.size(), row->check.mape_percent, row->check.max_ape_percent,
        mape_met ? "met" : "NOT met", time_met ? "met" : "NOT met");
    rows.push_back(RowJson(*row));
  }
  if (!o.json.empty()) {
    nlohmann::json out = {{"bench", "profile_bench"},
                          {"host", {{"cpu", host.cpu}, {"logical_cores", host.logical_cores}}},
                          {"runs", o.profile.timer.runs},
                          {"warmup", o.profile.timer.warmup},
                          {"fitted_segments", o.profile.segments},
                          {"threads", o.profile.timer.threads},
                          {"cpu_quota", o.cpu_quota},
                          {"quota_applied", quota && quota->applied()},
                          {"models", rows}};
    std::ofstream(o.json) << out.dump(2) << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace seam::bench

int main(int argc, char** argv) {
  seam::bench::Options o;
  o.profile.tier = "bench";
  o.models = {std::string(SEAM_SOURCE_DIR) + "/models/cnn_chain.onnx",
              std::string(SEAM_SOURCE_DIR) + "/models/dag_blocks.onnx",
              std::string(SEAM_MODEL_CACHE) + "/blazeface.onnx"};
  CLI::App app{"profile_bench: latency prediction error and profiling time per model"};
  app.add_option("--model", o.models, "models to profile (default: the bundled ones)");
  app.add_option("--runs", o.profile.timer.runs, "timed runs per measurement")
      ->capture_default_str();
  app.add_option("--warmup", o.profile.timer.warmup, "warm-up runs")->capture_default_str();
  app.add_option("--prefixes", o.profile.prefixes, "prefixes the profile measures")
      ->capture_default_str();
  app.add_option("--tiles", o.profile.tiles, "zones the profile measures alone")
      ->capture_default_str();
  app.add_option("--segments", o.profile.segments, "random segments the profile also fits on")
      ->capture_default_str();
  app.add_option("--checks", o.checks, "random other segments to check predictions on")
      ->capture_default_str();
  app.add_option("--threads", o.profile.timer.threads, "intra-op threads")->capture_default_str();
  app.add_option("--seed", o.profile.timer.seed, "seed")->capture_default_str();
  app.add_option("--cpu-quota", o.cpu_quota,
                 "cgroup CPU quota for the whole run (0.5 = half a "
                 "core)");
  app.add_option("--json", o.json, "also write the figures to this JSON file");
  CLI11_PARSE(app, argc, argv);
  return seam::bench::Run(o);
}
