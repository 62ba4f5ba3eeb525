// Hostile input, as an attacker with network access sends it: hundreds of malformed requests over
// gRPC (inference, metadata, readiness, repository control) and REST (bodies, shapes, dtypes,
// sizes, names, paths, methods), each built by mutating a valid request. Every one must be answered
// promptly with the protocol's error status -- a client error, never OK, never INTERNAL/500, never
// a hang -- and afterwards the server must still be alive and answer a valid request bitwise.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server_process.h"
#include "support/http_tools.h"

namespace seam {
namespace {

using nlohmann::json;
using testing::ServerProcess;
using testing::TestRepository;
using Stub = inference::GRPCInferenceService::Stub;

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return context;
}

// A client error: refused with a status that says the request was wrong (or unknown), promptly.
bool ClientError(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::UNIMPLEMENTED:
      return true;
    default:
      return false;
  }
}

class ServerHostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.AddVersion("cnn", 1, testing::BundledModelPath("cnn_chain.onnx"));
    repo_.WriteConfig("cnn", R"({"max_batch_size": 8})");
    std::string error;
    server_ = ServerProcess::Start({"--repo", repo_.root(), "--log-level", "error",
                                    "--max-message-mb", "4", "--max-request-memory-mb", "64"},
                                   &error);
    ASSERT_TRUE(server_) << error;
    stub_ = server_->NewStub();
  }
  void ExpectAlive() {
    inference::ModelInferResponse response;
    auto context = Context();
    ASSERT_TRUE(stub_->ModelInfer(context.get(), good_, &response).ok());
    EXPECT_TRUE(testing::BitwiseEqual(cnn_.Run(inputs_), testing::ResponseTensors(response)));
  }

  TestRepository repo_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Stub> stub_;
  testing::Reference cnn_{testing::BundledModelPath("cnn_chain.onnx")};
  const TensorMap inputs_ = cnn_.Inputs(1, 7);
  const inference::ModelInferRequest good_ = testing::RawInferRequest("cnn", inputs_);
};

