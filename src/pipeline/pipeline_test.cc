// Stages as data: the stage file round trip, and how a placement routes tensors between tiers.
#include <gtest/gtest.h>

#include <algorithm>

#include "common/npy.h"
#include "graph/graph_view.h"
#include "graph/test_models.h"
#include "pipeline/deployment.h"
#include "pipeline/stage_spec.h"

namespace seam::pipeline {
namespace {

std::vector<std::string> Names(const std::vector<StageTensor>& tensors) {
  std::vector<std::string> names;
  for (const auto& t : tensors) names.push_back(t.name);
  std::sort(names.begin(), names.end());
  return names;
}

// A plan placing dag_blocks' nodes before position a on the device, before b on the edge.
plan::ExecutablePlan Plan(const graph::LoadedModel& model, const graph::GraphView& view, int a,
                          int b) {
  plan::ExecutablePlan plan;
  plan.path = "test.plan.json";
  plan.id = "0123456789abcdef";
  plan.model_sha256 = model.sha256;
  plan.tiers = {"device", "edge", "cloud"};
  for (size_t i = 0; i < view.order().size(); ++i) {
    const int p = static_cast<int>(i);
    plan.tier_of_node[view.node(view.order()[i]).name] = p < a ? 0 : p < b ? 1 : 2;
  }
  return plan;
}

TEST(StageSpecTest, RoundTripsThroughJson) {
  StageSpec s;
  s.plan_id = "0123456789abcdef";
  s.model_sha256 = std::string(64, 'a');
  s.tier = "edge";
  s.tier_index = 1;
  s.segment_file = "model.onnx";
  s.segment_sha256 = std::string(64, 'b');
  s.segment_nodes = 7;
  s.optimize = false;
  s.inputs = {{"x", DType::kFloat32, {-1, 3, 8, 8}, "fp16+zstd"}};
  s.outputs = {{"y", DType::kInt64, {-1}, "identity"}};
  s.next = NextHop{"cloud",
                   "10.0.0.2:9000",
                   "m-cloud",
                   4,
                   {{"h", DType::kFloat32, {1, 8}, "int8"}},
                   {{"y", DType::kInt64, {-1}, "identity"}}};
  auto back = StageFromJson(StageToJson(s), "stage.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);

  auto bad = StageToJson(s);
  bad["inputs"][0]["codec"] = "gzip";
  auto refused = StageFromJson(bad, "stage.json");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("stage.json: inputs[0]"), std::string::npos)
      << refused.status().message();
  bad = StageToJson(s);
  bad["segment"]["file"] = "../../etc/passwd";
  EXPECT_FALSE(StageFromJson(bad, "stage.json").ok());
}

TEST(PlanStagesTest, TensorsCrossEveryLinkBetweenTheirMakerAndTheirLastReader) {
  auto model = graph::testing::LoadOrDie(graph::testing::BundledModel("dag_blocks.onnx"));
  auto view = graph::GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok());
  const int n = static_cast<int>(view->order().size());
  auto stages = PlanStages(model, Plan(model, *view, n / 3, 2 * n / 3), false);
  ASSERT_TRUE(stages.ok()) << stages.status().ToString();
  ASSERT_EQ(stages->size(), 3u);
  const auto& device = (*stages)[0].spec;
  const auto& edge = (*stages)[1].spec;
  const auto& cloud = (*stages)[2].spec;
  // What one tier sends is exactly what the next receives, codec included.
  EXPECT_EQ(device.next->send, edge.inputs);
  EXPECT_EQ(edge.next->send, cloud.inputs);
  EXPECT_EQ(edge.outputs, device.next->receive);
  EXPECT_EQ(cloud.outputs, edge.next->receive);
  // The model's outputs are made in the cloud and come back down both links to the application.
  EXPECT_EQ(Names(device.outputs), (std::vector<std::string>{"features", "logits"}));
  EXPECT_EQ(Names(cloud.outputs), (std::vector<std::string>{"features", "logits"}));
  EXPECT_EQ(Names(device.inputs), std::vector<std::string>{"image"});
  EXPECT_FALSE(cloud.next.has_value());
  EXPECT_FALSE(device.optimize);
  // Every tier runs a segment here; the node counts add up.
  int nodes = 0;
  for (const auto& s : *stages) {
    EXPECT_TRUE(s.segment.has_value()) << s.spec.tier;
    nodes += s.spec.segment_nodes;
  }
  EXPECT_EQ(nodes, n);
}

TEST(PlanStagesTest, AnEmptyMiddleTierRelaysAndTiersAboveTheLastAreLeftOut) {
  auto model = graph::testing::LoadOrDie(graph::testing::BundledModel("dag_blocks.onnx"));
  auto view = graph::GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok());
  const int n = static_cast<int>(view->order().size());
  auto relay = PlanStages(model, Plan(model, *view, n / 2, n / 2), true);
  ASSERT_TRUE(relay.ok()) << relay.status().ToString();
  ASSERT_EQ(relay->size(), 3u);
  EXPECT_FALSE((*relay)[1].segment.has_value());
  EXPECT_EQ((*relay)[1].spec.inputs, (*relay)[1].spec.next->send);  // passes everything on
  auto device_only = PlanStages(model, Plan(model, *view, n, n), true);
  ASSERT_TRUE(device_only.ok());
  ASSERT_EQ(device_only->size(), 1u);
  EXPECT_FALSE((*device_only)[0].spec.next.has_value());
}

