// Dynamic batching as a client of `seam serve` sees it: concurrent requests are answered in
// merged batches (the server's `event=batch` log lines report their rows) and every answer is
// bitwise the answer of the request run alone in ONNX Runtime; a full queue answers UNAVAILABLE;
// SIGTERM answers the requests waiting in a batcher's queue, then exits 0; a new version takes
// over under load and the old version's batcher is drained once the repository stops routing to it.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <barrier>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "server_process.h"

namespace seam {
namespace {

using testing::BitwiseEqual;
using testing::Reference;
using testing::ResponseTensors;
using testing::ServerProcess;
using testing::TestRepository;

class ServerBatchingTest : public ::testing::Test {
 protected:
  void Start(const std::string& config) {
    repo_.AddVersion("cnn", 1, testing::BundledModelPath("cnn_chain.onnx"));
    repo_.WriteConfig("cnn", config);
    std::string error;
    server_ = ServerProcess::Start({"--repo", repo_.root(), "--log-level", "debug"}, &error,
                                   std::chrono::seconds(20), log_path_);
    ASSERT_TRUE(server_) << error;
  }
  // rows -> number of batches, from the `event=batch model=cnn ...` log lines.
  std::map<int64_t, int> BatchRows() const {
    std::ifstream in(log_path_);
    std::string line;
    std::map<int64_t, int> rows;
    const std::regex batch(R"(event=batch model=cnn version=1 rows=(\d+) requests=\d+ .*ok=true)");
    std::smatch m;
    while (std::getline(in, line)) {
      if (std::regex_search(line, m, batch)) ++rows[std::stoll(m[1])];
    }
    return rows;
  }
  grpc::Status Infer(inference::GRPCInferenceService::Stub& stub, const TensorMap& inputs,
                     inference::ModelInferResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub.ModelInfer(&context, testing::RawInferRequest("cnn", inputs), response);
  }

  TestRepository repo_;
  const std::string log_path_ = repo_.root() + ".log";  // the server's stderr
  std::unique_ptr<ServerProcess> server_;
  Reference cnn_{testing::BundledModelPath("cnn_chain.onnx")};

