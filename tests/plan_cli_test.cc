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

// --pin TIER: every node on that tier, costed by the same model; never cheaper than the free plan.
TEST_F(PlanCliTest, PinnedPlansPutEveryNodeOnTheirTier) {
  const std::string links = " --link device-edge=20mbit,5ms --link edge-cloud=100mbit,20ms";
  Outcome free = Seam("plan " + Chain() + ThreeTiers() + links + " -o " + Out("free.json"));
  ASSERT_EQ(free.exit_code, 0) << free.output;
  const double free_ms =
      nlohmann::json::parse(*ReadFile(Out("free.json")))["predicted"]["latency_ms"];
  for (const std::string tier : {"device", "edge", "cloud"}) {
    Outcome o = Seam("plan " + Chain() + ThreeTiers() + links + " --pin " + tier + " -o " +
                     Out("pinned_" + tier + ".json"));
    ASSERT_EQ(o.exit_code, 0) << o.output;
    auto plan = nlohmann::json::parse(*ReadFile(Out("pinned_" + tier + ".json")));
    for (const auto& p : plan["placement"]) EXPECT_EQ(p["tier"], tier) << p.dump();
    EXPECT_EQ(plan["constraints"]["pinned_tier"], tier);
    EXPECT_GE(plan["predicted"]["latency_ms"].get<double>(), free_ms - 1e-9) << tier;
  }
  ExpectError("plan " + Chain() + ThreeTiers() + links + " --pin moon -o " + Out("moon.json"),
              "--pin moon: no tier of that name (give it a --profile)");
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

// Issue 5 item 4: a fresh profile measures every codec the planner may choose, on this tier.
TEST_F(PlanCliTest, ProfileMeasuresEachCodecOnTheModelsActivations) {
  auto text = ReadFile(Profile("device"));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const nlohmann::json profile = nlohmann::json::parse(*text);
  std::vector<std::string> listed;
  for (const auto& c : profile.at("codecs")) {
    const std::string codec = c["codec"];
    listed.push_back(codec);
    EXPECT_GT(c["encode_gbps"].get<double>(), 0) << codec;
    EXPECT_GT(c["decode_gbps"].get<double>(), 0) << codec;
    EXPECT_GT(c["ratio"].get<double>(), 0) << codec;
    EXPECT_LE(c["ratio"].get<double>(), 1.1) << codec;  // a header on small tensors, no blow-up
  }
  EXPECT_EQ(listed, (std::vector<std::string>{"identity+lz4", "identity+zstd", "fp16", "fp16+lz4",
                                              "fp16+zstd", "int8", "int8+zstd", "int8_per_channel",
                                              "int8_per_channel+zstd"}));
}

// The codecs of a crossing tensor on a slow link: a lossy one exactly when the accuracy file from
// `seam calibrate` allows it. The device may hold only conv1's weights (--memory) and keeps the
// raw image, so some activation must cross the 1 Mbit/s link.
TEST_F(PlanCliTest, LossyCodecOnlyWhereCalibrationAllowsIt) {
  auto transfers = [&](const std::string& accuracy, const std::string& out) {
    Outcome o = Seam("plan " + Chain() + " --profile device=" + Profile("device") +
                     " --profile cloud=" + Profile("cloud") +
                     " --link device-cloud=1mbit,10ms --keep-input-on-device"
                     " --memory device=0.005 --accuracy " +
                     accuracy + " -o " + Out(out));
    EXPECT_EQ(o.exit_code, 0) << o.output;
    auto text = ReadFile(Out(out));
    EXPECT_TRUE(text.ok());
    return text.ok() ? nlohmann::json::parse(*text)["transfers"] : nlohmann::json::array();
  };
  auto lossy = [](const std::string& codec) {
    return codec.starts_with("fp16") || codec.starts_with("int8");
  };
  // A loose budget allows every lossy codec on every tensor.
  Outcome o = Seam("calibrate " + Chain() + " --samples 2 --max-rel-error 0.5 --min-top1 0 -o " +
                   Out("loose.json"));
  ASSERT_EQ(o.exit_code, 0) << o.output;
  int lossy_up = 0;
  for (const auto& t : transfers(Out("loose.json"), "loose_plan.json")) {
    if (t["direction"] == "up" && lossy(t["codec"])) ++lossy_up;
  }
  EXPECT_GE(lossy_up, 1);
  // A budget no lossy codec meets: only lossless codecs, on every tensor.
  o = Seam("calibrate " + Chain() + " --samples 2 --max-rel-error 1e-12 -o " + Out("strict.json"));
  ASSERT_EQ(o.exit_code, 0) << o.output;
  const nlohmann::json strict = transfers(Out("strict.json"), "strict_plan.json");
  bool crossed = false;
  for (const auto& t : strict) {
    crossed |= t["direction"] == "up";
    EXPECT_FALSE(lossy(t["codec"])) << t.dump();
  }
  EXPECT_TRUE(crossed) << strict.dump();
}

}  // namespace
}  // namespace seam