TEST(PlanStagesTest, TheDeviceGetsTheRestOfTheModelAsFallbackUnlessThePlanSaysItCannotHoldIt) {
  auto model = graph::testing::LoadOrDie(graph::testing::BundledModel("dag_blocks.onnx"));
  auto view = graph::GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok());
  const int n = static_cast<int>(view->order().size());
  plan::ExecutablePlan plan = Plan(model, *view, n / 3, 2 * n / 3);
  auto stages = PlanStages(model, plan, true);
  ASSERT_TRUE(stages.ok()) << stages.status().ToString();
  ASSERT_TRUE((*stages)[0].fallback.has_value());
  ASSERT_TRUE((*stages)[0].spec.fallback.has_value());
  EXPECT_EQ((*stages)[0].spec.fallback->nodes + (*stages)[0].spec.segment_nodes, n);
  plan.device_fallback = false;  // seam plan --memory device=... below the model's parameters
  auto without = PlanStages(model, plan, true);
  ASSERT_TRUE(without.ok());
  EXPECT_FALSE((*without)[0].fallback.has_value());
  EXPECT_FALSE((*without)[0].spec.fallback.has_value());
}

TEST(PlanStagesTest, RefusesAnotherModelsPlanAndDataFlowingDown) {
  auto model = graph::testing::LoadOrDie(graph::testing::BundledModel("dag_blocks.onnx"));
  auto view = graph::GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok());
  plan::ExecutablePlan plan = Plan(model, *view, 3, 6);
  plan.model_sha256 = std::string(64, '0');
  auto other = PlanStages(model, plan, true);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("is a plan for another model"), std::string::npos);

  plan = Plan(model, *view, 3, 6);
  plan.tier_of_node[view->node(view->order()[0]).name] = 2;  // the first node in the cloud
  auto down = PlanStages(model, plan, true);
  ASSERT_FALSE(down.ok());
  EXPECT_NE(down.status().message().find("data only flows forward"), std::string::npos)
      << down.status().message();

  plan = Plan(model, *view, 3, 6);
  plan.tier_of_node.erase(view->node(view->order()[4]).name);
  auto missing = PlanStages(model, plan, true);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("does not place node"), std::string::npos);
}

TEST(NpyTest, RoundTripsAndRefusesWhatItCannotRead) {
  Tensor t = Tensor::Zeros(DType::kFloat32, {2, 3});
  for (int i = 0; i < 6; ++i) t.data_as<float>()[i] = i * 0.5f;
  auto back = ParseNpy(SerializeNpy(t), "t.npy");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(back->BitwiseEquals(t));
  std::string fortran = SerializeNpy(t);
  fortran.replace(fortran.find("False"), 5, "True ");
  EXPECT_FALSE(ParseNpy(fortran, "f.npy").ok());
  std::string truncated = SerializeNpy(t);
  truncated.resize(truncated.size() - 4);
  auto short_file = ParseNpy(truncated, "s.npy");
  ASSERT_FALSE(short_file.ok());
  EXPECT_NE(short_file.status().message().find("s.npy: the header's shape needs 24 bytes"),
            std::string::npos)
      << short_file.status().message();
  EXPECT_FALSE(ParseNpy("not numpy", "x.npy").ok());
}

}  // namespace
}  // namespace seam::pipeline
