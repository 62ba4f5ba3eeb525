// `seam profile` and `seam plan` as a user runs them: a plan end to end on a bundled model, and
// each bad input of the planner issue as one clear line with a non-zero exit.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "graph/test_models.h"
#include "tests/support/run_seam.h"

namespace seam {
namespace {
namespace fs = std::filesystem;

using testing::Outcome;

Outcome Seam(const std::string& args) { return testing::RunSeam(args); }

class PlanCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("seam_plan_cli_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // Quick profiles: the numbers matter less than the files being real.
    for (const char* tier : {"device", "edge", "cloud"}) {
      Outcome o = Seam("profile " + Chain() + " --tier " + tier + " --runs 3 --warmup 1 -o " +
                       Profile(tier));
      ASSERT_EQ(o.exit_code, 0) << o.output;
    }
    Outcome o = Seam("profile " + graph::testing::BundledModel("dag_blocks.onnx") +
                     " --tier other --runs 2 --warmup 1 -o " + Profile("dag"));
    ASSERT_EQ(o.exit_code, 0) << o.output;
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::string Chain() { return graph::testing::BundledModel("cnn_chain.onnx"); }
  static std::string Profile(const std::string& tier) { return (dir_ / (tier + ".json")).string(); }
  static std::string Out(const std::string& name) { return (dir_ / name).string(); }
  std::string ThreeTiers() const {
    return " --profile device=" + Profile("device") + " --profile edge=" + Profile("edge") +
           " --profile cloud=" + Profile("cloud");
  }
  void ExpectError(const std::string& args, const std::string& message) {
    SCOPED_TRACE(args);
    Outcome o = Seam(args);
    EXPECT_EQ(o.exit_code, 1);
    EXPECT_EQ(o.output, "seam: error: " + message + "\n");
  }
  static fs::path dir_;
};
fs::path PlanCliTest::dir_;

TEST_F(PlanCliTest, PlansAllTiersAndWritesPlanAndDrawing) {
  Outcome o = Seam("plan " + Chain() + ThreeTiers() +
                   " --link device-edge=20mbit,5ms --link edge-cloud=100mbit,20ms -o " +
                   Out("plan.json") + " --svg " + Out("plan.svg"));
  ASSERT_EQ(o.exit_code, 0) << o.output;
  EXPECT_NE(o.output.find("optimal for the cost model"), std::string::npos) << o.output;
  auto text = ReadFile(Out("plan.json"));
  ASSERT_TRUE(text.ok());
  auto plan = nlohmann::json::parse(*text);
  EXPECT_EQ(plan["schema"], "seam.plan/v1");
  EXPECT_EQ(plan["placement"].size(), 13u);  // every compute node of cnn_chain
  EXPECT_GT(plan["predicted"]["latency_ms"].get<double>(), 0);
  auto svg = ReadFile(Out("plan.svg"));
  ASSERT_TRUE(svg.ok());
  EXPECT_EQ(svg->rfind("<svg", 0), 0u);
}

TEST_F(PlanCliTest, ProfileOfAnotherModel) {
  ExpectError("plan " + Chain() + " --profile device=" + Profile("device") + " --profile edge=" +
                  Profile("dag") + " --link device-edge=1gbit,1ms -o " + Out("x.json"),
              "profile '" + Profile("dag") + "' (tier edge) was measured on another model (" +
                  graph::testing::BundledModel("dag_blocks.onnx") + "), not " + Chain());
}

TEST_F(PlanCliTest, MissingTierAndMissingLink) {
  ExpectError("plan " + Chain() + " --profile device=" + Profile("device") +
                  " --profile edge=" + Profile("edge") +
                  " --link device-edge=1gbit,1ms --link edge-cloud=1gbit,1ms -o " + Out("x.json"),
              "--link edge-cloud names tier 'cloud', which has no --profile (tiers: device, edge)");
  ExpectError(
      "plan " + Chain() + ThreeTiers() + " --link device-edge=1gbit,1ms -o " + Out("x.json"),
      "missing link edge-cloud: give --link edge-cloud=BANDWIDTH,RTT");
}

TEST_F(PlanCliTest, NegativeBandwidth) {
  ExpectError("plan " + Chain() + ThreeTiers() +
                  " --link device-edge=-5mbit,5ms --link edge-cloud=1gbit,1ms -o " + Out("x.json"),
              "--link device-edge: link '-5mbit,5ms': bandwidth must be positive, got -5mbit");
}

TEST_F(PlanCliTest, SloNoPlacementCanMeet) {
  Outcome o = Seam("plan " + Chain() + ThreeTiers() +
                   " --link device-edge=1gbit,1ms --link edge-cloud=1gbit,1ms --objective cost"
                   " --slo-ms 0.000001 -o " +
                   Out("x.json"));
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_EQ(o.output.rfind("seam: error: no placement meets the latency SLO of 0.000001 ms: the "
                           "fastest takes ",
                           0),
            0u)
      << o.output;
}

TEST_F(PlanCliTest, BadProfileFileAndObjective) {
  const std::string bogus = Out("bogus.json");
  ASSERT_TRUE(WriteFileAtomic(bogus, "{\"schema\": \"something else\"}").ok());
  ExpectError("plan " + Chain() + " --profile device=" + bogus + " -o " + Out("x.json"),
              bogus + ": not a seam profile (schema is not 'seam.profile/v1')");
  ExpectError("plan " + Chain() + " --profile device=" + Profile("device") +
                  " --objective speed -o " + Out("x.json"),
              "unknown objective 'speed' (use latency, device-energy or cost)");
}

}  // namespace
}  // namespace seam
