// Model versions while the server serves: v2 loaded under load without one failed request, a
// broken v3 (garbage, then a sha256 mismatch) refused with the reason while v2 keeps serving,
// unload and load by request, and pick-up by polling.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "common/file_util.h"
#include "server_process.h"

namespace seam {
namespace {

using testing::BitwiseEqual;
using testing::Reference;
using testing::ResponseTensors;
using testing::ServerProcess;
using testing::TestRepository;

class ServerRepositoryTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--repo", repo_.root(), "--log-level", "warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    server_ = ServerProcess::Start(args, &error);
    ASSERT_TRUE(server_) << error;
    stub_ = server_->NewStub();
  }
  grpc::Status Load(const std::string& model) { return testing::LoadModel(*stub_, model); }
  grpc::Status Unload(const std::string& model) { return testing::UnloadModel(*stub_, model); }
  std::vector<std::string> Versions(const std::string& model) {
    return testing::ServedVersions(*stub_, model);
  }
  std::map<std::string, std::pair<std::string, std::string>> Index(const std::string& model) {
    return testing::IndexOf(*stub_, model);
  }

  TestRepository repo_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
  const std::string cnn_file_ = testing::BundledModelPath("cnn_chain.onnx");
  Reference cnn_{cnn_file_};
};

TEST_F(ServerRepositoryTest, NewVersionsUnderLoadBrokenVersionsUnloadAndLoad) {
  repo_.AddVersion("cnn", 1, cnn_file_);
  repo_.WriteConfig("cnn", R"({"max_batch_size": 8})");
  Start();
  const TensorMap inputs = cnn_.Inputs(3, 2);
  const TensorMap expected = cnn_.Run(inputs);

  // Clients loop without naming a version for the whole test, until unload.
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::mutex versions_mu;
  std::set<std::string> versions_seen;
  std::vector<std::thread> clients;
  for (int c = 0; c < 2; ++c) {
    clients.emplace_back([&] {
      auto stub = server_->NewStub();
      while (!stop) {
        grpc::ClientContext context;
        inference::ModelInferResponse response;
        auto status =
            stub->ModelInfer(&context, testing::RawInferRequest("cnn", inputs), &response);
        if (status.ok() && BitwiseEqual(expected, ResponseTensors(response))) {
          ++ok;
          std::lock_guard lock(versions_mu);
          versions_seen.insert(response.model_version());
        } else {
          ++failed;
          ADD_FAILURE() << status.error_message();
        }
      }
    });
  }
  auto wait_for_requests = [&](int n) {
    const int target = ok + n;
    while (ok < target && failed == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  wait_for_requests(20);

  // v2 appears and is loaded by request: v1 keeps serving until v2 is ready, then goes.
  repo_.AddVersion("cnn", 2, cnn_file_);
  ASSERT_TRUE(Load("cnn").ok());
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"2"}));
  EXPECT_EQ(Index("cnn")["1"].first, "UNAVAILABLE");
  EXPECT_EQ(Index("cnn")["1"].second, "unloaded: not selected by the version policy");
  // A request each client sent just before the switch may still be answered by v1: let those
  // finish before counting which versions answer.
  wait_for_requests(10);
  {
    std::lock_guard lock(versions_mu);
    versions_seen.clear();
  }
  wait_for_requests(20);
  {
    std::lock_guard lock(versions_mu);
    EXPECT_EQ(versions_seen, (std::set<std::string>{"2"}));
  }

  // A broken v3 (not a model at all): refused with the reason, v2 keeps serving.
  repo_.AddVersionBytes("cnn", 3, "definitely not an ONNX model");
  grpc::Status status = Load("cnn");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  const std::string v3_path = repo_.root() + "/cnn/3/model.onnx";
  EXPECT_NE(status.error_message().find("model 'cnn' failed to load; version 3: ONNX Runtime "
                                        "cannot load '" +
                                        v3_path + "'"),
            std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("(still serving version 2)"), std::string::npos);
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"2"}));
  EXPECT_EQ(Index("cnn")["3"].first, "UNAVAILABLE");
  EXPECT_EQ(Index("cnn")["3"].second.rfind("load failed: ONNX Runtime cannot load", 0), 0u);
  wait_for_requests(20);

  // A v3 that is a model, but not the one the config's sha256 names: refused, v2 serves.
  repo_.AddVersion("cnn", 3, cnn_file_);
  const std::string wrong_sha(64, 'a');
  repo_.WriteConfig(
      "cnn", R"({"max_batch_size": 8, "versions": {"3": {"sha256": ")" + wrong_sha + R"("}}})");
  status = Load("cnn");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::DATA_LOSS);
  const std::string actual_sha = Sha256Hex(*ReadFile(cnn_file_));
  EXPECT_EQ(status.error_message(), "model 'cnn' failed to load; version 3: " + v3_path +
                                        ": sha256 is " + actual_sha + " but " + repo_.root() +
                                        "/cnn/config.json expects " + wrong_sha +
                                        "; refusing to load it (still serving version 2)");
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"2"}));
  wait_for_requests(20);

  // The right sha256: v3 loads and takes over.
  repo_.WriteConfig(
      "cnn", R"({"max_batch_size": 8, "versions": {"3": {"sha256": ")" + actual_sha + R"("}}})");
  ASSERT_TRUE(Load("cnn").ok());
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"3"}));
  wait_for_requests(20);
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);

  // Unload: not ready, inference UNAVAILABLE, and a later Load brings it back.
  ASSERT_TRUE(Unload("cnn").ok());
  {
    grpc::ClientContext context;
    inference::ModelReadyRequest request;
    request.set_name("cnn");
    inference::ModelReadyResponse ready;
    ASSERT_TRUE(stub_->ModelReady(&context, request, &ready).ok());
    EXPECT_FALSE(ready.ready());
  }
  {
    grpc::ClientContext context;
    inference::ModelInferResponse response;
    status = stub_->ModelInfer(&context, testing::RawInferRequest("cnn", inputs), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(status.error_message(), "model 'cnn' is not ready: it was unloaded by request");
  }
  EXPECT_EQ(Unload("nope").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Load("nope").error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Load("cnn").ok());
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"3"}));
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerRepositoryTest, PollingPicksUpNewVersionsAndKeepsServingThroughBadOnes) {
  repo_.AddVersion("cnn", 1, cnn_file_);
  Start({"--repo-poll-s", "1"});
  auto wait_for_versions = [&](const std::vector<std::string>& want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (Versions("cnn") != want && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return Versions("cnn");
  };
  repo_.AddVersion("cnn", 2, cnn_file_);
  EXPECT_EQ(wait_for_versions({"2"}), (std::vector<std::string>{"2"}));
  // A broken config: the model keeps serving v2, and the index says why nothing changed.
  repo_.WriteConfig("cnn", R"({"instance_count": 0})");
  repo_.AddVersion("cnn", 3, cnn_file_);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"2"}));
  // Fixed: v3 comes.
  repo_.WriteConfig("cnn", R"({"instance_count": 1})");
  EXPECT_EQ(wait_for_versions({"3"}), (std::vector<std::string>{"3"}));
  EXPECT_EQ(server_->Stop(), 0);
}

