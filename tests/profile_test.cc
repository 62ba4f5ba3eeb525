// Profiling on this host: the latency prediction against measurement for every bundled model
// (issue 5 item 2), `seam profile` as a user runs it (a profile that round-trips; one-line errors
// for bad input) and a CPU quota that really slows the process down where the host allows one.
//
// The accuracy bound here is a regression guard for a shared, noisy machine, not the goal:
// bench/profile_bench reports the figure against the 10% goal.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "graph/test_models.h"
#include "plan/latency_model.h"
#include "profile/cpu_quota.h"
#include "profile/host_info.h"
#include "profile/prediction_check.h"
#include "profile/profiler.h"
#include "tests/support/run_seam.h"

namespace seam {
namespace {
namespace fs = std::filesystem;

// Mean absolute percentage error allowed over the checked segments.
constexpr double kMapeBoundPercent = 50;

struct Case {
  std::string label;
  std::string path;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.label; }

class PredictionAccuracyTest : public ::testing::TestWithParam<Case> {};

// One profile, fit and check of 20 unseen segments; the MAPE, or -1 after a failed assertion.
double ProfileFitAndCheck(const Case& c) {
  profile::ProfileOptions options;
  options.tier = "test";
  options.timer.runs = 10;
  options.timer.warmup = 2;
  options.segments = 8;
  auto p = profile::ProfileModel(c.path, options);
  EXPECT_TRUE(p.ok()) << p.status().ToString() << " (run scripts/setup.sh for BlazeFace)";
  if (!p.ok()) return -1;
  auto model = plan::FitLatencyModel(*p);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return -1;

  std::vector<std::pair<int, int>> fitted;
  for (const auto& s : p->segments) fitted.emplace_back(s.first, s.last);
  auto timer = profile::SegmentTimer::Create(c.path, options.timer);
  EXPECT_TRUE(timer.ok()) << timer.status().ToString();
  if (!timer.ok()) return -1;
  const auto segments = profile::RandomSegments((*timer)->num_nodes(), 20, 77, fitted);
  EXPECT_EQ(segments.size(), 20u);
  for (const auto& s : segments) {
    EXPECT_TRUE(std::find(fitted.begin(), fitted.end(), s) == fitted.end());
  }
  auto check = profile::CheckPredictions(
      **timer, [&](int f, int l, int64_t bytes) { return model->PredictMs(f, l, bytes); },
      segments);
  EXPECT_TRUE(check.ok()) << check.status().ToString();
  if (!check.ok()) return -1;
  std::printf(
      "[ figure   ] %s: MAPE %.1f%% (max %.1f%%) over %zu unseen segments; a = %.4f ms, "
      "c = %.4f ns/B (%s); profiled in %.1f s\n",
      c.label.c_str(), check->mape_percent, check->max_ape_percent, check->segments.size(),
      model->overhead_ms(), model->ms_per_boundary_byte() * 1e6, model->method().c_str(),
      p->profile_seconds);
  EXPECT_LE(p->profile_seconds, 60);
  return check->mape_percent;
}

// The machine is shared: a neighbour's burst during the profile or the check skews one attempt
// (a CI run measured 69% on dag_blocks where quiet runs give ~15%). A broken latency model misses
// on every attempt, so the guard takes the best of three.
TEST_P(PredictionAccuracyTest, RandomSegmentsAreWithinTheBound) {
  double best = -1;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const double mape = ProfileFitAndCheck(GetParam());
    if (mape < 0) return;
    if (best < 0 || mape < best) best = mape;
    if (best <= kMapeBoundPercent) break;
  }
  EXPECT_LE(best, kMapeBoundPercent);
}

INSTANTIATE_TEST_SUITE_P(
    BundledModels, PredictionAccuracyTest,
    ::testing::Values(Case{"cnn_chain", graph::testing::BundledModel("cnn_chain.onnx")},
                      Case{"dag_blocks", graph::testing::BundledModel("dag_blocks.onnx")},
                      Case{"blazeface", graph::testing::BlazeFaceModel()}),
    [](const auto& info) { return info.param.label; });

using testing::Outcome;

Outcome Seam(const std::string& args) { return testing::RunSeam(args); }

class ProfileCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seam_profile_cli_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void ExpectError(const std::string& args, const std::string& message) {
    SCOPED_TRACE(args);
    Outcome o = Seam(args);
    EXPECT_EQ(o.exit_code, 1);
    EXPECT_EQ(o.output, "seam: error: " + message + "\n");
  }
  fs::path dir_;
  const std::string cnn_ = graph::testing::BundledModel("cnn_chain.onnx");
};

