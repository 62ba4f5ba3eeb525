// `seam deploy` and `seam run` as a user runs them, against edge and cloud servers on loopback:
// the whole flow, and every bad input the issue names (clear error, exit 1, nothing left running).
#include <gtest/gtest.h>

#include <filesystem>

#include "common/file_util.h"
#include "common/npy.h"
#include "graph/test_models.h"
#include "tests/support/run_seam.h"
#include "tests/support/tier_plans.h"

namespace seam::testing {
namespace {

class TiersCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string error;
    tiers_ = LoopbackTiers::Start(&error).release();
    ASSERT_NE(tiers_, nullptr) << error;
  }
  static void TearDownTestSuite() {
    delete tiers_;
    tiers_ = nullptr;
  }
  std::string DeployArgs(const std::string& plan) const {
    return "deploy " + plan + tiers_->DeployFlags();
  }
  static LoopbackTiers* tiers_;
};
LoopbackTiers* TiersCliTest::tiers_ = nullptr;

TEST_F(TiersCliTest, DeployThenRunChecksAgainstTheWholeModel) {
  const std::string model = graph::testing::BundledModel("dag_blocks.onnx");
  const int n = ComputeNodeCount(model);
  const std::string plan = WritePlacementPlan(model, tiers_->scratch(), "cli", n / 3, 2 * n / 3);
  const Outcome deploy = RunSeam(DeployArgs(plan) + " --bitwise");
  ASSERT_EQ(deploy.exit_code, 0) << deploy.output;
  EXPECT_NE(deploy.output.find("deployed on 3 tiers"), std::string::npos) << deploy.output;
  const std::string trace_file = tiers_->scratch() + "/trace.json";
  const Outcome run = RunSeam("run --plan " + plan +
                              " --random 2 --repeat 3 --check --no-adapt --json " + trace_file);
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("check: outputs equal the whole model's, bitwise"), std::string::npos)
      << run.output;
  EXPECT_NE(run.output.find("device->edge"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("edge->cloud"), std::string::npos) << run.output;
  auto trace = ReadFile(trace_file);
  ASSERT_TRUE(trace.ok());
  EXPECT_NE(trace->find("\"requests\""), std::string::npos);

  // An .npy input of the right shape is accepted and its outputs saved.
  Tensor input = Tensor::Zeros(DType::kFloat32, {1, 3, 32, 32});
  const std::string npy = tiers_->scratch() + "/x.npy";
  ASSERT_TRUE(WriteFileAtomic(npy, SerializeNpy(input)).ok());
  const Outcome with_file =
      RunSeam("run --plan " + plan + " --input " + npy + " --save " + tiers_->scratch() + "/out");
  EXPECT_EQ(with_file.exit_code, 0) << with_file.output;
}

// The whole user path: profile three tiers, plan, deploy what the planner wrote (its codecs
// included), run with --check.
TEST_F(TiersCliTest, APlanMadeBySeamPlanRunsAcrossTheTiers) {
  const std::string model = graph::testing::BundledModel("dag_blocks.onnx");
  const std::string dir = tiers_->scratch();
  for (const char* tier : {"device", "edge", "cloud"}) {
    const Outcome p = RunSeam("profile " + model + " --tier " + tier + " --runs 3 --warmup 1 -o " +
                              dir + "/" + tier + ".json");
    ASSERT_EQ(p.exit_code, 0) << p.output;
  }
  // A fast device-edge link and a faster edge-cloud one; whatever the planner picks must run.
  for (const char* links : {"--link device-edge=1gbit,0.1ms --link edge-cloud=10gbit,0.1ms",
                            "--link device-edge=1mbit,50ms --link edge-cloud=1mbit,50ms"}) {
    const std::string plan = dir + "/planned.json";
    const Outcome p = RunSeam(
        "plan " + model + " --profile device=" + dir + "/device.json --profile edge=" + dir +
        "/edge.json --profile cloud=" + dir + "/cloud.json " + links + " --output " + plan);
    ASSERT_EQ(p.exit_code, 0) << p.output;
    const Outcome deploy = RunSeam(DeployArgs(plan) + " --bitwise");
    ASSERT_EQ(deploy.exit_code, 0) << deploy.output;
    const Outcome run = RunSeam("run --plan " + plan + " --random 2 --check");
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_NE(run.output.find("check: outputs equal the whole model's, bitwise"), std::string::npos)
        << links << "\n"
        << p.output << run.output;
  }
}

