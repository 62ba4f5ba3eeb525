// HopClient against a tier on loopback that breaks the stream under a request: the request is
// sent once more on a new stream, and the retry is visible to both sides (the retry carries
// seam_attempt = 2 under the same id; the caller learns attempts = 2), so that a tier that may have
// run a request twice is never hidden.
#include "oip/hop_client.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace seam::oip {
namespace {

// Answers every request, except that the first request of the first stream is read and then the
// stream is ended with UNAVAILABLE (as a server that goes away under a request would).
class BreakOnceService final : public inference::GRPCInferenceService::Service {
 public:
  grpc::Status ModelStreamInfer(
      grpc::ServerContext*,
      grpc::ServerReaderWriter<inference::ModelStreamInferResponse, inference::ModelInferRequest>*
          stream) override {
    inference::ModelInferRequest request;
    while (stream->Read(&request)) {
      bool break_now = false;
      {
        std::lock_guard lock(mu_);
        received_.push_back(request);
        break_now = !broken_;
        broken_ = true;
      }
      if (break_now) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "going away");
      inference::ModelStreamInferResponse out;
      out.mutable_infer_response()->set_id(request.id());
      out.mutable_infer_response()->set_model_name(request.model_name());
      stream->Write(out);
    }
    return grpc::Status::OK;
  }
  std::vector<inference::ModelInferRequest> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  std::mutex mu_;
  bool broken_ = false;
  std::vector<inference::ModelInferRequest> received_;
};

const inference::InferParameter* Param(const inference::ModelInferRequest& r, const char* name) {
  auto it = r.parameters().find(name);
  return it == r.parameters().end() ? nullptr : &it->second;
}

TEST(HopClientTest, ARequestRetriedOnANewStreamSaysSoOnBothSides) {
  BreakOnceService service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);

  auto hop = std::make_unique<HopClient>("cloud", "127.0.0.1:" + std::to_string(port));
  inference::ModelInferRequest request;
  request.set_model_name("m");
  int attempts = 0;
  auto answer = hop->Infer(request, {}, nullptr, &attempts);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(attempts, 2);
  const auto received = service.received();
  ASSERT_EQ(received.size(), 2u);
  EXPECT_EQ(received[0].id(), received[1].id()) << "a retry keeps the request's id";
  EXPECT_EQ(Param(received[0], HopClient::kAttemptParameter), nullptr);
  const auto* attempt = Param(received[1], HopClient::kAttemptParameter);
  ASSERT_NE(attempt, nullptr);
  EXPECT_EQ(attempt->int64_param(), 2);

  // The next request goes through on the healthy stream, once.
  answer = hop->Infer(request, {}, nullptr, &attempts);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(service.received().size(), 3u);
  hop.reset();  // closes its stream, which the server's Shutdown would otherwise wait for
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

// Answers every request `delay` after reading it (0: never answers: a black hole), and counts
// the streams clients opened.
class SlowService final : public inference::GRPCInferenceService::Service {
 public:
  explicit SlowService(std::chrono::milliseconds delay) : delay_(delay) {}
  grpc::Status ModelStreamInfer(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<inference::ModelStreamInferResponse, inference::ModelInferRequest>*
          stream) override {
    ++streams_;
    inference::ModelInferRequest request;
    while (stream->Read(&request)) {
      if (delay_.count() == 0) continue;  // swallowed
      std::this_thread::sleep_for(delay_);
      if (context->IsCancelled()) break;
      inference::ModelStreamInferResponse out;
      out.mutable_infer_response()->set_id(request.id());
      stream->Write(out);
    }
    return grpc::Status::OK;
  }
  int streams() const { return streams_.load(); }

 private:
  const std::chrono::milliseconds delay_;
  std::atomic<int> streams_{0};
};

struct Served {
  explicit Served(grpc::Service* service) {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service);
    server = builder.BuildAndStart();
  }
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

Deadline In(int ms) { return std::chrono::steady_clock::now() + std::chrono::milliseconds(ms); }

// Calls whose deadlines are shorter than the link's round trip expire before their answers come
// back, several in a row: that is a slow link, not a black hole, and the stream is kept (redialling
// a slow link on every call kept a recovered tier unreachable for seconds).
TEST(HopClientTest, ShortDeadlinesOnASlowLinkAreNotABlackHole) {
  SlowService service(std::chrono::milliseconds(150));
  Served served(&service);
  ASSERT_NE(served.server, nullptr);
  HopClient hop("cloud", "127.0.0.1:" + std::to_string(served.port));
  inference::ModelInferRequest request;
  request.set_model_name("m");
  ASSERT_TRUE(hop.Infer(request, In(2000)).ok());  // connected, one answer read
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(hop.Infer(request, In(20)).status().code(), StatusCode::kDeadlineExceeded);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(hop.Health().ok()) << hop.Health().ToString();
  auto answer = hop.Infer(request, In(3000));
  EXPECT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(service.streams(), 1) << "the slow link was redialled";
  served.server->Shutdown(std::chrono::system_clock::now());
}

// A link that swallows everything for over kMinSilence is still taken for a black hole.
TEST(HopClientTest, ALinkSilentForASecondIsABlackHole) {
  SlowService service(std::chrono::milliseconds(0));
  Served served(&service);
  ASSERT_NE(served.server, nullptr);
  HopClient hop("cloud", "127.0.0.1:" + std::to_string(served.port));
  inference::ModelInferRequest request;
  request.set_model_name("m");
  const auto start = std::chrono::steady_clock::now();
  while (hop.Health().ok() && std::chrono::steady_clock::now() - start < std::chrono::seconds(5)) {
    EXPECT_EQ(hop.Infer(request, In(50)).status().code(), StatusCode::kDeadlineExceeded);
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(hop.Health().ok());
  EXPECT_GE(took, HopClient::kMinSilence);
  served.server->Shutdown(std::chrono::system_clock::now());
}

}  // namespace
}  // namespace seam::oip
