// Split equals whole: for every candidate cut of every bundled model, and for a seeded sample of
// two-boundary (three-segment) cuts, the segments run one after the other in ONNX Runtime give
// outputs bitwise equal to the unsplit model at FP32, graph optimisations disabled on both sides.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "graph/segment_builder.h"
#include "graph/test_models.h"
#include "runtime/segment_chain.h"

namespace seam {
namespace {
namespace fs = std::filesystem;

struct Case {
  std::string label;
  std::string path;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.label; }

class SplitEqualsWholeTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("seam_split_whole_" + std::to_string(::getpid()) + "_" + GetParam().label);
    fs::remove_all(dir_);
    model_ = graph::testing::LoadOrDie(GetParam().path);
    ASSERT_TRUE(model_.proto.has_graph());
    auto view = graph::GraphView::Build(model_.proto);
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    view_ = std::make_unique<graph::GraphView>(std::move(view).value());
    runtime::SessionOptions options;
    options.optimize = false;
    auto whole = runtime::Session::Open(GetParam().path, options);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    // Two inputs per model; the second uses batch 2 where the batch is dynamic, which also
    // checks that segments keep the model's dynamic dimensions.
    for (int i = 0; i < 2; ++i) {
      TensorMap in;
      for (const auto& spec : (*whole)->inputs()) {
        in[spec.name] = runtime::RandomTensor(spec, 1000 + i, /*dynamic_dim=*/i + 1);
      }
      auto out = (*whole)->Run(in);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      inputs_.push_back(std::move(in));
      expected_.push_back(std::move(out).value());
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Splits at the given nodes, runs the segments and compares with the whole model.
  void CheckSplit(const std::vector<std::string>& after_nodes) {
    std::string label;
    std::vector<graph::BoundarySpec> boundaries;
    for (const auto& n : after_nodes) {
      boundaries.push_back({.after_node = n});
      label += "after '" + n + "' ";
    }
    SCOPED_TRACE(label);
    const fs::path out = dir_ / std::to_string(counter_++);
    graph::SplitOptions split_options;
    split_options.external_data = model_.had_external_data;
    auto manifest = graph::SplitModel(model_, boundaries, out.string(), split_options);
    ASSERT_TRUE(manifest.ok()) << manifest.status().ToString();
    ASSERT_EQ(manifest->segments.size(), after_nodes.size() + 1);
    runtime::SessionOptions options;
    options.optimize = false;
    auto chain = runtime::SegmentChain::Open((out / "manifest.json").string(), options);
    ASSERT_TRUE(chain.ok()) << chain.status().ToString();
    for (size_t i = 0; i < inputs_.size(); ++i) {
      auto got = chain->Run(inputs_[i]);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->size(), expected_[i].size());
      for (const auto& [name, tensor] : expected_[i]) {
        ASSERT_TRUE(got->count(name)) << name;
        EXPECT_TRUE(tensor.BitwiseEquals(got->at(name)))
            << "output '" << name << "' differs for input " << i;
      }
    }
    fs::remove_all(out);
  }

  std::string NodeAt(int position) { return view_->node(view_->order()[position]).name; }

  fs::path dir_;
  int counter_ = 0;
  graph::LoadedModel model_;
  std::unique_ptr<graph::GraphView> view_;
  std::vector<TensorMap> inputs_;
  std::vector<TensorMap> expected_;
};

TEST_P(SplitEqualsWholeTest, EveryCandidateCut) {
  const int n = static_cast<int>(view_->order().size());
  ASSERT_GE(n, 2);
  for (int k = 0; k + 1 < n; ++k) CheckSplit({NodeAt(k)});
}

TEST_P(SplitEqualsWholeTest, SampledThreeSegmentCuts) {
  const int n = static_cast<int>(view_->order().size());
  std::mt19937 rng(42);
  const int samples = std::min(12, (n - 1) * (n - 2) / 2);
  for (int s = 0; s < samples; ++s) {
    int a = std::uniform_int_distribution<int>(0, n - 3)(rng);
    int b = std::uniform_int_distribution<int>(a + 1, n - 2)(rng);
    CheckSplit({NodeAt(a), NodeAt(b)});
  }
}

INSTANTIATE_TEST_SUITE_P(
    BundledModels, SplitEqualsWholeTest,
    ::testing::Values(Case{"tiny_golden", graph::testing::BundledModel("tiny_golden.onnx")},
                      Case{"cnn_chain", graph::testing::BundledModel("cnn_chain.onnx")},
                      Case{"dag_blocks", graph::testing::BundledModel("dag_blocks.onnx")},
                      Case{"dag_blocks_external",
                           graph::testing::BundledModel("dag_blocks_external.onnx")},
                      Case{"blazeface", graph::testing::BlazeFaceModel()}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.label; });

}  // namespace
}  // namespace seam
