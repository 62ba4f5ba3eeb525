// The seam executable as a user runs it: every bad input of the foundation issue gets one line
// on stderr saying what was wrong and where, and a non-zero exit code; never a crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/model_seal.h"
#include "graph/test_models.h"
#include "tests/support/run_seam.h"

namespace seam {
namespace {
namespace fs = std::filesystem;

using testing::Outcome;

Outcome Seam(const std::string& args) { return testing::RunSeam(args); }

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("seam_cli_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  // Expects exit code 1 and exactly one line: "seam: error: <message>".
  void ExpectError(const std::string& args, const std::string& message) {
    SCOPED_TRACE(args);
    Outcome o = Seam(args);
    EXPECT_EQ(o.exit_code, 1);
    EXPECT_EQ(o.output, "seam: error: " + message + "\n");
  }
  fs::path dir_;
  const std::string dag_ = graph::testing::BundledModel("dag_blocks.onnx");
};

TEST_F(CliTest, MissingFile) {
  ExpectError("analyze " + (dir_ / "nope.onnx").string(),
              "cannot open '" + (dir_ / "nope.onnx").string() + "': No such file or directory");
}

TEST_F(CliTest, NotOnnx) {
  const std::string path = Write("notes.onnx", "these are my notes, not a neural network\n");
  ExpectError("analyze " + path, path +
                                     ": not an ONNX model (protobuf parsing failed, and the "
                                     "file does not start with an ONNX header)");
  const std::string binary = Write("binary.onnx", std::string("\xff\xfe\x00\x01garbage", 11));
  ExpectError("split " + binary + " --after-node x -o " + (dir_ / "out").string(),
              binary +
                  ": not an ONNX model (protobuf parsing failed, and the file does not "
                  "start with an ONNX header)");
}

TEST_F(CliTest, TruncatedProtobuf) {
  auto bytes = ReadFile(dag_);
  ASSERT_TRUE(bytes.ok());
  const std::string half = bytes->substr(0, bytes->size() / 2);
  const std::string path = Write("truncated.onnx", half);
  ExpectError("analyze " + path, path +
                                     ": the ONNX model is truncated or corrupt (protobuf "
                                     "parsing failed on " +
                                     std::to_string(half.size()) + " bytes)");
}

TEST_F(CliTest, UnknownTensorAndNode) {
  const std::string out = (dir_ / "out").string();
  ExpectError("split " + dag_ + " --at no_such_tensor -o " + out,
              dag_ + ": boundary 1: no tensor named 'no_such_tensor' in the model");
  ExpectError("split " + dag_ + " --after-node no_such_node -o " + out,
              dag_ + ": --after-node 'no_such_node': no node has that name");
}

TEST_F(CliTest, BoundaryThatDoesNotSeparateNamesTheTensor) {
  ExpectError("split " + dag_ + " --at b1_conv1_out -o " + (dir_ / "out").string(),
              dag_ +
                  ": boundary 1 does not separate the graph: tensor 'stem_relu_out' (produced "
                  "by node 'stem_relu', before the boundary) is read by node 'b1_add' after "
                  "it, but is not in the boundary");
}

TEST_F(CliTest, BoundariesOutOfOrder) {
  ExpectError(
      "split " + dag_ + " --at b2_add_out --after-node b1_add -o " + (dir_ / "out").string(),
      dag_ +
          ": boundary 2 (b1_add_out) is out of order: node 'b1_relu2' comes after it "
          "but before boundary 1 (b2_add_out); give boundaries from the model's input "
          "to its output");
}

TEST_F(CliTest, UnsupportedDtype) {
  graph::testing::ModelBuilder b;
  b.Input("text", {2}, onnx::TensorProto::STRING)
      .Node("Identity", {"text"}, {"copy"})
      .Output("copy", {2}, onnx::TensorProto::STRING);
  const std::string path = Write("strings.onnx", b.model().SerializeAsString());
  ExpectError("analyze " + path,
              path +
                  ": tensor 'text': dtype STRING is not supported (seam carries FLOAT, "
                  "FLOAT16, BFLOAT16, DOUBLE, INT8/16/32/64, UINT8/16/32/64 and BOOL tensors)");
}

TEST_F(CliTest, BadShapeFlag) {
  ExpectError("analyze " + dag_ + " --shape image=1,3,x,32",
              "--shape 'image=1,3,x,32': dimension 'x' is not a positive integer");
  ExpectError("analyze " + dag_ + " --shape picture=1,3,32,32",
              dag_ + ": --shape names 'picture', which is not a model input (inputs: image)");
  ExpectError("analyze " + dag_ + " --shape image=1,3,64,64",
              dag_ +
                  ": --shape image: dimension 2 of model input 'image' is fixed at 32 by the "
                  "model, not 64");
}

TEST_F(CliTest, UsageErrorsExitNonZero) {
  Outcome o = Seam("split " + dag_);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.output.find("--output is required"), std::string::npos) << o.output;
  // Every command-line mistake: exit 1 and one line naming the flag and the value.
  for (const std::string& args : {std::string("probe --repetitions -3 127.0.0.1:1"),
                                  std::string("relay --listen x --to y --delay-ms abc"),
                                  std::string("cascade"), std::string("no-such-command")}) {
    o = Seam(args);
    EXPECT_EQ(o.exit_code, 1) << args << ": " << o.output;
    EXPECT_EQ(o.output.rfind("seam: error: ", 0), 0u) << args << ": " << o.output;
    EXPECT_EQ(std::count(o.output.begin(), o.output.end(), '\n'), 1) << args << ": " << o.output;
  }
  o = Seam("probe --repetitions -3 127.0.0.1:1");
  EXPECT_NE(o.output.find("--repetitions: must be a number > 0, got '-3'"), std::string::npos)
      << o.output;
  EXPECT_EQ(Seam("--version").exit_code, 0);
  o = Seam("split " + dag_ + " -o " + (dir_ / "out").string());
  EXPECT_EQ(o.output, "seam: error: give at least one boundary with --at or --after-node\n");
}

TEST_F(CliTest, AnalyzeJsonIsOneDocumentWithTheSchema) {
  Outcome o = Seam("analyze " + graph::testing::BundledModel("tiny_golden.onnx") + " --json");
  ASSERT_EQ(o.exit_code, 0) << o.output;
  auto json = nlohmann::json::parse(o.output);
  EXPECT_EQ(json["schema"], "seam.analysis/v1");
  EXPECT_EQ(json["totals"]["flops"], 15237);
  EXPECT_EQ(json["nodes"].size(), 5u);
  EXPECT_EQ(json["cuts"][0]["tensors"], nlohmann::json::array({"conv_out"}));
}

TEST_F(CliTest, SplitThenVerifyAndTamperDetection) {
  const std::string out = (dir_ / "split").string();
  Outcome split = Seam("split " + dag_ + " --after-node b1_add --at inc_relu_out -o " + out);
  ASSERT_EQ(split.exit_code, 0) << split.output;
  Outcome verify = Seam("verify " + dag_ + " " + out + " --runs 2");
  EXPECT_EQ(verify.exit_code, 0) << verify.output;
  EXPECT_NE(verify.output.find("split equals whole"), std::string::npos) << verify.output;

  ExpectError("verify " + graph::testing::BundledModel("cnn_chain.onnx") + " " + out,
              out + "/manifest.json was split from another model (" + dag_ + "), not " +
                  graph::testing::BundledModel("cnn_chain.onnx"));
  std::ofstream(out + "/segment_1.onnx", std::ios::binary | std::ios::app) << "x";
  ExpectError("verify " + dag_ + " " + out,
              out +
                  "/segment_1.onnx: sha256 does not match the manifest; the segment was "
                  "changed or corrupted after the split");
}

// Adaptation settings and link traces: one clear line, exit 1, before anything starts.
TEST_F(CliTest, BadAdaptationSettingsAndTraces) {
  const Outcome deadline = Seam("run --plan nope.json --random 1 --deadline-ms 0");
  EXPECT_EQ(deadline.exit_code, 1);
  EXPECT_NE(deadline.output.find("--deadline-ms must be positive"), std::string::npos)
      << deadline.output;
  const Outcome negative = Seam("run --plan nope.json --random 1 --deadline-ms -5");
  EXPECT_EQ(negative.exit_code, 1) << negative.output;
  const Outcome slowdown = Seam("run --plan nope.json --random 1 --device-slowdown 0.5");
  EXPECT_EQ(slowdown.exit_code, 1);
  EXPECT_NE(slowdown.output.find("--device-slowdown must be at least 1"), std::string::npos)
      << slowdown.output;
  const Outcome probe = Seam("run --plan nope.json --random 1 --probe-interval-ms 0");
  EXPECT_EQ(probe.exit_code, 1);
  EXPECT_NE(probe.output.find("--probe-interval-ms must be positive"), std::string::npos);

  const std::string not_a_trace = Write("cell.trace", "12\n13\nthirty\n");
  const Outcome trace = Seam("relay --listen 127.0.0.1:0 --to 127.0.0.1:9 --trace " + not_a_trace);
  EXPECT_EQ(trace.exit_code, 1);
  EXPECT_NE(trace.output.find("--trace: " + not_a_trace + ":3"), std::string::npos) << trace.output;
  EXPECT_NE(trace.output.find("Mahimahi"), std::string::npos) << trace.output;
}

}  // namespace
}  // namespace seam

