// The REST API's JSON forms as pure functions: a JSON body becomes the request a gRPC client
// would send (and then passes the same validation), each malformed body gives its message, and
// output numbers read back as the exact values the model produced.
#include "server/http_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "oip/infer_codec.h"

namespace seam::server {
namespace {

using nlohmann::json;

// image FP32 [-1,3,2,2] and mask BOOL [-1,2] in; probs FP32 [-1,4] and ids INT64 [-1] out.
ModelMetadata Metadata() {
  ModelMetadata m;
  m.inputs = {{"image", DType::kFloat32, {-1, 3, 2, 2}}, {"mask", DType::kBool, {-1, 2}}};
  m.outputs = {{"probs", DType::kFloat32, {-1, 4}}, {"ids", DType::kInt64, {-1}}};
  m.max_batch_size = 8;
  return m;
}

void ExpectInvalid(const std::string& body, const std::string& message) {
  auto parsed = ParseInferRequestJson(body, "m", "");
  ASSERT_FALSE(parsed.ok()) << body;
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(), message);
}

// One tensor of the request, the rest fixed, as JSON text.
std::string OneInput(const std::string& datatype, const std::string& shape,
                     const std::string& data) {
  return R"({"inputs":[{"name":"x","datatype":")" + datatype + R"(","shape":)" + shape +
         R"(,"data":)" + data + "}]}";
}

TEST(HttpCodecTest, NestedAndFlatDataDecodeLikeAGrpcRequest) {
  // Nested (row-major) image, flat mask, an id, a requested output, and the path's version.
  const std::string body = R"({
    "id": "r-1",
    "inputs": [
      {"name": "image", "datatype": "FP32", "shape": [1, 3, 2, 2],
       "data": [[[[0, 1], [2, 3]], [[4, 5], [6, 7]], [[8, 9.5], [10, -1e-3]]]]},
      {"name": "mask", "datatype": "BOOL", "shape": [1, 2], "data": [true, false]}
    ],
    "outputs": [{"name": "ids"}]
  })";
  auto request = ParseInferRequestJson(body, "m", "3");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->model_name(), "m");
  EXPECT_EQ(request->model_version(), "3");
  EXPECT_EQ(request->id(), "r-1");
  auto decoded = oip::DecodeInferRequest(*request, Metadata());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const Tensor& image = decoded->inputs.at("image");
  EXPECT_EQ(image.shape, (std::vector<int64_t>{1, 3, 2, 2}));
  EXPECT_EQ(image.data_as<float>()[9], 9.5f);
  EXPECT_EQ(image.data_as<float>()[11], -1e-3f);
  const Tensor& mask = decoded->inputs.at("mask");
  EXPECT_EQ(mask.data_as<uint8_t>()[0], 1);
  EXPECT_EQ(mask.data_as<uint8_t>()[1], 0);
  EXPECT_EQ(decoded->outputs, (std::vector<std::string>{"ids"}));
}

TEST(HttpCodecTest, ValidationRulesOfTheCodecStillApply) {
  // A JSON body that is well formed but wrong for the model gets the gRPC path's message.
  auto request = ParseInferRequestJson(
      R"({"inputs":[{"name":"image","datatype":"INT64","shape":[1,3,2,2],"data":[)" +
          std::string("0,0,0,0,0,0,0,0,0,0,0,0") + "]}]}",
      "m", "");
  ASSERT_TRUE(request.ok());
  auto decoded = oip::DecodeInferRequest(*request, Metadata());
  EXPECT_EQ(decoded.status().message(), "input 'image': expected datatype FP32, got INT64");
  // An unknown datatype is left for the codec, which names it.
  request = ParseInferRequestJson(OneInput("BYTES", "[1]", R"(["a"])"), "m", "");
  ASSERT_TRUE(request.ok());
}

