// `seam serve` as a client sees it: every RPC of proto/inference.proto against a server started on
// 127.0.0.1 with an ephemeral port, the numbers checked bitwise against ONNX Runtime run in
// process; each validation rule answered INVALID_ARGUMENT with its message; SIGTERM exits 0.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "server_process.h"

namespace seam {
namespace {

using testing::BitwiseEqual;
using testing::Reference;
using testing::ResponseTensors;
using testing::ServerProcess;
using testing::TestRepository;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_.AddVersion("cnn", 1, testing::BundledModelPath("cnn_chain.onnx"));
    repo_.WriteConfig("cnn", R"({"max_batch_size": 8, "instance_count": 2})");
    repo_.AddVersion("tiny", 1, testing::BundledModelPath("tiny_golden.onnx"));
  }
  void StartServer(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--repo", repo_.root(), "--log-level", "warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    server_ = ServerProcess::Start(args, &error);
    ASSERT_TRUE(server_) << error;
    stub_ = server_->NewStub();
  }
  grpc::Status Infer(const inference::ModelInferRequest& request,
                     inference::ModelInferResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return stub_->ModelInfer(&context, request, response);
  }
  // Expects INVALID_ARGUMENT (or `code`) with exactly `message`.
  void ExpectRejected(const inference::ModelInferRequest& request, const std::string& message,
                      grpc::StatusCode code = grpc::StatusCode::INVALID_ARGUMENT) {
    inference::ModelInferResponse response;
    const grpc::Status status = Infer(request, &response);
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_EQ(status.error_message(), message);
  }

  TestRepository repo_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  Reference cnn_{testing::BundledModelPath("cnn_chain.onnx")};
};

