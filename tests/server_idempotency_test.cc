// Idempotency keys at the server (oip/idempotency.h, server/idempotency_store.h): a request that
// carries a key runs once; its repeats get the stored answer, marked replayed, and are counted in
// seam_inference_replays_total, also after the server was killed and restarted on the same
// --idempotency-db. `seam serve` on 127.0.0.1.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include "oip/idempotency.h"
#include "server_process.h"
#include "support/http_tools.h"

namespace seam {
namespace {

using testing::MetricValue;
using testing::Reference;
using testing::ServerProcess;
using testing::TestRepository;

class ServerIdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::FindProgram("curl").empty()) GTEST_SKIP() << "curl is not installed";
    repo_.AddVersion("cnn", 1, testing::BundledModelPath("cnn_chain.onnx"));
    repo_.AddVersion("other", 1, testing::BundledModelPath("cnn_chain.onnx"));
    db_ = scratch_.root() + "/keys.db";
    Start();
  }
  void Start() {
    std::string error;
    server_ = ServerProcess::Start(
        {"--repo", repo_.root(), "--log-level", "error", "--idempotency-db", db_}, &error);
    ASSERT_TRUE(server_) << error;
    stub_ = server_->NewStub();
  }
  double Metric(const char* name, const std::map<std::string, std::string>& labels) {
    const auto page = testing::Curl(server_->http_url() + "/metrics").body;
    return MetricValue(page, name, labels);
  }
  grpc::Status Infer(const inference::ModelInferRequest& request,
                     inference::ModelInferResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return stub_->ModelInfer(&context, request, response);
  }

  TestRepository repo_, scratch_;
  std::string db_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  Reference cnn_{testing::BundledModelPath("cnn_chain.onnx")};
};

TEST_F(ServerIdempotencyTest, AKeyedRequestRunsOnceAndItsRepeatsAreReplayed) {
  auto request = testing::RawInferRequest("cnn", cnn_.Inputs(1, 1));
  oip::SetIdempotencyKey("site-7/item-1", &request);
  request.set_id("first");
  inference::ModelInferResponse first, second;
  ASSERT_TRUE(Infer(request, &first).ok());
  EXPECT_FALSE(oip::WasReplayed(first));
  request.set_id("second");
  ASSERT_TRUE(Infer(request, &second).ok());
  EXPECT_TRUE(oip::WasReplayed(second));
  EXPECT_EQ(second.id(), "second");
  ASSERT_EQ(second.raw_output_contents_size(), first.raw_output_contents_size());
  for (int i = 0; i < first.raw_output_contents_size(); ++i) {
    EXPECT_EQ(second.raw_output_contents(i), first.raw_output_contents(i));
  }
  // Ran once: one success from the scheduler, one replay.
  const std::map<std::string, std::string> cnn = {{"model", "cnn"}, {"version", "1"}};
  EXPECT_EQ(Metric("seam_inference_replays_total", cnn), 1);
  auto success = cnn;
  success["outcome"] = "success";
  EXPECT_EQ(Metric("seam_inference_requests_total", success), 1);

  // Killed and restarted on the same file: still replayed, not run.
  ASSERT_EQ(::kill(server_->pid(), SIGKILL), 0);
  server_.reset();
  Start();
  inference::ModelInferResponse third;
  ASSERT_TRUE(Infer(request, &third).ok());
  EXPECT_TRUE(oip::WasReplayed(third));
  EXPECT_EQ(Metric("seam_inference_requests_total", success), 0);  // a new process: ran nothing

  // Without a key, every request runs.
  auto plain = testing::RawInferRequest("cnn", cnn_.Inputs(1, 1));
  inference::ModelInferResponse unkeyed;
  ASSERT_TRUE(Infer(plain, &unkeyed).ok());
  EXPECT_FALSE(oip::WasReplayed(unkeyed));
}

TEST_F(ServerIdempotencyTest, AMalformedOrReusedKeyIsTheCallersErrorNamed) {
  auto request = testing::RawInferRequest("cnn", cnn_.Inputs(1, 1));
  inference::ModelInferResponse response;
  (*request.mutable_parameters())[oip::kIdempotencyKeyParameter].set_int64_param(7);
  grpc::Status bad = Infer(request, &response);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find(oip::kIdempotencyKeyParameter), std::string::npos);
  oip::SetIdempotencyKey(std::string(300, 'k'), &request);
  EXPECT_EQ(Infer(request, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  oip::SetIdempotencyKey("item-9", &request);
  ASSERT_TRUE(Infer(request, &response).ok());
  // The same key on other inputs is not a repeat: refused, not answered with the stored answer.
  auto other_inputs = testing::RawInferRequest("cnn", cnn_.Inputs(2, 1));
  oip::SetIdempotencyKey("item-9", &other_inputs);
  const grpc::Status changed = Infer(other_inputs, &response);
  EXPECT_EQ(changed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(changed.error_message().find("different request"), std::string::npos)
      << changed.error_message();
  request.set_model_name("other");
  const grpc::Status reused = Infer(request, &response);
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(reused.error_message().find("already used for model 'cnn'"), std::string::npos)
      << reused.error_message();
}

}  // namespace
}  // namespace seam
