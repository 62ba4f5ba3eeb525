// Golden figures for models/tiny_golden.onnx, checked by hand:
//   x [1,3,8,8] -> conv (3->4, 3x3, pad 1, bias) -> relu -> pool (2x2, stride 2) -> flatten
//   -> fc (Gemm 64->5, bias) -> y [1,5]
#include <gtest/gtest.h>

#include "graph/analysis.h"
#include "graph/test_models.h"

namespace seam::graph {
namespace {

struct Golden {
  const char* name;
  const char* op;
  std::vector<int64_t> shape;
  int64_t flops;
  int64_t output_bytes;
  int64_t param_bytes;
};

TEST(FlopsTest, TinyGoldenFiguresMatchHandCount) {
  LoadedModel model = testing::LoadOrDie(testing::BundledModel("tiny_golden.onnx"));
  auto view = GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  auto analysis = Analyze(model, *view, {});
  ASSERT_TRUE(analysis.ok()) << analysis.status().ToString();

  const std::vector<Golden> golden = {
      // conv: 256 outputs x 27 MACs x 2 + 256 bias adds; weights (4*3*3*3 + 4) floats.
      {"conv", "Conv", {1, 4, 8, 8}, 2 * 256 * 27 + 256, 256 * 4, (108 + 4) * 4},
      // relu: one op per element.
      {"relu", "Relu", {1, 4, 8, 8}, 256, 256 * 4, 0},
      // pool: 64 outputs x a 2x2 window.
      {"pool", "MaxPool", {1, 4, 4, 4}, 64 * 4, 64 * 4, 0},
      {"flatten", "Flatten", {1, 64}, 0, 64 * 4, 0},
      // fc: M=1, N=5, K=64: 2*1*5*64 + 5 bias adds; weights (5*64 + 5) floats.
      {"fc", "Gemm", {1, 5}, 2 * 5 * 64 + 5, 5 * 4, (320 + 5) * 4},
  };
  ASSERT_EQ(analysis->nodes.size(), golden.size());
  for (size_t i = 0; i < golden.size(); ++i) {
    const NodeReport& n = analysis->nodes[i];
    SCOPED_TRACE(golden[i].name);
    EXPECT_EQ(n.name, golden[i].name);
    EXPECT_EQ(n.op_type, golden[i].op);
    ASSERT_EQ(n.outputs.size(), 1u);
    EXPECT_EQ(n.outputs[0].shape, golden[i].shape);
    EXPECT_EQ(n.outputs[0].dtype, "FP32");
    EXPECT_TRUE(n.flops_known);
    EXPECT_EQ(n.flops, golden[i].flops);
    EXPECT_EQ(n.output_bytes, golden[i].output_bytes);
    EXPECT_EQ(n.param_bytes, golden[i].param_bytes);
  }
  EXPECT_EQ(analysis->total_flops, 15237);
  EXPECT_EQ(analysis->total_param_bytes, 1748);
  // Cuts of a chain: exactly the tensor between the two nodes.
  ASSERT_EQ(analysis->cuts.size(), 4u);
  EXPECT_EQ(analysis->cuts[0].after_node, "conv");
  EXPECT_EQ(analysis->cuts[0].bytes, 1024);
  EXPECT_EQ(analysis->cuts[2].bytes, 256);
  EXPECT_EQ(analysis->cuts[2].tensors.size(), 1u);
}

TEST(FlopsTest, ShapeOverrideScalesFiguresWithBatch) {
  LoadedModel model = testing::LoadOrDie(testing::BundledModel("cnn_chain.onnx"));
  auto view = GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok());
  auto one = Analyze(model, *view, {});
  auto four = Analyze(model, *view, {{"image", {4, 3, 32, 32}}});
  ASSERT_TRUE(one.ok() && four.ok());
  EXPECT_EQ(four->total_flops, 4 * one->total_flops);
  EXPECT_EQ(four->inputs[0].bytes, 4 * 3 * 32 * 32 * 4);
  for (size_t i = 0; i < one->cuts.size(); ++i)
    EXPECT_EQ(four->cuts[i].bytes, 4 * one->cuts[i].bytes);
}

TEST(FlopsTest, MatMulAndConvTransposeAndElementwise) {
  testing::ModelBuilder b;
  b.Input("x", {2, 8, 16})
      .Weight("w", {16, 4})
      .Node("MatMul", {"x", "w"}, {"mm"})  // 2 * (2*8*4) * 16
      .Node("Sigmoid", {"mm"}, {"sig"})    // 64
      .Node("Add", {"sig", "mm"}, {"y"})   // 64
      .Output("y", {2, 8, 4});
  LoadedModel model = b.Load();
  ASSERT_TRUE(model.proto.has_graph());
  auto view = GraphView::Build(model.proto);
  ASSERT_TRUE(view.ok());
  auto a = Analyze(model, *view, {});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->nodes[0].flops, 2 * 64 * 16);
  EXPECT_EQ(a->nodes[1].flops, 64);
  EXPECT_EQ(a->nodes[2].flops, 64);
  EXPECT_EQ(a->total_param_bytes, 16 * 4 * 4);
}

}  // namespace
}  // namespace seam::graph
