#include "graph/cuts.h"

#include <gtest/gtest.h>

#include <set>

#include "graph/test_models.h"

namespace seam::graph {
namespace {

std::set<std::string> Names(const GraphView& view, const std::vector<TensorId>& ids) {
  std::set<std::string> names;
  for (TensorId t : ids) names.insert(view.tensor(t).name);
  return names;
}

// The definition, checked tensor by tensor: produced before the cut (or a model input) and read
// by some node after it; constants excluded.
std::set<std::string> BruteForceCrossing(const GraphView& view, int position) {
  std::set<std::string> names;
  for (const TensorInfo& t : view.tensors()) {
    if (t.is_constant) continue;
    const bool before = t.producer < 0 || view.node(t.producer).position < position;
    bool read_after = false;
    for (NodeId c : t.consumers) read_after |= view.node(c).position >= position;
    if (before && read_after) names.insert(t.name);
  }
  return names;
}

TEST(CutsTest, ModelInputReadAfterTheCutCrossesIt) {
  testing::ModelBuilder b;
  b.Input("x", {1, 4})
      .Node("Relu", {"x"}, {"a"})
      .Node("Add", {"a", "x"}, {"y"})
      .Output("y", {1, 4});
  LoadedModel model = b.Load();
  auto view = GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok());
  auto cuts = EnumerateCuts(*view);
  ASSERT_EQ(cuts.size(), 1u);
  EXPECT_EQ(Names(*view, cuts[0].tensors), (std::set<std::string>{"a", "x"}));
}

TEST(CutsTest, SkipConnectionsCrossEveryCutTheySpan) {
  LoadedModel model = testing::LoadOrDie(testing::BundledModel("dag_blocks.onnx"));
  auto view = GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok());
  auto cuts = EnumerateCuts(*view);
  ASSERT_EQ(cuts.size(), view->order().size() - 1);
  auto after = [&](const std::string& node) {
    return Names(*view, cuts[view->node(*view->FindNode(node)).position].tensors);
  };
  EXPECT_EQ(after("b1_conv1"), (std::set<std::string>{"stem_relu_out", "b1_conv1_out"}));
  EXPECT_EQ(after("b1_add"), (std::set<std::string>{"b1_add_out"}));
  EXPECT_EQ(after("inc_b4_pool"), (std::set<std::string>{"inc_b1_conv1x1_out", "inc_b2_conv3x3_out",
                                                         "inc_b3_conv5x5_out", "inc_b4_pool_out"}));
  // The Constant node feeding the Reshape is folded, not ordered, and its output never crosses.
  ASSERT_EQ(view->constant_nodes().size(), 1u);
  EXPECT_EQ(view->node(view->constant_nodes()[0]).name, "head_shape_const");
  for (const Cut& cut : cuts) EXPECT_FALSE(Names(*view, cut.tensors).count("head_shape"));
}

TEST(CutsTest, SweepAgreesWithTheDefinitionOnEveryBundledModel) {
  for (const std::string& path :
       {testing::BundledModel("cnn_chain.onnx"), testing::BundledModel("dag_blocks.onnx"),
        testing::BlazeFaceModel()}) {
    SCOPED_TRACE(path);
    LoadedModel model = testing::LoadOrDie(path);
    auto view = GraphView::Build(model.proto);
    ASSERT_TRUE(view.ok());
    for (const Cut& cut : EnumerateCuts(*view)) {
      EXPECT_EQ(Names(*view, cut.tensors), BruteForceCrossing(*view, cut.position))
          << "cut " << cut.position;
      EXPECT_EQ(Names(*view, CrossingTensors(*view, cut.position)), Names(*view, cut.tensors));
    }
  }
}

TEST(CutsTest, BoundaryAfterNodeNamesProblems) {
  LoadedModel model = testing::LoadOrDie(testing::BundledModel("dag_blocks.onnx"));
  auto view = GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(BoundaryAfterNode(*view, "nope").status().message(),
            "--after-node 'nope': no node has that name");
  EXPECT_NE(BoundaryAfterNode(*view, "fc").status().message().find("last node"), std::string::npos);
  EXPECT_NE(BoundaryAfterNode(*view, "head_shape_const").status().message().find("constant"),
            std::string::npos);
}

}  // namespace
}  // namespace seam::graph
