#include "graph/partition.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "graph/test_models.h"

namespace seam::graph {
namespace {

class PartitionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::LoadOrDie(testing::BundledModel("dag_blocks.onnx"));
    auto view = GraphView::Build(model_.proto);
    ASSERT_TRUE(view.ok());
    view_ = std::make_unique<GraphView>(std::move(view).value());
  }
  std::string Error(const std::vector<BoundarySpec>& boundaries) {
    auto p = PartitionAtBoundaries(*view_, boundaries);
    return p.ok() ? "OK" : p.status().message();
  }
  LoadedModel model_;
  std::unique_ptr<GraphView> view_;
};

TEST_F(PartitionTest, TensorsAndAfterNodeGiveTheSamePartition) {
  auto by_node = PartitionAtBoundaries(*view_, {{.after_node = "b1_conv1"}});
  auto by_tensors = PartitionAtBoundaries(*view_, {{.tensors = {"b1_conv1_out", "stem_relu_out"}}});
  ASSERT_TRUE(by_node.ok()) << by_node.status().ToString();
  ASSERT_TRUE(by_tensors.ok()) << by_tensors.status().ToString();
  EXPECT_EQ(by_node->segment_of_node, by_tensors->segment_of_node);
  EXPECT_EQ(by_node->segment_nodes[0].size(), 3u);  // stem_conv, stem_relu, b1_conv1
  EXPECT_EQ(by_node->boundaries[0], (std::vector<std::string>{"stem_relu_out", "b1_conv1_out"}));
}

TEST_F(PartitionTest, AnAssignmentGivesTheSamePartitionAsItsBoundaries) {
  auto by_node =
      PartitionAtBoundaries(*view_, {{.after_node = "b1_add"}, {.tensors = {"inc_relu_out"}}});
  ASSERT_TRUE(by_node.ok()) << by_node.status().ToString();
  auto by_assignment = PartitionFromAssignment(*view_, by_node->segment_of_node, 3);
  ASSERT_TRUE(by_assignment.ok()) << by_assignment.status().ToString();
  EXPECT_EQ(by_assignment->segment_of_node, by_node->segment_of_node);
  EXPECT_EQ(by_assignment->segment_nodes, by_node->segment_nodes);
  for (int b = 0; b < 2; ++b) {
    auto expected = by_node->boundaries[b], actual = by_assignment->boundaries[b];
    std::sort(expected.begin(), expected.end());
    std::sort(actual.begin(), actual.end());
    EXPECT_EQ(actual, expected) << "boundary " << b;
  }
}

TEST_F(PartitionTest, AnAssignmentMustOnlyFlowForward) {
  std::vector<int> assignment(view_->nodes().size(), 0);
  assignment[*view_->FindNode("stem_conv")] = 1;  // its readers stay in segment 0
  auto p = PartitionFromAssignment(*view_, assignment, 2);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("made by node 'stem_conv' in later segment 1"),
            std::string::npos)
      << p.status().message();
  std::vector<int> all_first(view_->nodes().size(), 0);
  auto empty = PartitionFromAssignment(*view_, all_first, 2);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "segment 1 would hold no node");
}

TEST_F(PartitionTest, ThreeSegmentsInOrder) {
  auto p = PartitionAtBoundaries(*view_, {{.after_node = "b1_add"}, {.tensors = {"inc_relu_out"}}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->num_segments, 3);
  EXPECT_EQ(p->segment_of_node[*view_->FindNode("stem_conv")], 0);
  EXPECT_EQ(p->segment_of_node[*view_->FindNode("inc_concat")], 1);
  EXPECT_EQ(p->segment_of_node[*view_->FindNode("fc")], 2);
  EXPECT_EQ(p->segment_of_node[*view_->FindNode("head_shape_const")], -1);  // constant: everywhere
}

TEST_F(PartitionTest, UnknownTensorIsNamed) {
  EXPECT_EQ(Error({{.tensors = {"nope"}}}), "boundary 1: no tensor named 'nope' in the model");
}

TEST_F(PartitionTest, NonSeparatingBoundaryNamesTheTensorThatBreaksIt) {
  EXPECT_EQ(Error({{.tensors = {"b1_conv1_out"}}}),
            "boundary 1 does not separate the graph: tensor 'stem_relu_out' (produced by node "
            "'stem_relu', before the boundary) is read by node 'b1_add' after it, but is not in "
            "the boundary");
}

TEST_F(PartitionTest, BoundariesOutOfOrder) {
  EXPECT_EQ(Error({{.after_node = "b2_add"}, {.after_node = "b1_add"}}),
            "boundary 2 (b1_add_out) is out of order: node 'b1_relu2' comes after it but before "
            "boundary 1 (b2_add_out); give boundaries from the model's input to its output");
}

TEST_F(PartitionTest, RepeatedBoundaryLeavesAnEmptySegment) {
  EXPECT_NE(Error({{.after_node = "b1_add"}, {.tensors = {"b1_add_out"}}}).find("empty"),
            std::string::npos);
}

TEST_F(PartitionTest, ConstantsAndUnusedTensorsAreRefused) {
  EXPECT_NE(Error({{.tensors = {"shared_w"}}}).find("is a constant"), std::string::npos);
  EXPECT_EQ(Error({{.tensors = {"logits"}}}),
            "boundary 1: tensor 'logits' is not read after the boundary");
  EXPECT_EQ(Error({{.tensors = {"image"}}}), "segment 0 would hold no node");
}

}  // namespace
}  // namespace seam::graph
