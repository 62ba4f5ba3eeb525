// Plan sets as a user runs them: `seam plan --set` from measured profiles, `seam deploy` of the
// set onto edge and cloud servers on loopback, `seam run` choosing per request among its plans by
// what the device measures. A device made 20x slower moves the requests to a plan that sends
// them up (the bundled models are small: a fast link and devices up to 64x slower than profiled
// make sending worth it somewhere in the set's range); the outputs of every plan equal the whole
// model's, bitwise.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "graph/test_models.h"
#include "plan/link.h"
#include "tests/support/run_seam.h"
#include "tests/support/tier_plans.h"

namespace seam::testing {
namespace {

class PlanSetCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    tiers_ = LoopbackTiers::Start(&error).release();
    ASSERT_NE(tiers_, nullptr) << error;
    const std::string dir = tiers_->scratch();
    for (const char* tier : {"device", "edge", "cloud"}) {
      const Outcome p = RunSeam("profile " + Model() + " --tier " + tier +
                                " --runs 3 --warmup 1 -o " + dir + "/" + tier + ".json");
      ASSERT_EQ(p.exit_code, 0) << p.output;
    }
  }
  static void TearDownTestSuite() {
    delete tiers_;
    tiers_ = nullptr;
  }
  static std::string Model() { return graph::testing::BundledModel("dag_blocks.onnx"); }
  static std::string PlanArgs() {
    const std::string dir = tiers_->scratch();
    return "plan " + Model() + " --profile device=" + dir + "/device.json --profile edge=" + dir +
           "/edge.json --profile cloud=" + dir +
           "/cloud.json --link device-edge=100mbit,0.2ms --link edge-cloud=1gbit,1ms "
           "--set-device-speeds 1,4,16,64";
  }
  static std::string DeployArgs(const std::string& plan) {
    return "deploy " + plan + " --repository edge=" + tiers_->edge_repository().root() +
           " --repository cloud=" + tiers_->cloud_repository().root() +
           " --address edge=" + tiers_->edge().address() +
           " --address cloud=" + tiers_->cloud().address() +
           " --control edge=" + tiers_->edge().address() +
           " --control cloud=" + tiers_->cloud().address() + " --bitwise";
  }
  static LoopbackTiers* tiers_;
};
LoopbackTiers* PlanSetCliTest::tiers_ = nullptr;

TEST_F(PlanSetCliTest, ASetIsPlannedDeployedAndChosenFromPerRequest) {
  const std::string set = tiers_->scratch() + "/set.json";
  const Outcome planned = RunSeam(PlanArgs() + " --set -o " + set);
  ASSERT_EQ(planned.exit_code, 0) << planned.output;
  EXPECT_NE(planned.output.find("plan set for"), std::string::npos) << planned.output;
  auto text = ReadFile(set);
  ASSERT_TRUE(text.ok());
  const auto json = nlohmann::json::parse(*text);
  ASSERT_GE(json.at("members").size(), 2u) << planned.output;

  const Outcome deployed = RunSeam(DeployArgs(set));
  ASSERT_EQ(deployed.exit_code, 0) << deployed.output;
  EXPECT_NE(deployed.output.find("m1 ("), std::string::npos) << deployed.output;

  // Whichever plans answer, the outputs are the whole model's.
  const Outcome checked = RunSeam("run --plan " + set + " --random 2 --repeat 3 --check");
  ASSERT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("check: outputs equal the whole model's, bitwise"),
            std::string::npos)
      << checked.output;
  EXPECT_NE(checked.output.find("plans of the set that answered:"), std::string::npos)
      << checked.output;

  // A device 20x slower than profiled: after what it measures, requests go up.
  const std::string out = tiers_->scratch() + "/slow.json";
  const Outcome slow = RunSeam(
      "run --plan " + set + " --random 1 --repeat 40 --device-slowdown 20 --check --json " + out);
  ASSERT_EQ(slow.exit_code, 0) << slow.output;
  auto result = ReadFile(out);
  ASSERT_TRUE(result.ok());
  const auto run = nlohmann::json::parse(*result);
  const auto& requests = run.at("requests");
  ASSERT_EQ(requests.size(), 40u);
  int sent_up = 0;
  for (size_t i = requests.size() - 10; i < requests.size(); ++i) {
    EXPECT_TRUE(requests[i].contains("plan_reason")) << requests[i].dump();
    sent_up += !requests[i].at("links").empty();
  }
  EXPECT_GE(sent_up, 9) << slow.output;
  EXPECT_GE(run.at("plans").size(), 1u);
}

// Beyond the conditions a set was planned for (a device 200x slower than profiled; the set
// samples up to 64x), the choice's reason says so and what to plan a set for (the links as
// measured, as flags `seam plan` reads); then the device re-plans in the background from the
// inputs the set recorded and says what it found (a plan of the set, or a new one written
// beside it).
TEST_F(PlanSetCliTest, MeasuredConditionsBeyondTheSetAreNamedWithTheFlagsToPlanThem) {
  const std::string set = tiers_->scratch() + "/beyond.json";
  const Outcome planned = RunSeam(PlanArgs() + " --set -o " + set);
  ASSERT_EQ(planned.exit_code, 0) << planned.output;
  ASSERT_EQ(RunSeam(DeployArgs(set)).exit_code, 0);
  const std::string out = tiers_->scratch() + "/beyond-run.json";
  const Outcome run =
      RunSeam("run --plan " + set + " --random 1 --repeat 30 --device-slowdown 200 --json " + out);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto result = ReadFile(out);
  ASSERT_TRUE(result.ok());
  const auto requests = nlohmann::json::parse(*result).at("requests");
  const std::string first = requests.front().at("plan_reason").get<std::string>();
  EXPECT_NE(first.find("measured outside the set's range: device"), std::string::npos) << first;
  const auto flag = first.find("--link device-edge=");
  ASSERT_NE(flag, std::string::npos) << first;
  const std::string link = first.substr(flag + 19, first.find(' ', flag + 19) - flag - 19);
  auto parsed = plan::ParseLink(link);
  EXPECT_TRUE(parsed.ok()) << link << ": " << parsed.status().ToString();
  const std::string last = requests.back().at("plan_reason").get<std::string>();
  std::printf("[ reason   ] %s\n", last.c_str());
  EXPECT_NE(last.find("for what was measured then: "), std::string::npos) << last;
  EXPECT_EQ(last.find("re-planning failed"), std::string::npos) << last;
}

TEST_F(PlanSetCliTest, SettingsOutOfRangeAreRefusedInOneLine) {
  const std::string set = tiers_->scratch() + "/bad.json";
  for (const auto& [flags, words] :
       std::vector<std::pair<std::string, std::string>>{{"--set-range 0.5", "bandwidth range"},
                                                        {"--set-points 1", "bandwidth points"},
                                                        {"--set-tolerance -1", "tolerance"},
                                                        {"--set-device-speeds 0", "positive"},
                                                        {"--objective device-energy", "latency"}}) {
    const Outcome o = RunSeam(PlanArgs() + " --set " + flags + " -o " + set);
    EXPECT_EQ(o.exit_code, 1) << flags << ": " << o.output;
    EXPECT_NE(o.output.find(words), std::string::npos) << flags << ": " << o.output;
  }
}

}  // namespace
}  // namespace seam::testing
