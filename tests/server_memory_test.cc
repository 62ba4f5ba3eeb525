// `seam serve --max-request-memory-mb`: requests are bounded in bytes as well as in count. A
// request held in a batcher's queue keeps its bytes; one arriving meanwhile that would pass the
// budget gets RESOURCE_EXHAUSTED at once (and succeeds once the first is answered); an HTTP JSON
// body whose parse alone would pass the whole budget is told it can never fit (400, not a
// retryable 429). The server stays up throughout.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <chrono>
#include <future>
#include <string>

#include "server_process.h"
#include "support/http_tools.h"

namespace seam {
namespace {

using testing::ServerProcess;
using testing::TestRepository;
using Stub = inference::GRPCInferenceService::Stub;

// y = Relu(x), x float [N, M] (both dynamic): a model whose input can be any size.
// GCC 12 reports a false -Wrestrict in protobuf's inlined string setters here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wrestrict"
std::string ReluModel() {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("relu");
  onnx::NodeProto* node = graph->add_node();
  node->set_op_type("Relu");
  node->set_name("relu");
  node->add_input("x");
  node->add_output("y");
  graph->add_input()->set_name("x");
  graph->add_output()->set_name("y");
  for (auto* value : {graph->mutable_input(0), graph->mutable_output(0)}) {
    auto* tensor = value->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(onnx::TensorProto::FLOAT);
    tensor->mutable_shape()->add_dim()->set_dim_param("N");
    tensor->mutable_shape()->add_dim()->set_dim_param("M");
  }
  return model.SerializeAsString();
}
#pragma GCC diagnostic pop

// One request of `floats` values, -1, 0, 1, ... so that Relu changes some.
inference::ModelInferRequest Request(int64_t floats) {
  Tensor x = Tensor::Zeros(DType::kFloat32, {1, floats});
  float* v = x.data_as<float>();
  for (int64_t i = 0; i < floats; ++i) v[i] = static_cast<float>(i % 3) - 1.0f;
  return testing::RawInferRequest("relu", {{"x", std::move(x)}});
}

// A stub that takes answers as large as the server sends (gRPC's client default is 4 MB).
std::unique_ptr<Stub> LargeStub(const ServerProcess& server) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return inference::GRPCInferenceService::NewStub(
      grpc::CreateCustomChannel(server.address(), grpc::InsecureChannelCredentials(), args));
}

grpc::Status Infer(Stub& stub, const inference::ModelInferRequest& request,
                   inference::ModelInferResponse* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return stub.ModelInfer(&context, request, response);
}

class ServerMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.AddVersionBytes("relu", 1, ReluModel());
    // Requests wait up to 3 s in the batcher for company: the first one is held that long.
    repo_.WriteConfig("relu", R"({"max_batch_size": 4,
        "dynamic_batching": {"preferred_batch_size": [4], "max_queue_delay_us": 3000000}})");
    std::string error;
    server_ = ServerProcess::Start(
        {"--repo", repo_.root(), "--log-level", "warn", "--max-request-memory-mb", "130"}, &error);
    ASSERT_TRUE(server_) << error;
  }
  TestRepository repo_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerMemoryTest, ARequestThatWouldPassTheBudgetIsRefusedAndTheHeldOneAnswered) {
  constexpr int64_t kFloats = 10'000'000;  // 40 MB: held twice, 80 of the 130 MB
  auto held_stub = LargeStub(*server_);
  auto held = std::async(std::launch::async, [&] {
    inference::ModelInferResponse response;
    const grpc::Status status = Infer(*held_stub, Request(kFloats), &response);
    return std::make_pair(status, response);
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the first one waits in the batcher
  auto stub = LargeStub(*server_);
  inference::ModelInferResponse refused;
  const grpc::Status second = Infer(*stub, Request(kFloats), &refused);
  EXPECT_EQ(second.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << second.error_message();
  EXPECT_NE(second.error_message().find("needs 80.0 MB and the server already holds 80.0 MB"),
            std::string::npos)
      << second.error_message();
  EXPECT_NE(second.error_message().find("retry later"), std::string::npos);

  auto [status, response] = held.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  const TensorMap outputs = testing::ResponseTensors(response);
  ASSERT_EQ(outputs.at("y").byte_size(), static_cast<size_t>(kFloats) * 4);
  const float* y = outputs.at("y").data_as<float>();
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[2], 1.0f);

  // Answered, it holds nothing: the same request now fits.
  inference::ModelInferResponse again;
  EXPECT_TRUE(Infer(*stub, Request(kFloats), &again).ok());
}

TEST_F(ServerMemoryTest, AJsonBodyWhoseParseCanNeverFitIsToldSoAndASmallOneIsAnswered) {
  if (testing::FindProgram("curl").empty()) GTEST_SKIP() << "curl is not installed";
  // 9 MB of JSON: its tree may take 16x that, more than the whole 130 MB budget.
  std::string body = R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4500000],
      "data": [)";
  body.reserve(9'100'000);
  for (int i = 0; i < 4'500'000; ++i) {
    if (i) body += ',';
    body += '0';
  }
  body += "]}]}";
  const auto url = server_->http_url() + "/v2/models/relu/infer";
  const auto refused = testing::Curl(url, {}, body);
  EXPECT_EQ(refused.status, 400) << refused.body << refused.curl_error;
  EXPECT_NE(refused.body.find("a JSON request body of 9.0 MB (parsing takes up to 16x that) needs "
                              "144.0 MB, more than the server holds for all requests at once"),
            std::string::npos)
      << refused.body;
  // A small one is parsed and answered.
  const auto small = testing::Curl(
      url, {},
      R"({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3], "data": [-1, 0, 2]}]})");
  EXPECT_EQ(small.status, 200) << small.body << small.curl_error;
  EXPECT_NE(small.body.find("\"data\":[0.0,0.0,2.0]"), std::string::npos) << small.body;
  auto stub = server_->NewStub();
  grpc::ClientContext context;
  inference::ServerLiveResponse live;
  EXPECT_TRUE(stub->ServerLive(&context, {}, &live).ok());
}

}  // namespace
}  // namespace seam
