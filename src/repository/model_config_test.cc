// config.json: every field read, normalised and validated; each error names the file and field.
#include "repository/model_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "repository/layout.h"

namespace seam::repository {
namespace {

constexpr char kPath[] = "repo/cnn/config.json";

Result<ModelConfig> Parse(const std::string& text) { return ParseModelConfig(text, kPath, "cnn"); }

void ExpectError(const std::string& text, const std::string& message) {
  SCOPED_TRACE(text);
  auto config = Parse(text);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(config.status().message(), message);
}

TEST(ModelConfigTest, EmptyObjectIsTheDefault) {
  auto config = Parse("{}");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(*config, DefaultModelConfig("cnn"));
  EXPECT_EQ(config->name, "cnn");
  EXPECT_EQ(config->platform, "onnxruntime_onnx");
  EXPECT_EQ(config->max_batch_size, 0);
  EXPECT_EQ(config->version_policy.kind, VersionPolicy::Kind::kLatest);
  EXPECT_EQ(config->version_policy.latest, 1);
  EXPECT_EQ(config->instance_count, 1);
  EXPECT_FALSE(config->dynamic_batching);
}

TEST(ModelConfigTest, EveryField) {
  auto config = Parse(R"({
    "name": "cnn", "platform": "onnxruntime_onnx", "max_batch_size": 8,
    "inputs": [{"name": "image", "datatype": "FP32", "shape": [-1, 3, 32, 32]}],
    "outputs": [{"name": "probs"}],
    "version_policy": {"specific": [3, 1, 3]},
    "instance_count": 2, "intra_op_threads": 4,
    "versions": {"3": {"sha256": "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789"}},
    "dynamic_batching": {"preferred_batch_size": [8, 4, 4], "max_queue_delay_us": 500,
                         "max_queue_size": 64}
  })");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->max_batch_size, 8);
  ASSERT_EQ(config->inputs.size(), 1u);
  EXPECT_EQ(config->inputs[0].dtype, DType::kFloat32);
  EXPECT_EQ(config->inputs[0].shape, (std::vector<int64_t>{-1, 3, 32, 32}));
  ASSERT_EQ(config->outputs.size(), 1u);
  EXPECT_FALSE(config->outputs[0].dtype);
  EXPECT_EQ(config->version_policy.kind, VersionPolicy::Kind::kSpecific);
  EXPECT_EQ(config->version_policy.specific, (std::vector<int64_t>{1, 3}));  // normalised
  EXPECT_EQ(config->instance_count, 2);
  EXPECT_EQ(config->intra_op_threads, 4);
  EXPECT_EQ(config->version_sha256.at(3),
            "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  ASSERT_TRUE(config->dynamic_batching);
  EXPECT_EQ(config->dynamic_batching->preferred_batch_size, (std::vector<int>{4, 8}));
  EXPECT_EQ(config->dynamic_batching->max_queue_delay_us, 500);
  EXPECT_EQ(config->dynamic_batching->max_queue_size, 64);
}

TEST(ModelConfigTest, VersionPolicies) {
  auto all = Parse(R"({"version_policy": {"all": {}}})");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->version_policy.kind, VersionPolicy::Kind::kAll);
  auto latest = Parse(R"({"version_policy": {"latest": 2}})");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version_policy.latest, 2);
}

