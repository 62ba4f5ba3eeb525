// A tier that only relays forwards coded tensors bitwise untouched, both ways: a real `seam serve`
// edge whose stage runs nothing sits between this test (the device) and a capturing OIP server
// (the cloud). The payloads are zstd level 19 frames declared as "fp16+zstd" (level 1): valid,
// but an edge that decoded and encoded them again would send level-1 frames, other bytes.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <inference.grpc.pb.h>

#include <fstream>
#include <mutex>

#include "common/file_util.h"
#include "oip/infer_codec.h"
#include "pipeline/stage_spec.h"
#include "tests/server_process.h"
#include "transport/payload.h"

namespace seam::testing {
namespace {

constexpr char kLinkCodec[] = "fp16+zstd";
constexpr int64_t kElements = 4096;

Tensor Ramp(float start) {
  Tensor t{DType::kFloat32, {1, kElements}, {}};
  t.data.resize(kElements * 4);
  for (int64_t i = 0; i < kElements; ++i) t.data_as<float>()[i] = start + 0.25f * (i % 97);
  return t;
}

// The same tensor as the link's codec, but compressed at level 19 (see above).
std::string Level19Payload(const Tensor& t) {
  auto bytes = transport::EncodePayload(t, "fp16+zstd:19");
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto plain = transport::EncodePayload(t, kLinkCodec);
  EXPECT_NE(*bytes, *plain) << "the test needs bytes that a re-encoding would change";
  return *bytes;
}

// The cloud: records what arrives and answers output 'y' with fixed coded bytes.
class CaptureService final : public inference::GRPCInferenceService::Service {
 public:
  explicit CaptureService(std::string answer) : answer_(std::move(answer)) {}

  grpc::Status ModelReady(grpc::ServerContext*, const inference::ModelReadyRequest*,
                          inference::ModelReadyResponse* response) override {
    response->set_ready(true);
    return grpc::Status::OK;
  }
  grpc::Status ModelStreamInfer(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<inference::ModelStreamInferResponse, inference::ModelInferRequest>*
          stream) override {
    inference::ModelInferRequest request;
    while (stream->Read(&request)) {
      {
        std::lock_guard lock(mu_);
        received_.push_back(request);
      }
      inference::ModelStreamInferResponse out;
      auto* answer = out.mutable_infer_response();
      answer->set_id(request.id());
      answer->set_model_name(request.model_name());
      auto* y = answer->add_outputs();
      y->set_name("y");
      y->set_datatype("FP32");
      y->add_shape(1);
      y->add_shape(kElements);
      (*y->mutable_parameters())["seam_codec"].set_string_param(kLinkCodec);
      answer->add_raw_output_contents(answer_);
      stream->Write(out);
    }
    return grpc::Status::OK;
  }
  std::vector<inference::ModelInferRequest> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  const std::string answer_;
  std::mutex mu_;
  std::vector<inference::ModelInferRequest> received_;
};

// REPO/relay/1/stage.json: the edge runs nothing, x goes up and y comes down in kLinkCodec.
void WriteRelayStage(TestRepository& repo, const std::string& cloud_address) {
  pipeline::StageTensor x{"x", DType::kFloat32, {1, kElements}, kLinkCodec};
  pipeline::StageTensor y{"y", DType::kFloat32, {1, kElements}, kLinkCodec};
  pipeline::StageSpec spec;
  spec.plan_id = "relay-test";
  spec.model_sha256 = std::string(64, '0');
  spec.tier = "edge";
  spec.tier_index = 1;
  spec.inputs = {x};
  spec.outputs = {y};
  spec.next = pipeline::NextHop{"cloud", cloud_address, "relay-cloud", 1, {x}, {y}};
  std::filesystem::create_directories(repo.root() + "/relay/1");
  ASSERT_TRUE(
      WriteFileAtomic(repo.root() + "/relay/1/stage.json", pipeline::StageToJson(spec).dump(2))
          .ok());
  repo.WriteConfig("relay", R"({"name": "relay", "platform": "seam_stage"})");
}

TEST(RelayPassThroughTest, ARelayingTierForwardsCodedBytesUntouched) {
  const std::string down = Level19Payload(Ramp(-3));
  CaptureService cloud(down);
  int cloud_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &cloud_port);
  builder.RegisterService(&cloud);
  std::unique_ptr<grpc::Server> cloud_server = builder.BuildAndStart();
  ASSERT_GT(cloud_port, 0);

  TestRepository repo;
  WriteRelayStage(repo, "127.0.0.1:" + std::to_string(cloud_port));
  std::string error;
  auto edge = ServerProcess::Start({"--repo", repo.root()}, &error);
  ASSERT_NE(edge, nullptr) << error;
  auto stub = edge->NewStub();

  const std::string up = Level19Payload(Ramp(1));
  for (const char* wanted : {kLinkCodec, "identity"}) {
    SCOPED_TRACE(wanted);
    inference::ModelInferRequest request;
    request.set_model_name("relay");
    oip::AddCodedInput("x", {DType::kFloat32, {1, kElements}, kLinkCodec, up}, &request);
    oip::AddRequestedOutput("y", wanted, &request);
    inference::ModelInferResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Status status = stub->ModelInfer(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();

    // Up: the cloud got the very bytes the device sent.
    auto received = cloud.received();
    ASSERT_FALSE(received.empty());
    ASSERT_EQ(received.back().raw_input_contents_size(), 1);
    EXPECT_TRUE(received.back().raw_input_contents(0) == up) << "the edge re-encoded x";
    ASSERT_EQ(response.raw_output_contents_size(), 1);
    if (std::string(wanted) == kLinkCodec) {
      // Down, in the codec it came in: the cloud's bytes, untouched.
      EXPECT_TRUE(response.raw_output_contents(0) == down) << "the edge re-encoded y";
    } else {
      // Down in another codec: decoded on the edge, the same values.
      auto got = oip::DecodeInferResponse(response, "edge");
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      auto want = transport::DecodePayload(down, kLinkCodec, DType::kFloat32, {1, kElements}, "y");
      ASSERT_TRUE(want.ok());
      EXPECT_TRUE(got->outputs.at("y").BitwiseEquals(*want));
    }
  }
  EXPECT_EQ(edge->Stop(), 0);
  cloud_server->Shutdown();
}

}  // namespace
}  // namespace seam::testing