TEST(HttpCodecTest, EachMalformedBodyHasItsMessage) {
  ExpectInvalid("{", "request body: not valid JSON");
  ExpectInvalid("[]", "request body: expected a JSON object");
  ExpectInvalid("{}", "'inputs': expected an array of tensors");
  ExpectInvalid(R"({"id": 7, "inputs": []})", "'id' must be a string");
  ExpectInvalid(R"({"inputs": [3]})", "inputs[0]: expected an object");
  ExpectInvalid(R"({"inputs": [{"shape": [1]}]})", "inputs[0]: 'name' must be a string");
  ExpectInvalid(R"({"inputs": [{"name": "x", "shape": [1], "data": [1]}]})",
                "input 'x': 'datatype' must be a string such as \"FP32\"");
  ExpectInvalid(OneInput("FP32", "3", "[1]"), "input 'x': 'shape' must be an array of integers");
  ExpectInvalid(OneInput("FP32", "[2, -1]", "[1, 2]"),
                "input 'x': 'shape' must be an array of non-negative integers, got [2,-1]");
  ExpectInvalid(OneInput("FP32", "[2, 1.5]", "[1, 2]"),
                "input 'x': 'shape' must be an array of non-negative integers, got [2,1.5]");
  ExpectInvalid(OneInput("FP32", "[2]", "1"),
                "input 'x': 'data' must be an array (flat or nested, row-major)");
  ExpectInvalid(OneInput("FP32", "[2, 3]", "[[1, 2, 3], [4, 5]]"),
                "input 'x': shape [2,3] has 6 elements, 'data' has 5");
  ExpectInvalid(OneInput("FP32", "[2]", R"([1, "2"])"),
                "input 'x': data[1] = \"2\" is not a number (FP32)");
  ExpectInvalid(OneInput("FP32", "[1]", "[1e39]"),
                "input 'x': data[0] = 1e+39 is out of range for FP32");
  ExpectInvalid(OneInput("INT64", "[2]", "[1, 1.5]"),
                "input 'x': data[1] = 1.5 is not an integer (INT64)");
  ExpectInvalid(OneInput("INT8", "[2]", "[-128, 128]"),
                "input 'x': data[1] = 128 is out of range for INT8");
  ExpectInvalid(OneInput("INT64", "[1]", "[9223372036854775808]"),
                "input 'x': data[0] = 9223372036854775808 is out of range for INT64");
  ExpectInvalid(OneInput("UINT8", "[1]", "[-1]"),
                "input 'x': data[0] = -1 is out of range for UINT8");
  ExpectInvalid(OneInput("BOOL", "[2]", "[true, 1]"),
                "input 'x': data[1] = 1 is not true or false (BOOL)");
  ExpectInvalid(OneInput("FP16", "[1]", "[1]"),
                "input 'x': FP16 tensors cannot be sent as JSON; use gRPC with raw_input_contents");
  ExpectInvalid(OneInput("FP32", "[1]", std::string(40, '[') + "1" + std::string(40, ']')),
                "input 'x': 'data' is nested more than 32 levels deep");
  ExpectInvalid(R"({"inputs": [], "outputs": [{"id": 1}]})", "outputs[0]: 'name' must be a string");
  ExpectInvalid(R"({"inputs": [], "parameters": {"binary_data_output": true}})",
                "binary tensor data (binary_data_output) is not supported; ask for JSON");
  ExpectInvalid(
      R"({"inputs": [], "outputs": [{"name": "y", "parameters": {"binary_data": true}}]})",
      "requested output 'y': binary tensor data is not supported; ask for JSON");
  ExpectInvalid(R"({"inputs": [], "parameters": []})", "'parameters': expected an object");
  ExpectInvalid(OneInput("FP32", "[4611686018427387904, 4]", "[]"),
                "input 'x': shape [4611686018427387904,4] has more elements than can be counted");
  ExpectInvalid(R"({"inputs": [], "parameters": {"seam_timeout_us": [1]}})",
                "parameters.seam_timeout_us: expected a string, a number or a boolean, got array");
}

TEST(HttpCodecTest, RequestParametersReachTheRequestTyped) {
  auto r = ParseInferRequestJson(
      R"({"inputs": [], "parameters": {"seam_timeout_us": 5000, "seam_idempotency_key": "k1",
          "flag": true, "ratio": 0.5, "big": 18446744073709551615, "neg": -3}})",
      "m", "");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& p = r->parameters();
  EXPECT_EQ(p.at("seam_timeout_us").int64_param(), 5000);
  EXPECT_EQ(p.at("seam_idempotency_key").string_param(), "k1");
  EXPECT_TRUE(p.at("flag").bool_param());
  EXPECT_EQ(p.at("ratio").double_param(), 0.5);
  EXPECT_EQ(p.at("big").uint64_param(), 18446744073709551615ULL);
  EXPECT_EQ(p.at("neg").int64_param(), -3);
}

TEST(HttpCodecTest, IntegerExtremesReachTheirTypedFields) {
  auto request = ParseInferRequestJson(
      OneInput("INT64", "[2]", "[-9223372036854775808, 9223372036854775807]"), "m", "");
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->inputs(0).contents().int64_contents(0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(request->inputs(0).contents().int64_contents(1), std::numeric_limits<int64_t>::max());
  request = ParseInferRequestJson(OneInput("UINT64", "[1]", "[18446744073709551615]"), "m", "");
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->inputs(0).contents().uint64_contents(0), std::numeric_limits<uint64_t>::max());
}

template <typename T>
void AddOutput(inference::ModelInferResponse& response, const std::string& name,
               const char* datatype, const std::vector<T>& values) {
  auto* out = response.add_outputs();
  out->set_name(name);
  out->set_datatype(datatype);
  out->add_shape(static_cast<int64_t>(values.size()));
  std::string raw(values.size() * sizeof(T), '\0');
  if (!values.empty()) std::memcpy(raw.data(), values.data(), raw.size());
  response.add_raw_output_contents(raw);
}

