#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "graph/analysis.h"
#include "graph/cuts.h"
#include "graph/model_loader.h"
#include "graph/test_models.h"

namespace seam::graph {
namespace {
namespace fs = std::filesystem;

std::string Message(const Result<LoadedModel>& r) { return r.ok() ? "OK" : r.status().message(); }

TEST(LoaderTest, MissingFile) {
  EXPECT_EQ(Message(LoadModel("/nonexistent/model.onnx")),
            "cannot open '/nonexistent/model.onnx': No such file or directory");
}

TEST(LoaderTest, EmptyGarbageAndTruncatedBytes) {
  EXPECT_EQ(Message(LoadModelFromBytes("", "m.onnx", "")),
            "m.onnx: file is empty, not an ONNX model");
  auto garbage = LoadModelFromBytes(std::string("\xff\xff\xff\xff garbage", 12), "g.onnx", "");
  EXPECT_EQ(Message(garbage),
            "g.onnx: not an ONNX model (protobuf parsing failed, and the file does not start "
            "with an ONNX header)");
  auto bytes = ReadFile(testing::BundledModel("cnn_chain.onnx"));
  ASSERT_TRUE(bytes.ok());
  auto truncated = LoadModelFromBytes(bytes->substr(0, bytes->size() / 2), "t.onnx", "");
  EXPECT_EQ(Message(truncated),
            "t.onnx: the ONNX model is truncated or corrupt (protobuf parsing failed on " +
                std::to_string(bytes->size() / 2) + " bytes)");
}

TEST(LoaderTest, ExternalDataOutsideTheModelDirectoryIsRefused) {
  testing::ModelBuilder b;
  b.Input("x", {1, 4}).Weight("w", {1, 4}).Node("Add", {"x", "w"}, {"y"}).Output("y", {1, 4});
  onnx::ModelProto m = b.model();
  auto* w = m.mutable_graph()->mutable_initializer(0);
  w->clear_float_data();
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* loc = w->add_external_data();
  loc->set_key("location");
  loc->set_value("../../etc/passwd");
  EXPECT_EQ(Message(LoadModelFromBytes(m.SerializeAsString(), "e.onnx", "/tmp")),
            "e.onnx: initializer 'w': external data location '../../etc/passwd' is outside the "
            "model's directory");
  loc->set_value("missing.data");
  EXPECT_EQ(Message(LoadModelFromBytes(m.SerializeAsString(), "e.onnx", "/tmp")),
            "e.onnx: initializer 'w': cannot open external data file '/tmp/missing.data'");
}

TEST(LoaderTest, OpsetNewerThanTheOnnxLibraryIsNamed) {
  testing::ModelBuilder b(MaxSupportedOpset() + 1);
  b.Input("x", {1}).Node("Relu", {"x"}, {"y"}).Output("y", {1});
  auto r = LoadModelFromBytes(b.model().SerializeAsString(), "new.onnx", "");
  EXPECT_EQ(Message(r), "new.onnx: model uses ONNX opset " +
                            std::to_string(MaxSupportedOpset() + 1) +
                            "; this build of seam understands opsets up to " +
                            std::to_string(MaxSupportedOpset()));
}

TEST(LoaderTest, CheckerFailureIsReported) {
  testing::ModelBuilder b;
  b.Input("x", {1}).Node("NoSuchOp", {"x"}, {"y"}).Output("y", {1});
  auto r = LoadModelFromBytes(b.model().SerializeAsString(), "bad.onnx", "");
  EXPECT_NE(Message(r).find("bad.onnx: fails the ONNX checker: "), std::string::npos) << Message(r);
  EXPECT_NE(Message(r).find("NoSuchOp"), std::string::npos) << Message(r);
}

// Inputs the fuzzer found (fuzz/crashes/): each used to crash or overflow inside analysis. Now each
// either analyses or gives an error; reaching the end of the test is the assertion.
TEST(LoaderTest, FuzzerFindingsNoLongerCrash) {
  int files = 0;
  for (const auto& entry : fs::directory_iterator(std::string(SEAM_SOURCE_DIR) + "/fuzz/crashes")) {
    if (entry.path().extension() != ".onnx") continue;
    ++files;
    SCOPED_TRACE(entry.path().string());
    auto model = LoadModel(entry.path().string());
    if (!model.ok()) continue;
    auto view = GraphView::Build(model->proto);
    if (!view.ok()) continue;
    auto analysis = Analyze(*model, *view, {});
    if (analysis.ok()) {
      for (const auto& n : analysis->nodes) EXPECT_GE(n.flops, 0);
    }
    EnumerateCuts(*view);
  }
  EXPECT_GE(files, 9);
  auto zero_stride =
      LoadModel(std::string(SEAM_SOURCE_DIR) + "/fuzz/crashes/conv_zero_stride.onnx");
  EXPECT_EQ(zero_stride.status().message().find("attribute strides has 0; every value must be "
                                                "positive") == std::string::npos,
            false);
}

}  // namespace
}  // namespace seam::graph