TEST(ModelConfigTest, ErrorsNameTheFileAndField) {
  ExpectError("{", std::string(kPath) +
                       ": not valid JSON: [json.exception.parse_error.101] parse error at line 1, "
                       "column 2: syntax error while parsing object key - unexpected end of "
                       "input; expected string literal");
  ExpectError("[]", std::string(kPath) + ": must be a JSON object");
  ExpectError(R"({"max_batch": 4})",
              std::string(kPath) +
                  ": 'max_batch': unknown field (known: dynamic_batching, inputs, "
                  "instance_count, intra_op_threads, max_batch_size, name, outputs, platform, "
                  "version_policy, versions)");
  ExpectError(
      R"({"name": "other"})",
      std::string(kPath) + ": 'name': 'other' differs from the model's directory name 'cnn'");
  ExpectError(R"({"platform": "tensorflow_savedmodel"})",
              std::string(kPath) +
                  ": 'platform': \"onnxruntime_onnx\" or \"seam_stage\" are served, got "
                  "\"tensorflow_savedmodel\"");
  ExpectError(R"({"instance_count": 0})",
              std::string(kPath) + ": 'instance_count': must be an integer in [1, 64], got 0");
  ExpectError(R"({"instance_count": "2"})",
              std::string(kPath) + ": 'instance_count': must be an integer in [1, 64], got \"2\"");
  ExpectError(
      R"({"max_batch_size": -1})",
      std::string(kPath) + ": 'max_batch_size': must be an integer in [0, 1048576], got -1");
  ExpectError(R"({"intra_op_threads": 1.5})",
              std::string(kPath) + ": 'intra_op_threads': must be an integer in [0, 256], got 1.5");
}

TEST(ModelConfigTest, TensorErrors) {
  const std::string p = kPath;
  ExpectError(R"({"inputs": [{"datatype": "FP32"}]})", p + ": 'inputs[0].name': is required");
  ExpectError(R"({"inputs": [{"name": "x", "datatype": "FP33"}]})",
              p + ": 'inputs[0].datatype': unknown datatype 'FP33' (FP32, FP16, INT64, BOOL, ...)");
  ExpectError(R"({"inputs": [{"name": "x", "shape": [1, 0]}]})",
              p + ": 'inputs[0].shape[1]': must be -1 (dynamic) or positive, got 0");
  ExpectError(R"({"inputs": [{"name": "x"}, {"name": "x"}]})",
              p + ": 'inputs[1].name': 'x' is listed twice");
  ExpectError(R"({"outputs": [{"name": "y", "dims": [1]}]})",
              p + ": 'outputs[0].dims': unknown field (known: datatype, name, shape)");
  ExpectError(R"({"max_batch_size": 4, "inputs": [{"name": "x", "shape": [1, 3]}]})",
              p + ": 'inputs.x.shape': with max_batch_size > 0 the first dimension is the batch "
                  "and must be -1");
}

TEST(ModelConfigTest, PolicyVersionsAndBatchingErrors) {
  const std::string p = kPath;
  ExpectError(R"({"version_policy": {"latest": 1, "all": {}}})",
              p + ": 'version_policy': must be one of {\"latest\": N}, {\"all\": {}}, "
                  "{\"specific\": [..]}");
  ExpectError(R"({"version_policy": {"newest": 1}})",
              p + ": 'version_policy.newest': unknown field (known: all, latest, specific)");
  ExpectError(R"({"version_policy": {"latest": 0}})",
              p + ": 'version_policy.latest': must be an integer in [1, 1000], got 0");
  ExpectError(R"({"version_policy": {"specific": []}})",
              p + ": 'version_policy.specific': must be a non-empty array of version numbers");
  ExpectError(R"({"version_policy": {"all": false}})",
              p + ": 'version_policy.all': must be {} or true, got false");
  ExpectError(R"({"versions": {"v1": {"sha256": "00"}}})",
              p + ": 'versions.v1': must be a version number >= 1");
  ExpectError(R"({"versions": {"1": {"sha256": "xyz"}}})",
              p + ": 'versions.1.sha256': must be 64 hexadecimal digits");
  ExpectError(R"({"dynamic_batching": {}})",
              p + ": 'dynamic_batching': needs max_batch_size >= 1 (the model must take a batch "
                  "dimension)");
  ExpectError(R"({"max_batch_size": 4, "dynamic_batching": {"preferred_batch_size": [8]}})",
              p + ": 'dynamic_batching.preferred_batch_size[0]': must be an integer in [1, 4], "
                  "got 8");
  ExpectError(R"({"max_batch_size": 4, "dynamic_batching": {"max_queue_delay_us": -5}})",
              p + ": 'dynamic_batching.max_queue_delay_us': must be an integer in [0, 60000000], "
                  "got -5");
  ExpectError(R"({"max_batch_size": 4, "dynamic_batching": {"timeout": 5}})",
              p + ": 'dynamic_batching.timeout': unknown field (known: max_queue_delay_us, "
                  "max_queue_size, preferred_batch_size)");
}

