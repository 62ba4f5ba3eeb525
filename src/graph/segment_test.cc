#include <gtest/gtest.h>
#include <onnx/checker.h>

#include <filesystem>
#include <set>

#include "graph/cuts.h"
#include "graph/segment_builder.h"
#include "graph/test_models.h"

namespace seam::graph {
namespace {
namespace fs = std::filesystem;

class SegmentTest : public ::testing::Test {
 protected:
  std::vector<SegmentModel> Build(const LoadedModel& model, std::vector<BoundarySpec> boundaries) {
    auto view = GraphView::Build(model.proto);
    EXPECT_TRUE(view.ok());
    view_ = std::make_unique<GraphView>(std::move(view).value());
    auto types = InferSymbolicTypes(model.proto);
    EXPECT_TRUE(types.ok());
    auto partition = PartitionAtBoundaries(*view_, boundaries);
    EXPECT_TRUE(partition.ok()) << partition.status().ToString();
    auto segments = BuildSegments(model, *view_, *partition, *types);
    EXPECT_TRUE(segments.ok()) << segments.status().ToString();
    return segments.ok() ? std::move(segments).value() : std::vector<SegmentModel>{};
  }
  std::string TempDir(const std::string& name) {
    auto dir = fs::temp_directory_path() /
               ("seam_segment_test_" + std::to_string(::getpid()) + "_" + name);
    fs::remove_all(dir);
    return dir.string();
  }
  std::unique_ptr<GraphView> view_;
};

std::set<std::string> InitializerNames(const onnx::ModelProto& m) {
  std::set<std::string> names;
  for (const auto& t : m.graph().initializer()) names.insert(t.name());
  return names;
}

TEST_F(SegmentTest, SharedWeightIsCopiedToBothSidesAndNothingUnusedIsCarried) {
  LoadedModel model = testing::LoadOrDie(testing::BundledModel("dag_blocks.onnx"));
  auto segments = Build(model, {{.after_node = "b2_relu2"}});
  ASSERT_EQ(segments.size(), 2u);
  for (const auto& s : segments) {
    SCOPED_TRACE(s.info.index);
    EXPECT_NO_THROW(onnx::checker::check_model(s.model));
    EXPECT_EQ(s.model.opset_import_size(), model.proto.opset_import_size());
    EXPECT_EQ(s.model.opset_import(0).version(), model.proto.opset_import(0).version());
    EXPECT_EQ(s.model.ir_version(), model.proto.ir_version());
    // The weight read by b1_conv2 (segment 0) and inc_b2_conv3x3 (segment 1).
    EXPECT_TRUE(InitializerNames(s.model).count("shared_w"));
    std::set<std::string> read;
    for (const auto& n : s.model.graph().node()) read.insert(n.input().begin(), n.input().end());
    for (const auto& name : InitializerNames(s.model)) EXPECT_TRUE(read.count(name)) << name;
  }
  // Every initializer of the model is in at least one segment, and the split does not multiply
  // them beyond the shared one.
  EXPECT_EQ(InitializerNames(segments[0].model).size() + InitializerNames(segments[1].model).size(),
            static_cast<size_t>(model.proto.graph().initializer_size()) + 1);
}

TEST_F(SegmentTest, BoundaryKeepsTheSymbolicBatchAndRoutesTensors) {
  LoadedModel model = testing::LoadOrDie(testing::BundledModel("dag_blocks.onnx"));
  auto segments = Build(model, {{.after_node = "b1_conv1"}, {.after_node = "gap"}});
  ASSERT_EQ(segments.size(), 3u);
  const auto& s1 = segments[1].model.graph();
  ASSERT_EQ(s1.input_size(), 2);
  EXPECT_EQ(s1.input(0).type().tensor_type().shape().dim(0).dim_param(), "N");
  EXPECT_EQ(segments[1].info.inputs[0].from, "segment_0");
  EXPECT_EQ(segments[1].info.inputs[0].shape, (std::vector<int64_t>{-1, 16, 32, 32}));
  // 'features' is a model output produced in the last segment; the Constant feeding its Reshape
  // is carried by that segment.
  const auto& last = segments[2];
  bool has_const = false;
  for (const auto& n : last.model.graph().node()) has_const |= n.name() == "head_shape_const";
  EXPECT_TRUE(has_const);
  std::set<std::string> outputs;
  for (const auto& o : last.info.outputs) outputs.insert(o.name);
  EXPECT_EQ(outputs, (std::set<std::string>{"features", "logits"}));
}

TEST_F(SegmentTest, ExternalDataModelSplitsIntoExternalDataSegments) {
  LoadedModel model = testing::LoadOrDie(testing::BundledModel("dag_blocks_external.onnx"));
  EXPECT_TRUE(model.had_external_data);
  for (const auto& t : model.proto.graph().initializer()) {
    EXPECT_NE(t.data_location(), onnx::TensorProto::EXTERNAL) << t.name();
  }
  const std::string dir = TempDir("external");
  SplitOptions options;
  options.external_data = true;
  auto manifest = SplitModel(model, {{.after_node = "b2_add"}}, dir, options);
  ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
  for (const auto& info : manifest->segments) {
    EXPECT_FALSE(info.external_data_file.empty());
    EXPECT_TRUE(fs::exists(fs::path(dir) / info.external_data_file));
    auto reloaded = LoadModel((fs::path(dir) / info.file).string());
    ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
    EXPECT_TRUE(reloaded->had_external_data);
  }
  auto round_trip = ReadManifest(dir + "/manifest.json");
  ASSERT_TRUE(round_trip.ok()) << round_trip.status().ToString();
  EXPECT_EQ(ManifestToJson(*round_trip), ManifestToJson(*manifest));
  fs::remove_all(dir);
}

// SegmentBoundary is what the profiler prices a segment's edges by: it must name exactly the
// inputs and outputs the split gives the segment, for every contiguous range of a DAG with skip
// connections and two model outputs.
TEST_F(SegmentTest, SegmentBoundaryIsWhatTheSplitGivesTheSegment) {
  LoadedModel model = testing::LoadOrDie(testing::BundledModel("dag_blocks.onnx"));
  auto view = GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok());
  const int n = static_cast<int>(view->order().size());
  for (int first = 0; first < n; ++first) {
    for (int last = first; last < n; ++last) {
      std::vector<BoundarySpec> boundaries;
      if (first > 0) boundaries.push_back({.after_node = view->node(view->order()[first - 1]).name});
      if (last < n - 1) boundaries.push_back({.after_node = view->node(view->order()[last]).name});
      auto segments = Build(model, boundaries);
      ASSERT_FALSE(segments.empty());
      const SegmentInfo& info = segments[first > 0 ? 1 : 0].info;
      std::set<std::string> expected;
      for (const auto& t : info.inputs) expected.insert(t.name);
      for (const auto& t : info.outputs) expected.insert(t.name);
      std::set<std::string> got;
      for (TensorId t : SegmentBoundary(*view, first, last)) got.insert(view->tensor(t).name);
      EXPECT_EQ(got, expected) << "segment [" << first << "," << last << "]";
    }
  }
  EXPECT_TRUE(SegmentBoundary(*view, 3, 2).empty());
  EXPECT_TRUE(SegmentBoundary(*view, 0, n).empty());
}

}  // namespace
}  // namespace seam::graph