  void TearDown() override { std::filesystem::remove(log_path_); }
};

TEST_F(ServerBatchingTest, ConcurrentRequestsRunInMergedBatchesWithTheSingleRequestAnswers) {
  Start(R"({"max_batch_size": 8, "instance_count": 1,
            "dynamic_batching": {"preferred_batch_size": [4, 8], "max_queue_delay_us": 5000}})");
  constexpr int kClients = 16, kRequests = 12;
  std::vector<std::vector<TensorMap>> inputs(kClients), expected(kClients);
  int64_t total_rows = 0;
  for (int c = 0; c < kClients; ++c) {
    for (int r = 0; r < kRequests; ++r) {
      const int64_t batch = 1 + (c * kRequests + r) % 3;
      inputs[c].push_back(cnn_.Inputs(c * 1000 + r, batch));
      expected[c].push_back(cnn_.Run(inputs[c].back()));  // alone, in process
      total_rows += batch;
    }
  }
  std::barrier start(kClients);
  std::atomic<int> correct{0}, failed{0}, wrong{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = server_->NewStub();
      start.arrive_and_wait();
      for (int r = 0; r < kRequests; ++r) {
        inference::ModelInferResponse response;
        const grpc::Status status = Infer(*stub, inputs[c][r], &response);
        if (!status.ok()) {
          ++failed;
          ADD_FAILURE() << status.error_message();
        } else if (BitwiseEqual(expected[c][r], ResponseTensors(response))) {
          ++correct;
        } else {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(correct.load(), kClients * kRequests);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  ASSERT_EQ(server_->Stop(), 0);  // flushes the log

  const std::map<int64_t, int> rows = BatchRows();
  int64_t logged_rows = 0, batches = 0;
  std::ostringstream histogram;
  for (const auto& [size, count] : rows) {
    logged_rows += size * count;
    batches += count;
    histogram << size << ":" << count << " ";
  }
  RecordProperty("batch_rows", histogram.str());  // rows:count, in the XML report
  ASSERT_FALSE(rows.empty()) << "no event=batch line in " << log_path_;
  EXPECT_EQ(logged_rows, total_rows) << "batches (rows:count): " << histogram.str();
  EXPECT_GT(rows.rbegin()->first, 3) << "no batch merged requests: " << histogram.str();
  EXPECT_LT(batches, kClients * kRequests / 2) << histogram.str();
}

TEST_F(ServerBatchingTest, FullQueueAnswersUnavailable) {
  // Two requests fill the queue and wait 2 s for company; a third is refused at once.
  Start(R"({"max_batch_size": 8, "instance_count": 1,
            "dynamic_batching": {"preferred_batch_size": [8], "max_queue_delay_us": 2000000,
                                 "max_queue_size": 2}})");
  auto stub = server_->NewStub();
  std::vector<TensorMap> inputs = {cnn_.Inputs(1, 1), cnn_.Inputs(2, 2)};
  std::vector<inference::ModelInferResponse> responses(2);
  std::vector<grpc::Status> statuses(2);
  std::vector<std::thread> waiting;
  for (int i = 0; i < 2; ++i) {
    waiting.emplace_back([&, i] { statuses[i] = Infer(*stub, inputs[i], &responses[i]); });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(400));  // both are queued by now

  inference::ModelInferResponse refused;
  const auto sent = std::chrono::steady_clock::now();
  const grpc::Status status = Infer(*stub, cnn_.Inputs(3, 1), &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_EQ(status.error_message(), "queue of model 'cnn' is full (2 requests)");
  EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::milliseconds(1000));

  for (auto& t : waiting) t.join();
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_TRUE(BitwiseEqual(cnn_.Run(inputs[i]), ResponseTensors(responses[i])));
  }
  EXPECT_EQ(server_->Stop(), 0);
  EXPECT_EQ(BatchRows(), (std::map<int64_t, int>{{3, 1}}));
}

TEST_F(ServerBatchingTest, SigtermAnswersTheQueuedBatchedRequestsThenExitsZero) {
  // The requests wait for a batch of 8 that never fills (up to 1.5 s) when SIGTERM comes.
  Start(R"({"max_batch_size": 8, "instance_count": 1,
            "dynamic_batching": {"preferred_batch_size": [8], "max_queue_delay_us": 1500000}})");
  constexpr int kRequests = 5;
  auto stub = server_->NewStub();
  std::vector<TensorMap> inputs;
  for (int i = 0; i < kRequests; ++i) inputs.push_back(cnn_.Inputs(10 + i, 1));
  std::vector<inference::ModelInferResponse> responses(kRequests);
  std::vector<grpc::Status> statuses(kRequests);
  std::vector<std::chrono::steady_clock::time_point> answered(kRequests);
  std::vector<std::thread> clients;
  for (int i = 0; i < kRequests; ++i) {
    clients.emplace_back([&, i] {
      statuses[i] = Infer(*stub, inputs[i], &responses[i]);
      answered[i] = std::chrono::steady_clock::now();
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto sigterm = std::chrono::steady_clock::now();
  ::kill(server_->pid(), SIGTERM);
  for (auto& t : clients) t.join();
  for (int i = 0; i < kRequests; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_TRUE(BitwiseEqual(cnn_.Run(inputs[i]), ResponseTensors(responses[i])));
    EXPECT_GT(answered[i], sigterm) << "request " << i << " was not waiting in the queue";
  }
  EXPECT_EQ(server_->Stop(), 0);
  EXPECT_EQ(BatchRows(), (std::map<int64_t, int>{{kRequests, 1}}));
}

TEST_F(ServerBatchingTest, ANewVersionTakesOverUnderLoadAndTheOldBatcherDrains) {
  Start(R"({"max_batch_size": 8, "instance_count": 1,
            "dynamic_batching": {"preferred_batch_size": [4], "max_queue_delay_us": 2000}})");
  auto control = server_->NewStub();
  constexpr int kClients = 8;
  std::vector<TensorMap> inputs, expected;
  for (int c = 0; c < kClients; ++c) {
    inputs.push_back(cnn_.Inputs(500 + c, 1 + c % 2));
    expected.push_back(cnn_.Run(inputs.back()));
  }
  std::atomic<bool> stop{false};
  std::atomic<int> correct{0}, failed{0}, wrong{0}, on_v1{0}, on_v2{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = server_->NewStub();
      while (!stop) {
        inference::ModelInferResponse response;
        const grpc::Status status = Infer(*stub, inputs[c], &response);
        if (!status.ok()) {
          if (failed++ == 0) ADD_FAILURE() << status.error_message();
        } else if (!BitwiseEqual(expected[c], ResponseTensors(response))) {
          ++wrong;
        } else {
          ++correct;
          ++(response.model_version() == "1" ? on_v1 : on_v2);
        }
      }
    });
  }
  auto load = [&] {
    grpc::ClientContext context;
    inference::RepositoryModelLoadRequest request;
    request.set_model_name("cnn");
    inference::RepositoryModelLoadResponse response;
    return control->RepositoryModelLoad(&context, request, &response);
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  repo_.AddVersion("cnn", 2, testing::BundledModelPath("cnn_chain.onnx"));
  const grpc::Status loaded = load();  // v2 serves, then v1 is unloaded and its batcher drained
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_TRUE(loaded.ok()) << loaded.error_message();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(on_v1.load(), 0);
  EXPECT_GT(on_v2.load(), 0);
  ASSERT_EQ(server_->Stop(), 0);

  std::ifstream in(log_path_);
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(log.find("event=model_unloaded model=cnn version=1"), std::string::npos) << log;
  EXPECT_NE(log.find("event=batcher_drained model=cnn version=1"), std::string::npos) << log;
  // The drain comes after the repository stopped routing to v1.
  EXPECT_LT(log.find("event=model_unloaded model=cnn version=1"),
            log.find("event=batcher_drained model=cnn version=1"));
  EXPECT_NE(log.find("event=batch model=cnn version=2"), std::string::npos);
}

}  // namespace
}  // namespace seam