TEST(HttpCodecTest, OutputNumbersReadBackBitForBit) {
  const std::vector<float> floats = {0.1f,
                                     -0.0f,
                                     1.0f / 3.0f,
                                     std::numeric_limits<float>::max(),
                                     std::numeric_limits<float>::min(),
                                     std::numeric_limits<float>::denorm_min(),
                                     123456789.0f,
                                     -2.5e-30f,
                                     std::nextafter(1.0f, 2.0f)};
  const std::vector<double> doubles = {0.1, 1.0 / 3.0, std::numeric_limits<double>::denorm_min()};
  const std::vector<int64_t> ints = {std::numeric_limits<int64_t>::min(), -1, 0,
                                     std::numeric_limits<int64_t>::max()};
  inference::ModelInferResponse response;
  response.set_model_name("m");
  response.set_model_version("2");
  response.set_id("r\"1");
  AddOutput(response, "f", "FP32", floats);
  AddOutput(response, "d", "FP64", doubles);
  AddOutput(response, "i", "INT64", ints);
  AddOutput(response, "b", "BOOL", std::vector<uint8_t>{1, 0});
  AddOutput(response, "h", "FP16", std::vector<uint16_t>{0x3C00, 0x3555, 0x0001});
  auto text = InferResponseJson(response);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  const json parsed = json::parse(*text);
  EXPECT_EQ(parsed["model_name"], "m");
  EXPECT_EQ(parsed["model_version"], "2");
  EXPECT_EQ(parsed["id"], "r\"1");
  const json& outputs = parsed["outputs"];
  ASSERT_EQ(outputs.size(), 5u);
  EXPECT_EQ(outputs[0]["name"], "f");
  EXPECT_EQ(outputs[0]["datatype"], "FP32");
  EXPECT_EQ(outputs[0]["shape"], json::array({9}));
  for (size_t i = 0; i < floats.size(); ++i) {
    const float back = static_cast<float>(outputs[0]["data"][i].get<double>());
    EXPECT_EQ(std::memcmp(&back, &floats[i], 4), 0) << i << ": " << outputs[0]["data"][i];
  }
  for (size_t i = 0; i < doubles.size(); ++i) {
    EXPECT_EQ(outputs[1]["data"][i].get<double>(), doubles[i]) << i;
  }
  for (size_t i = 0; i < ints.size(); ++i) EXPECT_EQ(outputs[2]["data"][i].get<int64_t>(), ints[i]);
  EXPECT_EQ(outputs[3]["data"], json::parse("[true,false]"));
  EXPECT_EQ(outputs[4]["data"][0].get<double>(), 1.0);
  EXPECT_EQ(static_cast<float>(outputs[4]["data"][1].get<double>()), 0.333251953125f);
  EXPECT_EQ(static_cast<float>(outputs[4]["data"][2].get<double>()), std::ldexp(1.0f, -24));
  // Floats always read back as floats: -0 keeps its sign, 3 is 3.0.
  EXPECT_NE(text->find("\"data\":[0.1,-0.0,"), std::string::npos) << *text;
}

TEST(HttpCodecTest, NonFiniteOutputsAreNullAndBadBytesAreInternal) {
  inference::ModelInferResponse response;
  AddOutput(response, "f", "FP32",
            std::vector<float>{std::numeric_limits<float>::quiet_NaN(),
                               std::numeric_limits<float>::infinity(), 1.5f});
  auto text = InferResponseJson(response);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(json::parse(*text)["outputs"][0]["data"], json::parse("[null,null,1.5]"));
  response.mutable_raw_output_contents(0)->pop_back();
  EXPECT_EQ(InferResponseJson(response).status().code(), StatusCode::kInternal);
}

TEST(HttpCodecTest, MetadataAndErrorsAreJson) {
  const json metadata = json::parse(ModelMetadataJson("m", {1, 3}, "onnxruntime_onnx", Metadata()));
  EXPECT_EQ(metadata["name"], "m");
  EXPECT_EQ(metadata["versions"], json::parse(R"(["1","3"])"));
  EXPECT_EQ(metadata["platform"], "onnxruntime_onnx");
  EXPECT_EQ(metadata["inputs"][0],
            json::parse(R"({"name":"image","datatype":"FP32","shape":[-1,3,2,2]})"));
  EXPECT_EQ(metadata["outputs"][1],
            json::parse(R"({"name":"ids","datatype":"INT64","shape":[-1]})"));
  EXPECT_EQ(json::parse(ServerMetadataJson("seam", "0.1.0", {"model_repository"})),
            json::parse(R"({"name":"seam","version":"0.1.0","extensions":["model_repository"]})"));
  EXPECT_EQ(json::parse(ErrorJson("input 'x': \"bad\"\n")),
            json::parse(R"({"error":"input 'x': \"bad\"\n"})"));
}

}  // namespace
}  // namespace seam::server