// Mutations of a valid ModelInferRequest, each of which makes it invalid.
std::vector<std::pair<std::string, std::function<void(inference::ModelInferRequest&)>>>
InferMutations() {
  using R = inference::ModelInferRequest;
  std::vector<std::pair<std::string, std::function<void(R&)>>> m;
  for (const std::string& name :
       std::vector<std::string>{"", "nope", "../cnn", "cnn/1", std::string(5000, 'x'),
                                std::string("cnn\0x", 5), "CNN", " cnn", "c\xffn", "%2e%2e"}) {
    m.push_back(
        {"model name '" + name.substr(0, 20) + "'", [name](R& r) { r.set_model_name(name); }});
  }
  for (const std::string version : {"0", "01", "-1", "abc", "99999999999999999999", "1.5", " 1",
                                    "1 ", "+1", "0x1", "2", "1e0"}) {
    m.push_back({"version '" + version + "'", [version](R& r) { r.set_model_version(version); }});
  }
  for (const std::string dtype : {"", "FP99", "INT8", "FP16", "BF16", "BYTES", "BOOL", "fp32",
                                  "FP64", "UINT8", "INT64", "FP32 "}) {
    m.push_back(
        {"datatype '" + dtype + "'", [dtype](R& r) { r.mutable_inputs(0)->set_datatype(dtype); }});
  }
  const std::vector<std::vector<int64_t>> shapes = {{},
                                                    {1},
                                                    {1, 3, 32},
                                                    {1, 3, 32, 32, 1},
                                                    {0, 3, 32, 32},
                                                    {-1, 3, 32, 32},
                                                    {9, 3, 32, 32},
                                                    {1, 3, 32, 33},
                                                    {1, 4, 32, 32},
                                                    {1, 3, 31, 32},
                                                    {1LL << 31, 1LL << 31, 1LL << 31, 1LL << 31},
                                                    {1, -3, 32, 32},
                                                    {1, 3, 0, 32},
                                                    {INT64_MAX, 3, 32, 32},
                                                    {2, 3, 32, 32},
                                                    {1, 3, 16, 64}};
  for (const auto& shape : shapes) {
    std::string label = "shape [";
    for (int64_t d : shape) label += std::to_string(d) + ",";
    m.push_back({label + "]", [shape](R& r) {
                   r.mutable_inputs(0)->clear_shape();
                   for (int64_t d : shape) r.mutable_inputs(0)->add_shape(d);
                 }});
  }
  for (const int64_t size : {0, 1, 12287, 12289, 24576, 4, 3}) {
    m.push_back({"raw bytes " + std::to_string(size), [size](R& r) {
                   r.mutable_raw_input_contents(0)->resize(static_cast<size_t>(size));
                 }});
  }
  m.push_back({"two raw contents", [](R& r) { r.add_raw_input_contents("xxxx"); }});
  m.push_back({"no raw contents", [](R& r) { r.clear_raw_input_contents(); }});
  m.push_back({"raw and typed contents",
               [](R& r) { r.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.f); }});
  m.push_back({"typed contents of the wrong type", [](R& r) {
                 r.clear_raw_input_contents();
                 for (int i = 0; i < 3072; ++i) {
                   r.mutable_inputs(0)->mutable_contents()->add_int64_contents(i);
                 }
               }});
  m.push_back({"too few typed contents", [](R& r) {
                 r.clear_raw_input_contents();
                 r.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.f);
               }});
  m.push_back({"no inputs", [](R& r) {
                 r.clear_inputs();
                 r.clear_raw_input_contents();
               }});
  m.push_back({"input renamed", [](R& r) { r.mutable_inputs(0)->set_name("img"); }});
  m.push_back({"input unnamed", [](R& r) { r.mutable_inputs(0)->set_name(""); }});
  m.push_back({"input twice", [](R& r) {
                 *r.add_inputs() = r.inputs(0);
                 r.add_raw_input_contents(r.raw_input_contents(0));
               }});
  m.push_back({"an extra input", [](R& r) {
                 auto* extra = r.add_inputs();
                 extra->set_name("extra");
                 extra->set_datatype("FP32");
                 extra->add_shape(1);
                 r.add_raw_input_contents(std::string(4, '\0'));
               }});
  for (const std::string output : {"logits", "", "probs\n", "image"}) {
    m.push_back({"output '" + output + "'", [output](R& r) { r.add_outputs()->set_name(output); }});
  }
  m.push_back({"output twice", [](R& r) {
                 r.add_outputs()->set_name("probs");
                 r.add_outputs()->set_name("probs");
               }});
  m.push_back({"output codec unknown", [](R& r) {
                 auto* out = r.add_outputs();
                 out->set_name("probs");
                 (*out->mutable_parameters())["seam_codec"].set_string_param("rot13");
               }});
  m.push_back({"input codec unknown", [](R& r) {
                 (*r.mutable_inputs(0)->mutable_parameters())["seam_codec"].set_string_param(
                     "zip9");
               }});
  m.push_back({"timeout negative",
               [](R& r) { (*r.mutable_parameters())["seam_timeout_us"].set_int64_param(-5); }});
  m.push_back({"timeout a string", [](R& r) {
                 (*r.mutable_parameters())["seam_timeout_us"].set_string_param("soon");
               }});
  m.push_back({"idempotency key not a string",
               [](R& r) { (*r.mutable_parameters())["seam_idempotency_key"].set_int64_param(7); }});
  m.push_back({"idempotency key empty", [](R& r) {
                 (*r.mutable_parameters())["seam_idempotency_key"].set_string_param("");
               }});
  m.push_back({"idempotency key huge", [](R& r) {
                 (*r.mutable_parameters())["seam_idempotency_key"].set_string_param(
                     std::string(100000, 'k'));
               }});
  m.push_back(
      {"over the message limit", [](R& r) { r.mutable_raw_input_contents(0)->resize(5 << 20); }});
  return m;
}

