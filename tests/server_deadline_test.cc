// Deadlines at the server: a request carries the time it has left (parameter seam_timeout_us, or a
// unary call's gRPC deadline); the server drops one whose deadline passes before it runs, answers
// it DEADLINE_EXCEEDED and counts it in seam_inference_dropped_total, instead of running it for a
// caller that gave up. `seam serve` on 127.0.0.1 with one inference thread, so that a queue forms.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <set>

#include "graph/test_models.h"
#include "oip/deadline.h"
#include "server_process.h"
#include "support/http_tools.h"

namespace seam {
namespace {

using testing::MetricValue;
using testing::Reference;
using testing::ServerProcess;
using testing::TestRepository;

class ServerDeadlineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::FindProgram("curl").empty()) GTEST_SKIP() << "curl is not installed";
    repo_.AddVersion("face", 1, graph::testing::BlazeFaceModel());
    repo_.AddVersion("cnn", 1, testing::BundledModelPath("cnn_chain.onnx"));
    std::string error;
    server_ = ServerProcess::Start(
        {"--repo", repo_.root(), "--log-level", "error", "--infer-threads", "1"}, &error);
    ASSERT_TRUE(server_) << error;
    stub_ = server_->NewStub();
  }
  double Dropped(const std::string& model, const char* reason) {
    const auto page = testing::Curl(server_->http_url() + "/metrics").body;
    return MetricValue(page, "seam_inference_dropped_total",
                       {{"model", model}, {"version", "1"}, {"reason", reason}});
  }

  TestRepository repo_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  Reference cnn_{testing::BundledModelPath("cnn_chain.onnx")};
};

TEST_F(ServerDeadlineTest, ARequestWithNoTimeLeftIsAnsweredAtOnceUnrun) {
  auto request = testing::RawInferRequest("cnn", cnn_.Inputs(1, 1));
  (*request.mutable_parameters())[oip::kTimeoutParameter].set_int64_param(0);
  grpc::ClientContext context;
  inference::ModelInferResponse response;
  const grpc::Status status = stub_->ModelInfer(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << status.error_message();
  EXPECT_NE(status.error_message().find("dropped unrun"), std::string::npos);
  EXPECT_EQ(Dropped("cnn", "deadline"), 1);

  // A malformed timeout is the caller's error, named.
  (*request.mutable_parameters())[oip::kTimeoutParameter].set_string_param("soon");
  grpc::ClientContext again;
  const grpc::Status bad = stub_->ModelInfer(&again, request, &response);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find(oip::kTimeoutParameter), std::string::npos);

  // Time left: it runs.
  (*request.mutable_parameters())[oip::kTimeoutParameter].set_int64_param(10'000'000);
  grpc::ClientContext ok;
  EXPECT_TRUE(stub_->ModelInfer(&ok, request, &response).ok());
  EXPECT_EQ(server_->Stop(), 0);
}

// 30 BlazeFace requests at once on one stream, each with 40 ms to live, on one inference thread
// (a run takes several ms): the first few run, the rest expire in the queue and are dropped unrun.
// Every request is answered exactly once, and the metrics count exactly the dropped ones.
TEST_F(ServerDeadlineTest, QueuedRequestsWhoseCallerGaveUpAreDroppedAndCounted) {
  Reference face(graph::testing::BlazeFaceModel());
  const TensorMap inputs = face.Inputs(3, 1);
  grpc::ClientContext context;
  auto stream = stub_->ModelStreamInfer(&context);
  constexpr int kRequests = 30;
  for (int i = 0; i < kRequests; ++i) {
    const std::string id = std::to_string(i);  // ("r" + to_string trips GCC 12's -Wrestrict)
    auto request = testing::RawInferRequest("face", inputs, id);
    (*request.mutable_parameters())[oip::kTimeoutParameter].set_int64_param(40'000);
    ASSERT_TRUE(stream->Write(request));
  }
  stream->WritesDone();
  int ok = 0, expired = 0, other = 0;
  std::set<std::string> ids;
  inference::ModelStreamInferResponse answer;
  while (stream->Read(&answer)) {
    ids.insert(answer.infer_response().id());
    if (answer.error_message().empty()) {
      ++ok;
    } else if (answer.error_message().rfind("DEADLINE_EXCEEDED:", 0) == 0) {
      ++expired;
    } else {
      ++other;
      ADD_FAILURE() << answer.error_message();
    }
  }
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRequests));
  EXPECT_EQ(ok + expired, kRequests);
  EXPECT_GE(ok, 1);
  EXPECT_GE(expired, kRequests / 2) << ok << " ran";
  EXPECT_EQ(Dropped("face", "deadline"), expired);
  EXPECT_EQ(server_->Stop(), 0);
}

}  // namespace
}  // namespace seam
