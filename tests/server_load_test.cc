// The server under concurrent load and at shutdown: many clients at once each get exactly one
// correct answer per request; SIGTERM answers every request in flight, then exits 0.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "graph/test_models.h"
#include "server_process.h"

namespace seam {
namespace {

using testing::BitwiseEqual;
using testing::Reference;
using testing::ResponseTensors;
using testing::ServerProcess;
using testing::TestRepository;

class ServerLoadTest : public ::testing::Test {
 protected:
  void Start(const std::string& config, std::vector<std::string> extra = {}) {
    repo_.AddVersion("cnn", 1, testing::BundledModelPath("cnn_chain.onnx"));
    repo_.WriteConfig("cnn", config);
    std::vector<std::string> args = {"--repo", repo_.root()};
    args.insert(args.end(), extra.begin(), extra.end());
    if (std::find(args.begin(), args.end(), "--log-level") == args.end()) {
      args.insert(args.end(), {"--log-level", "warn"});
    }
    std::string error;
    server_ = ServerProcess::Start(args, &error);
    ASSERT_TRUE(server_) << error;
  }
  TestRepository repo_;
  std::unique_ptr<ServerProcess> server_;
  Reference cnn_{testing::BundledModelPath("cnn_chain.onnx")};
};

TEST_F(ServerLoadTest, ConcurrentClientsEachGetExactlyTheirAnswers) {
  Start(R"({"max_batch_size": 4, "instance_count": 2})", {"--infer-threads", "4"});
  constexpr int kUnaryClients = 6, kStreamClients = 2, kRequests = 25;
  constexpr int kClients = kUnaryClients + kStreamClients;
  // Every request distinct (seed), batch 1..4; the expected answers computed in process first.
  std::vector<std::vector<TensorMap>> inputs(kClients), expected(kClients);
  for (int c = 0; c < kClients; ++c) {
    for (int r = 0; r < kRequests; ++r) {
      inputs[c].push_back(cnn_.Inputs(c * 1000 + r, 1 + (c + r) % 4));
      expected[c].push_back(cnn_.Run(inputs[c].back()));
    }
  }
  std::atomic<int> correct{0}, wrong{0}, failed{0}, duplicated{0};
  auto unary_client = [&](int c) {
    auto stub = server_->NewStub();
    for (int r = 0; r < kRequests; ++r) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      inference::ModelInferResponse response;
      const std::string id = std::to_string(c) + "/" + std::to_string(r);
      auto status =
          stub->ModelInfer(&context, testing::RawInferRequest("cnn", inputs[c][r], id), &response);
      if (!status.ok()) {
        ++failed;
        ADD_FAILURE() << id << ": " << status.error_message();
      } else if (response.id() == id && BitwiseEqual(expected[c][r], ResponseTensors(response))) {
        ++correct;
      } else {
        ++wrong;
      }
    }
  };
  auto stream_client = [&](int c) {
    auto stub = server_->NewStub();
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = stub->ModelStreamInfer(&context);
    std::thread writer([&] {
      for (int r = 0; r < kRequests; ++r) {
        stream->Write(testing::RawInferRequest("cnn", inputs[c][r], std::to_string(r)));
      }
      stream->WritesDone();
    });
    std::vector<int> seen(kRequests, 0);
    inference::ModelStreamInferResponse response;
    while (stream->Read(&response)) {
      const int r = std::stoi(response.infer_response().id());
      if (r < 0 || r >= kRequests) {
        ++wrong;
      } else if (++seen[r] > 1) {
        ++duplicated;
      } else if (!response.error_message().empty()) {
        ++failed;
        ADD_FAILURE() << response.error_message();
      } else if (BitwiseEqual(expected[c][r], ResponseTensors(response.infer_response()))) {
        ++correct;
      } else {
        ++wrong;
      }
    }
    writer.join();
    EXPECT_TRUE(stream->Finish().ok());
    for (int r = 0; r < kRequests; ++r) EXPECT_EQ(seen[r], 1) << "stream " << c << " request " << r;
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < kUnaryClients; ++c) clients.emplace_back(unary_client, c);
  for (int c = kUnaryClients; c < kClients; ++c) clients.emplace_back(stream_client, c);
  for (auto& t : clients) t.join();
  EXPECT_EQ(correct.load(), kClients * kRequests);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(duplicated.load(), 0);
  EXPECT_EQ(server_->Stop(), 0);
}

// A model that computes long on a small message: x [N,256] through 100 MatMuls with one 256x256
// weight (13 MFLOPs per row), so requests are received at once and then run for a while.
std::string SlowModelBytes() {
  graph::testing::ModelBuilder b;
  b.Input("x", {-1, 256}).Weight("w", {256, 256}, 1.0f / 256);
  std::string previous = "x";
  for (int i = 0; i < 100; ++i) {
    const std::string y = std::string("y").append(std::to_string(i));
    b.Node("MatMul", {previous, "w"}, {y});
    previous = y;
  }
  b.Node("Identity", {previous}, {"out"}).Output("out", {-1, 256});
  return b.model().SerializeAsString();
}

TEST_F(ServerLoadTest, SigtermAnswersRequestsInFlightThenExitsZero) {
  // One worker: when SIGTERM arrives one request runs and the others wait in the queue; every
  // one of them must still get its correct answer, and the server must exit 0.
  repo_.AddVersionBytes("slow", 1, SlowModelBytes());
  Start(R"({"max_batch_size": 0})", {"--infer-threads", "1", "--log-level", "info"});
  const std::string slow_file = repo_.root() + "/slow/1/model.onnx";
  Reference slow(slow_file);
  constexpr int kRequests = 12;
  const TensorMap inputs = slow.Inputs(77, 512);
  const TensorMap expected = slow.Run(inputs);
  auto stub = server_->NewStub();
  {
    grpc::ClientContext context;  // connect first, so that the requests go out at once
    inference::ServerLiveResponse live;
    ASSERT_TRUE(stub->ServerLive(&context, {}, &live).ok());
  }
  struct Call {
    inference::ModelInferResponse response;
    grpc::Status status;
    std::chrono::steady_clock::time_point answered;
  };
  std::vector<Call> calls(kRequests);
  std::vector<std::thread> clients;
  for (auto& call : calls) {
    clients.emplace_back([&] {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      call.status =
          stub->ModelInfer(&context, testing::RawInferRequest("slow", inputs), &call.response);
      call.answered = std::chrono::steady_clock::now();
    });
  }
  // 512 KiB requests arrive in well under this; the twelve runs take several times longer.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto sigterm = std::chrono::steady_clock::now();
  ::kill(server_->pid(), SIGTERM);
  for (auto& t : clients) t.join();
  int answered_after_sigterm = 0;
  for (const auto& call : calls) {
    ASSERT_TRUE(call.status.ok()) << call.status.error_message();
    EXPECT_TRUE(BitwiseEqual(expected, ResponseTensors(call.response)));
    answered_after_sigterm += call.answered > sigterm;
  }
  EXPECT_GT(answered_after_sigterm, 0) << "the model ran too fast to test draining";
  EXPECT_EQ(server_->Stop(), 0);  // already terminating: waits for its exit code
  // Nothing listens any more.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  inference::ServerLiveResponse live;
  EXPECT_FALSE(stub->ServerLive(&context, {}, &live).ok());
}

}  // namespace
}  // namespace seam
