// config.pbtxt as Triton writes it: the same ModelConfig as the equivalent config.json, and every
// field or value seam does not serve refused by name and line.
#include "repository/model_config_pbtxt.h"

#include <gtest/gtest.h>

namespace seam::repository {
namespace {

TEST(ModelConfigPbtxtTest, ATritonConfigMeansWhatTheEquivalentJsonMeans) {
  const std::string pbtxt = R"(
name: "cnn"
platform: "onnxruntime_onnx"
max_batch_size: 8
input [
  { name: "x" data_type: TYPE_FP32 dims: [ 3, 16, 16 ] }
]
output [ { name: "y", data_type: TYPE_FP32, dims: [ -1 ] } ]
version_policy: { latest: { num_versions: 2 } }
instance_group [ { count: 2, kind: KIND_CPU }, { kind: KIND_AUTO } ]
dynamic_batching {
  preferred_batch_size: [ 4, 8 ]
  max_queue_delay_microseconds: 100
  default_queue_policy { max_queue_size: 64 }
}
)";
  const std::string json = R"({
    "name": "cnn", "platform": "onnxruntime_onnx", "max_batch_size": 8,
    "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 3, 16, 16]}],
    "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, -1]}],
    "version_policy": {"latest": 2}, "instance_count": 3,
    "dynamic_batching": {"preferred_batch_size": [4, 8], "max_queue_delay_us": 100,
                         "max_queue_size": 64}})";
  auto from_pbtxt = ParseModelConfigPbtxt(pbtxt, "repo/cnn/config.pbtxt", "cnn");
  ASSERT_TRUE(from_pbtxt.ok()) << from_pbtxt.status().ToString();
  auto from_json = ParseModelConfig(json, "repo/cnn/config.json", "cnn");
  ASSERT_TRUE(from_json.ok()) << from_json.status().ToString();
  EXPECT_EQ(*from_pbtxt, *from_json) << ModelConfigToJson(*from_pbtxt) << "\n vs \n"
                                     << ModelConfigToJson(*from_json);
}

TEST(ModelConfigPbtxtTest, DefaultsAndTheOtherPolicies) {
  auto empty = ParseModelConfigPbtxt("", "c.pbtxt", "m");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(*empty, DefaultModelConfig("m"));
  // No batching: dims are the whole shape. backend "onnxruntime" is the ONNX Runtime platform.
  auto plain = ParseModelConfigPbtxt(
      R"(backend: "onnxruntime" input { name: "x" dims: [1, 4] } version_policy { all {} })",
      "c.pbtxt", "m");
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ(plain->platform, kOnnxPlatform);
  EXPECT_EQ(plain->inputs[0].shape, (std::vector<int64_t>{1, 4}));
  EXPECT_FALSE(plain->inputs[0].dtype.has_value());
  EXPECT_EQ(plain->version_policy.kind, VersionPolicy::Kind::kAll);
  // Both platform and backend, as Triton's own configs often say.
  EXPECT_TRUE(ParseModelConfigPbtxt(R"(platform: "onnxruntime_onnx" backend: "onnxruntime")",
                                    "c.pbtxt", "m")
                  .ok());
  auto specific =
      ParseModelConfigPbtxt("version_policy { specific { versions: [3, 1] } }", "c.pbtxt", "m");
  ASSERT_TRUE(specific.ok()) << specific.status().ToString();
  EXPECT_EQ(specific->version_policy.specific, (std::vector<int64_t>{1, 3}));
  // An empty dynamic_batching block turns batching on, as in Triton.
  auto batching = ParseModelConfigPbtxt("max_batch_size: 4 dynamic_batching { }", "c.pbtxt", "m");
  ASSERT_TRUE(batching.ok()) << batching.status().ToString();
  EXPECT_TRUE(batching->dynamic_batching.has_value());
}

TEST(ModelConfigPbtxtTest, WhatSeamDoesNotServeIsRefusedByName) {
  struct Case {
    std::string text, message;
  };
  const std::vector<Case> cases = {
      {"max_batch_size: 4\nsequence_batching { }",
       "c.pbtxt:2:19: 'sequence_batching': a field of Triton's model configuration that seam does "
       "not support"},
      {"dynamic_batching { preserve_ordering: true }",
       "c.pbtxt:1:37: 'preserve_ordering': a field of Triton's model configuration"},
      {"instance_group [ { count: 1 kind: KIND_GPU } ]",
       "c.pbtxt: 'instance_group[0].kind': KIND_GPU is not served: seam runs ONNX Runtime on the "
       "CPU (KIND_CPU)"},
      {"instance_group [ { count: 1 gpus: [0] } ]", "'gpus': a field of Triton's"},
      {"backend: \"tensorrt\"", "c.pbtxt: 'backend': \"onnxruntime\" is served, got \"tensorrt\""},
      {"platform: \"tensorflow_savedmodel\"", "c.pbtxt: 'platform':"},
      {"input { name: \"s\" data_type: TYPE_STRING }",
       "c.pbtxt: input[0].data_type: TYPE_STRING is not served by seam"},
      {"default_model_filename: \"model.plan\"",
       "c.pbtxt: 'default_model_filename': seam serves VERSION/model.onnx"},
      {"max_batch_size: 4\ninput [ { name: \"x\" ", "c.pbtxt:"},
      {"max_batch_size: \"eight\"", "c.pbtxt:1:17:"},
      {"instance_group [ { count: 0 } ] instance_group [ { count: 100 } ]",
       "c.pbtxt: 'instance_group': the groups ask for 101 instances; seam runs at most 64"},
      {"platform: \"tensorrt_plan\" backend: \"onnxruntime\"",
       "c.pbtxt: 'platform': \"tensorrt_plan\" does not go with backend \"onnxruntime\""},
      {"name: \"other\"", "c.pbtxt: 'name':"},
  };
  for (const auto& c : cases) {
    auto parsed = ParseModelConfigPbtxt(c.text, "c.pbtxt", "m");
    ASSERT_FALSE(parsed.ok()) << c.text;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(parsed.status().message().find(c.message), std::string::npos)
        << c.text << "\n -> " << parsed.status().message();
  }
}

}  // namespace
}  // namespace seam::repository