TEST(ModelConfigTest, SelectVersions) {
  VersionPolicy latest2{VersionPolicy::Kind::kLatest, 2, {}};
  EXPECT_EQ(SelectVersions(latest2, {3, 1, 10, 2}), (std::vector<int64_t>{3, 10}));
  EXPECT_EQ(SelectVersions(latest2, {5}), (std::vector<int64_t>{5}));
  EXPECT_TRUE(SelectVersions(latest2, {}).empty());
  VersionPolicy all{VersionPolicy::Kind::kAll, 1, {}};
  EXPECT_EQ(SelectVersions(all, {2, 1}), (std::vector<int64_t>{1, 2}));
  VersionPolicy specific{VersionPolicy::Kind::kSpecific, 1, {1, 4}};
  EXPECT_EQ(SelectVersions(specific, {1, 2, 3}), (std::vector<int64_t>{1}));
}

// What ModelConfigToJson writes, ParseModelConfig reads back as the same config: the writer of
// config.json (seam deploy) and its reader (the server) cannot drift apart.
TEST(ModelConfigTest, WrittenConfigsReadBackEqual) {
  std::vector<ModelConfig> configs;
  configs.push_back(DefaultModelConfig("cnn"));
  ModelConfig stage = DefaultModelConfig("cnn");
  stage.platform = kStagePlatform;
  stage.version_policy.latest = 3;
  stage.version_sha256 = {{1, std::string(64, 'a')}, {4, std::string(64, 'b')}};
  configs.push_back(stage);
  auto every = Parse(R"({"platform": "onnxruntime_onnx", "max_batch_size": 8,
      "inputs": [{"name": "image", "datatype": "FP32", "shape": [-1, 3, 32, 32]}],
      "outputs": [{"name": "probs"}], "version_policy": {"specific": [3, 1]},
      "instance_count": 2, "intra_op_threads": 0,
      "dynamic_batching": {"preferred_batch_size": [4, 8], "max_queue_delay_us": 500,
                           "max_queue_size": 64}})");
  ASSERT_TRUE(every.ok()) << every.status().ToString();
  configs.push_back(*every);
  ModelConfig all = DefaultModelConfig("cnn");
  all.version_policy.kind = VersionPolicy::Kind::kAll;
  configs.push_back(all);
  for (const ModelConfig& config : configs) {
    const std::string text = ModelConfigToJson(config);
    auto back = ParseModelConfig(text, kPath, "cnn");
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
    EXPECT_EQ(*back, config) << text;
  }
}

TEST(RepositoryLayoutTest, VersionDirectoriesAreNumbersWithoutLeadingZeros) {
  EXPECT_EQ(ParseVersionDir("1"), 1);
  EXPECT_EQ(ParseVersionDir("120"), 120);
  for (const char* bad : {"", "0", "01", "1a", "-1", "1234567890123456789"}) {
    EXPECT_FALSE(ParseVersionDir(bad).has_value()) << bad;
  }
  const auto dir = std::filesystem::path(::testing::TempDir()) / "seam_layout_test";
  std::filesystem::remove_all(dir);
  for (const char* name : {"3", "10", "01", "x", "2"})
    std::filesystem::create_directories(dir / name);
  std::filesystem::create_directories(dir.parent_path());
  { std::ofstream(dir / "7") << "a file, not a version"; }
  EXPECT_EQ(ListVersions(dir.string()), (std::vector<int64_t>{2, 3, 10}));
  EXPECT_TRUE(ListVersions((dir / "missing").string()).empty());
  EXPECT_STREQ(VersionFileName(kStagePlatform), "stage.json");
  EXPECT_STREQ(VersionFileName(kOnnxPlatform), "model.onnx");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace seam::repository