TEST_F(ServerHostileTest, HundredsOfMalformedRequestsAreEachAnsweredWithAClientError) {
  int sent = 0;
  // Inference, unary and on one stream.
  const auto mutations = InferMutations();
  grpc::ClientContext stream_context_own;  // the whole stream: longer than one call's deadline
  stream_context_own.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  auto* stream_context = &stream_context_own;
  auto stream = stub_->ModelStreamInfer(stream_context);
  for (const auto& [label, mutate] : mutations) {
    inference::ModelInferRequest request = good_;
    mutate(request);
    inference::ModelInferResponse response;
    auto context = Context();
    const grpc::Status status = stub_->ModelInfer(context.get(), request, &response);
    EXPECT_TRUE(ClientError(status.error_code()))
        << label << ": " << status.error_code() << " " << status.error_message();
    EXPECT_FALSE(status.error_message().empty()) << label;
    if (label.find("\xff") != std::string::npos) {  // bytes that do not parse as the message
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << label;
      EXPECT_NE(status.error_message().find("not a valid ModelInferRequest"), std::string::npos);
    }
    ++sent;
    // On the stream too, unless the message does not even parse: then gRPC itself ends the
    // stream (its bidi reader parses before seam sees a message), which is tested apart.
    inference::ModelInferRequest reparsed;
    if (request.ByteSizeLong() < (4u << 20) &&
        reparsed.ParseFromString(request.SerializeAsString())) {
      request.set_id("s" + std::to_string(sent));
      ASSERT_TRUE(stream->Write(request)) << label;
      inference::ModelStreamInferResponse answer;
      ASSERT_TRUE(stream->Read(&answer)) << label;
      EXPECT_FALSE(answer.error_message().empty()) << label << ": the stream answered OK";
      ++sent;
    }
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  // Metadata, readiness and repository control with hostile names and versions.
  for (const std::string& name : std::vector<std::string>{
           "", "nope", "../cnn", std::string(5000, 'y'), std::string("a\0b", 3), "cnn/../../etc"}) {
    for (const std::string version : {"", "0", "01", "x", "-1"}) {
      if (name == "cnn" || (name.empty() && version.empty())) continue;
      inference::ModelMetadataRequest meta;
      meta.set_name(name);
      meta.set_version(version);
      inference::ModelMetadataResponse meta_response;
      auto c1 = Context();
      const grpc::Status s1 = stub_->ModelMetadata(c1.get(), meta, &meta_response);
      EXPECT_TRUE(ClientError(s1.error_code()))
          << "metadata " << name.substr(0, 9) << " " << version;
      inference::ModelReadyRequest ready;
      ready.set_name(name);
      ready.set_version(version);
      inference::ModelReadyResponse ready_response;
      auto c2 = Context();
      const grpc::Status s2 = stub_->ModelReady(c2.get(), ready, &ready_response);
      EXPECT_TRUE(!s2.ok() ? ClientError(s2.error_code()) : !ready_response.ready())
          << "ready " << name.substr(0, 9) << " " << version;
      sent += 2;
    }
    inference::RepositoryModelLoadRequest load;
    load.set_model_name(name);
    inference::RepositoryModelLoadResponse load_response;
    auto c3 = Context();
    const grpc::Status s3 = stub_->RepositoryModelLoad(c3.get(), load, &load_response);
    EXPECT_TRUE(ClientError(s3.error_code()))
        << "load " << name.substr(0, 9) << ": " << s3.error_message();
    inference::RepositoryModelUnloadRequest unload;
    unload.set_model_name(name);
    inference::RepositoryModelUnloadResponse unload_response;
    auto c4 = Context();
    const grpc::Status s4 = stub_->RepositoryModelUnload(c4.get(), unload, &unload_response);
    EXPECT_TRUE(ClientError(s4.error_code()))
        << "unload " << name.substr(0, 9) << ": " << s4.error_message();
    sent += 2;
  }
  EXPECT_GE(sent, 200);
  ExpectAlive();
}

TEST_F(ServerHostileTest, MalformedRestRequestsAreEachAnswered4xxWithAnError) {
  if (testing::FindProgram("curl").empty()) GTEST_SKIP() << "curl is not installed";
  const std::string base = server_->http_url();
  const std::string infer = base + "/v2/models/cnn/infer";
  json good_body = {{"inputs",
                     {{{"name", "image"},
                       {"datatype", "FP32"},
                       {"shape", {1, 3, 32, 32}},
                       {"data", std::vector<float>(3072, 0.5f)}}}}};
  std::vector<std::pair<std::string, std::string>> bodies = {
      {"empty", ""},
      {"not JSON", "{"},
      {"an array", "[]"},
      {"null", "null"},
      {"a number", "5"},
      {"inputs a number", R"({"inputs": 5})"},
      {"inputs empty", R"({"inputs": []})"},
      {"trailing junk", good_body.dump() + "x"},
      {"deep nesting", std::string(10000, '[') + std::string(10000, ']')},
      {"a huge number",
       R"({"inputs": [{"name": "image", "datatype": "FP32", "shape": [1], "data": [1e999]}]})"},
  };
  auto variant = [&](const std::string& label, const std::function<void(json&)>& change) {
    json body = good_body;
    change(body);
    bodies.push_back({label, body.dump()});
  };
  for (const json& dtype : {json("FP99"), json(""), json(5), json(nullptr), json("BYTES"),
                            json("FP16"), json("INT64"), json("BOOL")}) {
    variant("datatype " + dtype.dump(), [&](json& b) { b["inputs"][0]["datatype"] = dtype; });
  }
  for (const json& shape :
       {json::array(), json({1}), json({1, 3, 32}), json({9, 3, 32, 32}), json({-1, 3, 32, 32}),
        json({1, 3, 32, 33}), json({"1", 3, 32, 32}), json(7), json({1.5, 3, 32, 32}),
        json({4611686018427387904LL, 4, 32, 32}), json({0, 3, 32, 32})}) {
    variant("shape " + shape.dump(), [&](json& b) { b["inputs"][0]["shape"] = shape; });
  }
  for (const json& data :
       {json::array(), json({1, 2, 3}), json("zeros"), json(nullptr),
        json(std::vector<std::string>(3072, "a")), json(std::vector<bool>(3072, true)),
        json(std::vector<float>(3073, 0))}) {
    variant("data " + data.dump().substr(0, 12), [&](json& b) { b["inputs"][0]["data"] = data; });
  }
  for (const json& name : {json("img"), json(""), json(5), json(nullptr)}) {
    variant("name " + name.dump(), [&](json& b) { b["inputs"][0]["name"] = name; });
  }
  variant("no name", [](json& b) { b["inputs"][0].erase("name"); });
  variant("no data", [](json& b) { b["inputs"][0].erase("data"); });
  variant("no shape", [](json& b) { b["inputs"][0].erase("shape"); });
  variant("no datatype", [](json& b) { b["inputs"][0].erase("datatype"); });
  variant("input twice", [](json& b) { b["inputs"].push_back(b["inputs"][0]); });
  variant("unknown output", [](json& b) { b["outputs"] = {{{"name", "logits"}}}; });
  variant("outputs a string", [](json& b) { b["outputs"] = "probs"; });
  variant("parameters a list", [](json& b) { b["parameters"] = json::array(); });
  variant("timeout negative", [](json& b) { b["parameters"] = {{"seam_timeout_us", -1}}; });
  int sent = 0;
  for (const auto& [label, body] : bodies) {
    const auto r = testing::Curl(infer, {"--max-time", "10"}, body);
    EXPECT_TRUE(r.status >= 400 && r.status < 500)
        << label << ": " << r.status << " " << r.body << r.curl_error;
    EXPECT_NE(r.body.find("\"error\""), std::string::npos) << label << ": " << r.body;
    ++sent;
  }
  // Paths, methods and headers.
  const std::vector<std::pair<std::string, std::vector<std::string>>> calls = {
      {base + "/v2/models/nope/infer", {"-X", "POST", "-d", "{}"}},
      {base + "/v2/models/cnn/versions/01/infer", {"-X", "POST", "-d", good_body.dump()}},
      {base + "/v2/models/cnn/versions/x/ready", {}},
      {base + "/v2/models/%2e%2e/ready", {}},
      {base + "/v2/models/../../etc/passwd", {"--path-as-is"}},
      {base + "/v2/models/cnn%00/ready", {}},
      {base + "/v2/models/" + std::string(3000, 'z'), {}},
      {base + "/v2/nothing", {}},
      {infer, {"-X", "PUT", "-d", good_body.dump()}},
      {infer, {"-X", "DELETE"}},
      {infer, {"-H", "Inference-Header-Content-Length: 10", "-d", good_body.dump()}},
      {infer, {"-F", "file=@/dev/null"}},
      {infer,
       {"-H", "Content-Type: application/json", "-H", "Transfer-Encoding: chunked", "-d", "{"}},
      {base + "/v2/repository/models/nope/load", {"-X", "POST", "-d", ""}},
      {base + "/v2/repository/models/../unload", {"--path-as-is", "-X", "POST", "-d", ""}},
  };
  for (const auto& [url, options] : calls) {
    std::vector<std::string> all = {"--max-time", "10"};
    all.insert(all.end(), options.begin(), options.end());
    const auto r = testing::Curl(url, all);
    EXPECT_TRUE(r.status >= 400 && r.status < 500)
        << url.substr(0, 80) << ": " << r.status << " " << r.body.substr(0, 200) << r.curl_error;
    ++sent;
  }
  EXPECT_GE(sent, 60);
  ExpectAlive();
}

}  // namespace
}  // namespace seam