TEST_F(ServerTest, HealthAndMetadata) {
  StartServer();
  grpc::ClientContext c1, c2, c3;
  inference::ServerLiveResponse live;
  ASSERT_TRUE(stub_->ServerLive(&c1, {}, &live).ok());
  EXPECT_TRUE(live.live());
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&c2, {}, &ready).ok());
  EXPECT_TRUE(ready.ready());
  inference::ServerMetadataResponse server_metadata;
  ASSERT_TRUE(stub_->ServerMetadata(&c3, {}, &server_metadata).ok());
  EXPECT_EQ(server_metadata.name(), "seam");
  EXPECT_EQ(server_metadata.version(), "0.1.0");

  auto model_ready = [&](const std::string& name, const std::string& version) {
    grpc::ClientContext c;
    inference::ModelReadyRequest request;
    request.set_name(name);
    request.set_version(version);
    inference::ModelReadyResponse response;
    EXPECT_TRUE(stub_->ModelReady(&c, request, &response).ok());
    return response.ready();
  };
  EXPECT_TRUE(model_ready("cnn", ""));
  EXPECT_TRUE(model_ready("cnn", "1"));
  EXPECT_FALSE(model_ready("cnn", "2"));
  EXPECT_FALSE(model_ready("nope", ""));

  grpc::ClientContext c4;
  inference::ModelMetadataRequest request;
  request.set_name("cnn");
  inference::ModelMetadataResponse metadata;
  ASSERT_TRUE(stub_->ModelMetadata(&c4, request, &metadata).ok());
  EXPECT_EQ(metadata.name(), "cnn");
  ASSERT_EQ(metadata.versions_size(), 1);
  EXPECT_EQ(metadata.versions(0), "1");
  EXPECT_EQ(metadata.platform(), "onnxruntime_onnx");
  ASSERT_EQ(metadata.inputs_size(), 1);
  EXPECT_EQ(metadata.inputs(0).name(), "image");
  EXPECT_EQ(metadata.inputs(0).datatype(), "FP32");
  EXPECT_EQ(
      std::vector<int64_t>(metadata.inputs(0).shape().begin(), metadata.inputs(0).shape().end()),
      (std::vector<int64_t>{-1, 3, 32, 32}));
  ASSERT_EQ(metadata.outputs_size(), 1);
  EXPECT_EQ(metadata.outputs(0).name(), "probs");

  grpc::ClientContext c5;
  request.set_name("nope");
  grpc::Status status = stub_->ModelMetadata(&c5, request, &metadata);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "model 'nope' is not in the repository");

  grpc::ClientContext c6;
  inference::RepositoryIndexResponse index;
  ASSERT_TRUE(stub_->RepositoryIndex(&c6, {}, &index).ok());
  ASSERT_EQ(index.models_size(), 2);
  EXPECT_EQ(index.models(0).name(), "cnn");
  EXPECT_EQ(index.models(0).version(), "1");
  EXPECT_EQ(index.models(0).state(), "READY");
  EXPECT_EQ(index.models(1).name(), "tiny");
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerTest, InferMatchesOnnxRuntimeBitwise) {
  StartServer();
  for (int64_t batch : {1, 3, 8}) {
    SCOPED_TRACE("batch " + std::to_string(batch));
    const TensorMap inputs = cnn_.Inputs(100 + batch, batch);
    inference::ModelInferResponse response;
    ASSERT_TRUE(Infer(testing::RawInferRequest("cnn", inputs, "req-7"), &response).ok());
    EXPECT_EQ(response.model_name(), "cnn");
    EXPECT_EQ(response.model_version(), "1");
    EXPECT_EQ(response.id(), "req-7");
    EXPECT_TRUE(BitwiseEqual(cnn_.Run(inputs), ResponseTensors(response)));
  }
  // Typed contents instead of raw bytes: the same numbers.
  const TensorMap inputs = cnn_.Inputs(5, 2);
  inference::ModelInferRequest typed = testing::RawInferRequest("cnn", inputs);
  typed.clear_raw_input_contents();
  const Tensor& image = inputs.at("image");
  for (size_t i = 0; i < image.data.size() / 4; ++i) {
    typed.mutable_inputs(0)->mutable_contents()->add_fp32_contents(image.data_as<float>()[i]);
  }
  typed.add_outputs()->set_name("probs");
  inference::ModelInferResponse response;
  ASSERT_TRUE(Infer(typed, &response).ok());
  EXPECT_EQ(response.id(), "");
  EXPECT_TRUE(BitwiseEqual(cnn_.Run(inputs), ResponseTensors(response)));

  // A model with a fixed batch of 1, an explicit version.
  Reference tiny(testing::BundledModelPath("tiny_golden.onnx"));
  const TensorMap tiny_inputs = tiny.Inputs(9, 1);
  inference::ModelInferRequest request = testing::RawInferRequest("tiny", tiny_inputs);
  request.set_model_version("1");
  ASSERT_TRUE(Infer(request, &response).ok());
  EXPECT_TRUE(BitwiseEqual(tiny.Run(tiny_inputs), ResponseTensors(response)));
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerTest, StreamInferAnswersEachRequestOnceAndSurvivesErrors) {
  StartServer();
  grpc::ClientContext context;
  auto stream = stub_->ModelStreamInfer(&context);
  constexpr int kRequests = 12;
  std::map<std::string, TensorMap> expected;
  for (int i = 0; i < kRequests; ++i) {
    const TensorMap inputs = cnn_.Inputs(1000 + i, 1 + i % 4);
    std::string id = "s";
    id += std::to_string(i);
    expected[id] = cnn_.Run(inputs);
    auto request = testing::RawInferRequest("cnn", inputs, id);
    if (i == 5) request.mutable_inputs(0)->set_datatype("FP16");  // one bad request midway
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  inference::ModelStreamInferResponse response;
  std::map<std::string, int> answers;
  while (stream->Read(&response)) {
    const std::string& id = response.infer_response().id();
    ++answers[id];
    if (id == "s5") {
      EXPECT_EQ(response.error_message(),
                "INVALID_ARGUMENT: input 'image': expected datatype FP32, got FP16");
      continue;
    }
    EXPECT_EQ(response.error_message(), "") << id;
    EXPECT_TRUE(BitwiseEqual(expected[id], ResponseTensors(response.infer_response())));
  }
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_EQ(answers.size(), static_cast<size_t>(kRequests));
  for (const auto& [id, count] : answers) EXPECT_EQ(count, 1) << id;
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerTest, EachValidationRuleIsInvalidArgumentWithItsMessage) {
  StartServer();
  const TensorMap inputs = cnn_.Inputs(1, 2);
  const auto good = testing::RawInferRequest("cnn", inputs);
  auto r = good;
  r.mutable_inputs(0)->set_name("img");
  ExpectRejected(r, "input 'img': the model has no such input (it has: image)");
  r = good;
  r.mutable_inputs(0)->set_datatype("INT64");
  ExpectRejected(r, "input 'image': expected datatype FP32, got INT64");
  r = good;
  r.mutable_inputs(0)->set_shape(2, 31);
  ExpectRejected(r, "input 'image': expected shape [-1,3,32,32], got [2,3,31,32]");
  r = good;
  r.mutable_inputs(0)->set_shape(0, 9);
  ExpectRejected(r, "input 'image': batch size 9 exceeds the model's max_batch_size 8");
  r = good;
  r.mutable_raw_input_contents(0)->resize(100);
  ExpectRejected(r,
                 "input 'image': shape [2,3,32,32] of FP32 needs 24576 bytes, "
                 "raw_input_contents[0] has 100");
  r = good;
  r.clear_raw_input_contents();
  for (int i = 0; i < 10; ++i) r.mutable_inputs(0)->mutable_contents()->add_fp32_contents(1.f);
  ExpectRejected(r, "input 'image': shape [2,3,32,32] has 6144 elements, fp32_contents has 10");
  r.mutable_inputs(0)->mutable_contents()->add_int64_contents(1);
  ExpectRejected(r, "input 'image': datatype FP32 takes fp32_contents, got int64_contents");
  r = good;
  r.add_outputs()->set_name("logits");
  ExpectRejected(r, "requested output 'logits': the model has no such output (it has: probs)");
  r = good;
  r.clear_inputs();
  r.clear_raw_input_contents();
  ExpectRejected(r, "input 'image' is missing (the model's inputs: image)");
  r = good;
  r.set_model_name("nope");
  ExpectRejected(r, "model 'nope' is not in the repository", grpc::StatusCode::NOT_FOUND);
  r = good;
  r.set_model_version("7");
  ExpectRejected(r, "model 'cnn' has no version 7", grpc::StatusCode::NOT_FOUND);
  r.set_model_version("latest");
  ExpectRejected(r,
                 "model 'cnn': version 'latest' is not a version number (a positive integer "
                 "without leading zeros)");
  r.set_model_version("01");  // not version 1: a version is named without leading zeros
  ExpectRejected(r,
                 "model 'cnn': version '01' is not a version number (a positive integer without "
                 "leading zeros)");
  r.set_model_version("0");
  ExpectRejected(r,
                 "model 'cnn': version '0' is not a version number (a positive integer without "
                 "leading zeros)");
  // After all that, the server still answers.
  inference::ModelInferResponse response;
  EXPECT_TRUE(Infer(good, &response).ok());
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerTest, MessagesLargerThanTheLimitAreRefused) {
  repo_.WriteConfig("cnn", R"({"max_batch_size": 0})");
  StartServer({"--max-message-mb", "1"});
  inference::ModelInferResponse response;
  // 64 images are 768 KiB: under the limit. 128 are 1.5 MiB: over.
  ASSERT_TRUE(Infer(testing::RawInferRequest("cnn", cnn_.Inputs(1, 64)), &response).ok());
  const grpc::Status status =
      Infer(testing::RawInferRequest("cnn", cnn_.Inputs(1, 128)), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_TRUE(Infer(testing::RawInferRequest("cnn", cnn_.Inputs(1, 1)), &response).ok());
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerTest, BadStartIsOneErrorLine) {
  std::string error;
  auto server = ServerProcess::Start({"--repo", repo_.root() + "/missing"}, &error);
  EXPECT_FALSE(server);
  EXPECT_NE(error.find("exited before listening (status 1)"), std::string::npos) << error;
}

}  // namespace
}  // namespace seam