TEST_F(TiersCliTest, APlanForAnotherModelIsRefused) {
  const std::string model = graph::testing::BundledModel("dag_blocks.onnx");
  const std::string plan = WritePlacementPlan(model, tiers_->scratch(), "other", 2, 4);
  const Outcome o =
      RunSeam(DeployArgs(plan) + " --model " + graph::testing::BundledModel("cnn_chain.onnx"));
  EXPECT_EQ(o.exit_code, 1) << o.output;
  EXPECT_NE(o.output.find("is a plan for another model"), std::string::npos) << o.output;
}

TEST_F(TiersCliTest, AnUnreachableTierIsNamed) {
  const std::string model = graph::testing::BundledModel("cnn_chain.onnx");
  const std::string plan = WritePlacementPlan(model, tiers_->scratch(), "unreachable", 1, 2);
  // The edge's address is a port nothing listens on (a server started and stopped here).
  std::string error;
  auto gone = ServerProcess::Start({"--repo", tiers_->scratch(), "--http-port", "-1"}, &error);
  ASSERT_NE(gone, nullptr) << error;
  const std::string dead = gone->address();
  ASSERT_EQ(gone->Stop(), 0);
  const Outcome deploy =
      RunSeam("deploy " + plan + " --repository edge=" + tiers_->edge_repository().root() +
              " --repository cloud=" + tiers_->cloud_repository().root() +
              " --address edge=" + dead + " --address cloud=" + tiers_->cloud().address());
  ASSERT_EQ(deploy.exit_code, 0) << deploy.output;
  // Without a fallback the run fails, naming the tier.
  const Outcome run =
      RunSeam("run --plan " + plan + " --random 1 --ready-timeout-s 1 --no-fallback");
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_NE(run.output.find("edge at " + dead), std::string::npos) << run.output;
  // With it (the default), the device answers by itself, flagged degraded, and says why.
  const Outcome degraded =
      RunSeam("run --plan " + plan + " --random 2 --ready-timeout-s 1 --check");
  EXPECT_EQ(degraded.exit_code, 0) << degraded.output;
  EXPECT_NE(degraded.output.find("2 sent, 0 ok, 2 degraded"), std::string::npos) << degraded.output;
  EXPECT_NE(degraded.output.find("edge at " + dead), std::string::npos) << degraded.output;
  EXPECT_NE(degraded.output.find("bitwise"), std::string::npos) << degraded.output;
}

TEST_F(TiersCliTest, AWrongShapeIsNamedWithBothShapes) {
  const std::string model = graph::testing::BundledModel("dag_blocks.onnx");
  const std::string plan = WritePlacementPlan(model, tiers_->scratch(), "shape", 0, 0);
  ASSERT_EQ(RunSeam(DeployArgs(plan)).exit_code, 0);
  const std::string npy = tiers_->scratch() + "/wrong.npy";
  ASSERT_TRUE(
      WriteFileAtomic(npy, SerializeNpy(Tensor::Zeros(DType::kFloat32, {1, 3, 16, 16}))).ok());
  const Outcome o = RunSeam("run --plan " + plan + " --input " + npy);
  EXPECT_EQ(o.exit_code, 1) << o.output;
  EXPECT_NE(o.output.find("expected shape [-1,3,32,32], got [1,3,16,16]"), std::string::npos)
      << o.output;
}

TEST_F(TiersCliTest, ARunBeforeDeployingSaysSo) {
  const std::string model = graph::testing::BundledModel("dag_blocks.onnx");
  const std::string plan = WritePlacementPlan(model, tiers_->scratch(), "undeployed", 1, 2);
  const Outcome o = RunSeam("run --plan " + plan + " --random 1");
  EXPECT_EQ(o.exit_code, 1) << o.output;
  EXPECT_NE(o.output.find("is not deployed yet"), std::string::npos) << o.output;
  const Outcome missing = RunSeam("run --plan " + tiers_->scratch() + "/nope.json --random 1");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("nope.json"), std::string::npos) << missing.output;
}

}  // namespace
}  // namespace seam::testing