TEST_F(ServerRepositoryTest, ABrokenModelDoesNotStopTheOthers) {
  repo_.AddVersion("cnn", 1, cnn_file_);
  repo_.AddVersionBytes("broken", 1, "garbage");
  repo_.WriteConfig("typo", R"({"max_batch": 1})");
  repo_.AddVersion("typo", 1, cnn_file_);
  Start();
  EXPECT_EQ(Versions("cnn"), (std::vector<std::string>{"1"}));
  auto broken = Index("broken");
  EXPECT_EQ(broken["1"].first, "UNAVAILABLE");
  EXPECT_EQ(broken["1"].second.rfind("load failed: ONNX Runtime cannot load", 0), 0u);
  auto typo = Index("typo");
  EXPECT_EQ(typo[""].first, "UNAVAILABLE");
  EXPECT_EQ(typo[""].second, repo_.root() +
                                 "/typo/config.json: 'max_batch': unknown field (known: "
                                 "dynamic_batching, inputs, instance_count, intra_op_threads, "
                                 "max_batch_size, name, outputs, platform, version_policy, "
                                 "versions)");
  // Strict readiness, as Triton: the server is not ready while a model of its repository is not.
  grpc::ClientContext context;
  inference::ServerReadyResponse ready;
  ASSERT_TRUE(stub_->ServerReady(&context, {}, &ready).ok());
  EXPECT_FALSE(ready.ready());
  EXPECT_EQ(server_->Stop(), 0);
}

}  // namespace
}  // namespace seam