TEST_F(ProfileCliTest, WritesAProfileThatRoundTrips) {
  const std::string out = (dir_ / "edge.json").string();
  Outcome o = Seam("profile " + cnn_ + " --tier edge --runs 3 --warmup 1 --segments 4 -o " + out +
                   " --power-compute-w 4.5 --price-gb-egress 0.09");
  ASSERT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find(out + " written"), std::string::npos) << o.output;

  auto p = profile::ReadProfile(out);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->tier, "edge");
  EXPECT_EQ(p->model_path, cnn_);
  auto model = graph::testing::LoadOrDie(cnn_);
  EXPECT_EQ(p->model_sha256, model.sha256);
  auto view = graph::GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(p->model_nodes, static_cast<int>(view->order().size()));
  ASSERT_EQ(p->nodes.size(), view->order().size());
  for (size_t i = 0; i < p->nodes.size(); ++i) {
    EXPECT_EQ(p->nodes[i].name, view->node(view->order()[i]).name);
    EXPECT_GT(p->nodes[i].time.median_ms, 0) << p->nodes[i].name;
    EXPECT_GE(p->nodes[i].time.p90_ms, p->nodes[i].time.median_ms);
  }
  // The whole model, prefixes, tiles and pairs of tiles (for the latency model), then 4 sampled.
  std::map<std::string, int> kinds;
  for (const auto& s : p->segments) {
    ++kinds[s.kind];
    EXPECT_TRUE(s.boundary_bytes.has_value() && *s.boundary_bytes > 0) << s.first << ".." << s.last;
  }
  EXPECT_EQ(kinds["whole"], 1);
  EXPECT_EQ(kinds["prefix"], 3);
  EXPECT_GE(kinds["tile"], 4);
  EXPECT_EQ(kinds["pair"], kinds["tile"] - 1);
  EXPECT_EQ(kinds["sample"], 4);
  EXPECT_EQ(p->segments[0].first, 0);
  EXPECT_EQ(p->segments[0].last, p->model_nodes - 1);
  EXPECT_EQ(p->segments[0].kind, "whole");
  EXPECT_GT(p->whole_model.median_ms, 0);
  EXPECT_GT(p->per_run_overhead.median_ms, 0);
  EXPECT_EQ(p->runs, 3);
  EXPECT_EQ(p->threads, 1);
  EXPECT_FALSE(p->quota_applied);
  EXPECT_EQ(p->quota_mechanism, "none");
  EXPECT_EQ(p->logical_cores, profile::ReadHostInfo().logical_cores);
  EXPECT_GT(p->memory_bytes, 0);
  EXPECT_EQ(p->codecs.size(), profile::DefaultProfiledCodecs().size());
  EXPECT_EQ(p->power_compute_w, 4.5);
  EXPECT_EQ(p->power_idle_w, 0);
  EXPECT_EQ(p->price_per_gb_egress, 0.09);
  // What was written is exactly what the reader gives back.
  auto text = ReadFile(out);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(profile::ProfileToJson(*p), nlohmann::json::parse(*text));
}

TEST_F(ProfileCliTest, BadInputIsOneLineAndExitOne) {
  const std::string out = " -o " + (dir_ / "p.json").string();
  const std::string missing = (dir_ / "nope.onnx").string();
  ExpectError("profile " + missing + " --tier edge" + out,
              "cannot open '" + missing + "': No such file or directory");
  const int cores = profile::ReadHostInfo().logical_cores;
  const std::string quota_rule = ": must be a fraction of CPU time between 0.01 and the " +
                                 std::to_string(cores) +
                                 " logical cores of this host (0.5 = half of one core)";
  ExpectError("profile " + cnn_ + " --tier edge --cpu-quota 0" + out, "--cpu-quota 0" + quota_rule);
  ExpectError("profile " + cnn_ + " --tier edge --cpu-quota -1" + out,
              "--cpu-quota -1" + quota_rule);
  ExpectError("profile " + cnn_ + " --tier edge --cpu-quota " + std::to_string(cores + 1) + out,
              "--cpu-quota " + std::to_string(cores + 1) + quota_rule);
  ExpectError("profile " + cnn_ + " --tier edge --runs 0" + out, "--runs 0: must be at least 1");
  ExpectError("profile " + cnn_ + " --tier edge --warmup -1" + out,
              "--warmup -1: must be 0 or more");
  ExpectError("profile " + cnn_ + " --tier edge --threads 0" + out,
              "--threads 0: must be at least 1");
  ExpectError("profile " + cnn_ + " --tier edge --power-idle-w -2" + out,
              "--power-idle-w -2: must be 0 or more");
  const std::string unwritable = (dir_ / "no/such/dir/p.json").string();
  ExpectError(
      "profile " + cnn_ + " --tier edge -o " + unwritable,
      "-o " + unwritable + ": directory '" + (dir_ / "no/such/dir").string() + "' does not exist");
  EXPECT_FALSE(fs::exists(dir_ / "p.json"));
  Outcome o = Seam("profile " + cnn_ + out);  // no --tier: a usage error from the flag parser
  EXPECT_NE(o.exit_code, 0);
}

double ProcessCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Burns `cpu_seconds` of CPU time on this thread; returns the wall time it took.
double BurnCpu(double cpu_seconds) {
  const auto start = std::chrono::steady_clock::now();
  const double until = ProcessCpuSeconds() + cpu_seconds;
  volatile double x = 1;
  while (ProcessCpuSeconds() < until) {
    for (int i = 0; i < 10000; ++i) x = x * 1.0000001 + 1e-9;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string OwnCgroups() {
  auto text = ReadFile("/proc/self/cgroup");
  return text.ok() ? *text : "";
}

TEST(CpuQuotaOnHostTest, HalfACoreDoublesWallTimeAndIsUndone) {
  const std::string before = OwnCgroups();
  std::string group;
  {
    auto quota = profile::CpuQuota::Apply(0.5);
    if (!quota->applied()) GTEST_SKIP() << "no CPU quota on this host: " << quota->note();
    group = quota->group();
    EXPECT_TRUE(fs::is_directory(group));
    EXPECT_NE(OwnCgroups().find(fs::path(group).filename().string()), std::string::npos);
    const double wall = BurnCpu(0.4);
    std::printf("[ figure   ] %s: 0.4 s of CPU took %.2f s of wall time at --cpu-quota 0.5\n",
                quota->mechanism().c_str(), wall);
    EXPECT_GE(wall, 0.4 / 0.5 * 0.8);
  }
  EXPECT_FALSE(fs::exists(group)) << group;
  EXPECT_EQ(OwnCgroups(), before);
}

}  // namespace
}  // namespace seam