namespace seam {
namespace {

TEST_F(CliTest, KeygenAndSealAsAUserRunsThem) {
  const std::string key = (dir_ / "site.key").string();
  Outcome made = Seam("keygen " + key);
  ASSERT_EQ(made.exit_code, 0) << made.output;
  EXPECT_EQ(fs::status(key).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ((*ReadFile(key)).size(), 65u);
  // Never over an existing key: models sealed with it would be lost.
  ExpectError("keygen " + key, key +
                                   " already exists; a key is never overwritten (models sealed "
                                   "with it could no longer be opened): choose another path");
  const std::string model = graph::testing::BundledModel("cnn_chain.onnx");
  const std::string sealed = (dir_ / "sealed.onnx").string();
  Outcome done = Seam("seal " + model + " --key file:" + key + " --output " + sealed);
  ASSERT_EQ(done.exit_code, 0) << done.output;
  EXPECT_EQ((*ReadFile(sealed)).substr(0, 8), "SEAMENC1");
  ExpectError("seal " + sealed + " --key file:" + key + " --output " + sealed + "2",
              sealed + " is already sealed (with key " + SealedKeyId(*ReadFile(sealed)) + ")");
  const std::string external = graph::testing::BundledModel("dag_blocks_external.onnx");
  Outcome refused = Seam("seal " + external + " --key file:" + key + " --output " + sealed + "3");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.output.find("is stored in an external data file, which sealing would leave "
                                "in clear"),
            std::string::npos)
      << refused.output;
  // A key typed where its source belongs is refused without being repeated.
  ExpectError("seal " + model + " --key " + std::string(64, 'a') + " --output " + sealed + "4",
              "--key: give where it is, file:PATH or env:NAME, not a bare value");
}

}  // namespace
}  // namespace seam

namespace seam {
namespace {

TEST_F(CliTest, OptionsComeFromAConfigFileAndItsMistakesAreNamed) {
  const std::string model = graph::testing::BundledModel("tiny_golden.onnx");
  const std::string config = Write("seam.toml", "[analyze]\njson = true\n");
  Outcome o = Seam("--config " + config + " analyze " + model);
  ASSERT_EQ(o.exit_code, 0) << o.output;
  const auto parsed = nlohmann::json::parse(o.output, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << o.output;
  // A key that names no option is an error, not ignored.
  const std::string typo = Write("typo.toml", "[analyze]\njsn = true\n");
  o = Seam("--config " + typo + " analyze " + model);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.output.find("analyze.jsn"), std::string::npos) << o.output;
  o = Seam("--config " + (dir_ / "missing.toml").string() + " analyze " + model);
  EXPECT_EQ(o.exit_code, 1);
  EXPECT_NE(o.output.find("missing.toml"), std::string::npos) << o.output;
}

}  // namespace
}  // namespace seam
