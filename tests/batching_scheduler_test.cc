// BatchingScheduler in process, on a real model version (models/cnn_chain.onnx in ONNX Runtime):
// concurrent jobs are merged into batches (counted through the ServerObserver) and each answer is
// bitwise the answer of the job run alone; a full queue answers UNAVAILABLE at once; Retire and
// Drain answer what is queued without waiting for batching delays; versions without
// dynamic_batching take the direct path.
#include "server/batching_scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "runtime/segment_chain.h"
#include "server_process.h"

namespace seam::server {
namespace {

using testing::BitwiseEqual;

// Counts what the scheduler reports.
class CountingObserver final : public ServerObserver {
 public:
  void OnRequest(const std::string& model, int64_t version, bool ok, int64_t queue_us,
                 int64_t compute_us) override {
    std::lock_guard lock(mu_);
    ++requests_;
    failed_ += !ok;
    EXPECT_GE(queue_us, 0);
    EXPECT_GE(compute_us, 0);
    labels_ = model + "/" + std::to_string(version);
  }
  void OnBatch(const std::string&, int64_t, int64_t rows, int64_t requests) override {
    std::lock_guard lock(mu_);
    ++batch_rows_[rows];
    batched_requests_ += requests;
  }
  int requests() const { return Get(requests_); }
  int failed() const { return Get(failed_); }
  int batched_requests() const { return Get(batched_requests_); }
  std::string labels() const {
    std::lock_guard lock(mu_);
    return labels_;
  }
  std::map<int64_t, int> batch_rows() const {
    std::lock_guard lock(mu_);
    return batch_rows_;
  }

 private:
  int Get(const int& field) const {
    std::lock_guard lock(mu_);
    return field;
  }
  mutable std::mutex mu_;
  int requests_ = 0, failed_ = 0, batched_requests_ = 0;
  std::map<int64_t, int> batch_rows_;  // rows -> batches
  std::string labels_;
};

std::shared_ptr<const ModelVersion> LoadCnn(const std::string& config_json) {
  const std::string path = testing::BundledModelPath("cnn_chain.onnx");
  auto config = repository::ParseModelConfig(config_json, "cnn/config.json", "cnn");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  auto version = ModelVersion::Load({"cnn", 1, path, "cnn/config.json"}, *config);
  EXPECT_TRUE(version.ok()) << version.status().ToString();
  return version.ok() ? *version : nullptr;
}

TensorMap Inputs(const ModelVersion& model, uint64_t seed, int64_t batch) {
  TensorMap inputs;
  for (const auto& spec : model.metadata().inputs) {
    inputs[spec.name] = runtime::RandomTensor(spec, seed, batch);
  }
  return inputs;
}

// Submits one job; the future holds its answer.
std::future<Result<TensorMap>> Submit(InferenceScheduler& scheduler,
                                      std::shared_ptr<const ModelVersion> model, TensorMap inputs) {
  auto promise = std::make_shared<std::promise<Result<TensorMap>>>();
  auto future = promise->get_future();
  InferJob job;
  job.model = std::move(model);
  job.inputs = std::move(inputs);
  job.request_id = "test";
  job.accepted = std::chrono::steady_clock::now();
  job.done = [promise](Result<TensorMap> outputs) { promise->set_value(std::move(outputs)); };
  scheduler.Submit(std::move(job));
  return future;
}

bool Ready(const std::future<Result<TensorMap>>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

constexpr char kBatching[] = R"({"max_batch_size": 8, "instance_count": 1,
  "dynamic_batching": {"preferred_batch_size": [8], "max_queue_delay_us": 20000}})";
// Batches wait this long to fill: far longer than any test, so only a drain can run them early.
constexpr char kSlowBatching[] = R"({"max_batch_size": 8, "instance_count": 1,
  "dynamic_batching": {"preferred_batch_size": [8], "max_queue_delay_us": 60000000,
                       "max_queue_size": 2}})";

TEST(BatchingSchedulerTest, ConcurrentJobsRunMergedAndMatchTheJobRunAlone) {
  auto cnn = LoadCnn(kBatching);
  ASSERT_TRUE(cnn);
  constexpr int kClients = 16, kRounds = 4;
  CountingObserver observer;
  BatchingScheduler scheduler({.threads = 2, .max_queue = 64, .observer = &observer});
  std::vector<std::vector<TensorMap>> inputs(kClients), expected(kClients);
  for (int c = 0; c < kClients; ++c) {
    for (int r = 0; r < kRounds; ++r) {
      inputs[c].push_back(Inputs(*cnn, 100 * c + r, 1 + (c + r) % 2));
      auto alone = cnn->Run(inputs[c].back());
      ASSERT_TRUE(alone.ok()) << alone.status().ToString();
      expected[c].push_back(*alone);
    }
  }
  std::barrier start(kClients);
  std::atomic<int> correct{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int r = 0; r < kRounds; ++r) {
        start.arrive_and_wait();  // every round: 16 jobs at once
        Result<TensorMap> got = Submit(scheduler, cnn, inputs[c][r]).get();
        if (!got.ok()) {
          ADD_FAILURE() << got.status().ToString();
        } else if (BitwiseEqual(expected[c][r], *got)) {
          ++correct;
        } else {
          ADD_FAILURE() << "client " << c << " round " << r << ": "
                        << BitwiseEqual(expected[c][r], *got).message();
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(correct.load(), kClients * kRounds);
  EXPECT_EQ(observer.requests(), kClients * kRounds);
  EXPECT_EQ(observer.failed(), 0);
  EXPECT_EQ(observer.batched_requests(), kClients * kRounds);
  EXPECT_EQ(observer.labels(), "cnn/1");
  int64_t rows = 0, largest = 0, batches = 0;
  for (const auto& [size, count] : observer.batch_rows()) {
    rows += size * count;
    batches += count;
    largest = std::max(largest, size);
  }
  EXPECT_EQ(rows, kRounds * (kClients / 2) * 3);  // half the jobs have 1 row, half 2
  EXPECT_GT(largest, 1);
  EXPECT_LT(batches, kClients * kRounds) << "no two jobs shared a batch";
  EXPECT_EQ(scheduler.batcher_count(), 1u);
}

TEST(BatchingSchedulerTest, FullQueueAnswersUnavailableAtOnceAndDrainRunsTheQueued) {
  auto cnn = LoadCnn(kSlowBatching);
  ASSERT_TRUE(cnn);
  CountingObserver observer;
  BatchingScheduler scheduler({.threads = 1, .max_queue = 64, .observer = &observer});
  auto first = Submit(scheduler, cnn, Inputs(*cnn, 1, 1));
  auto second = Submit(scheduler, cnn, Inputs(*cnn, 2, 1));
  auto third = Submit(scheduler, cnn, Inputs(*cnn, 3, 1));
  ASSERT_TRUE(Ready(third)) << "a full queue must answer inside Submit";
  Result<TensorMap> refused = third.get();
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message(), "queue of model 'cnn' is full (2 requests)");
  EXPECT_FALSE(Ready(first));  // waiting for company

  const auto start = std::chrono::steady_clock::now();
  scheduler.Drain();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  ASSERT_TRUE(Ready(first) && Ready(second)) << "Drain returned before answering";
  EXPECT_TRUE(BitwiseEqual(*cnn->Run(Inputs(*cnn, 1, 1)), *first.get()));
  EXPECT_TRUE(BitwiseEqual(*cnn->Run(Inputs(*cnn, 2, 1)), *second.get()));
  EXPECT_EQ(observer.requests(), 3);
  EXPECT_EQ(observer.failed(), 1);
  EXPECT_EQ(observer.batch_rows(), (std::map<int64_t, int>{{2, 1}}));

  auto late = Submit(scheduler, cnn, Inputs(*cnn, 4, 1));
  ASSERT_TRUE(Ready(late));
  EXPECT_EQ(late.get().status().code(), StatusCode::kUnavailable);
}

TEST(BatchingSchedulerTest, RetireDrainsTheBatcherAndLateJobsTakeTheDirectPath) {
  auto v1 = LoadCnn(kSlowBatching);
  ASSERT_TRUE(v1);
  CountingObserver observer;
  BatchingScheduler scheduler({.threads = 1, .max_queue = 64, .observer = &observer});
  auto queued = Submit(scheduler, v1, Inputs(*v1, 5, 2));
  EXPECT_EQ(scheduler.batcher_count(), 1u);
  EXPECT_FALSE(Ready(queued));

  scheduler.Retire(v1);  // what the repository calls once it stops routing to v1
  ASSERT_TRUE(Ready(queued)) << "Retire returned before answering the queued job";
  EXPECT_TRUE(BitwiseEqual(*v1->Run(Inputs(*v1, 5, 2)), *queued.get()));
  EXPECT_EQ(scheduler.batcher_count(), 0u);

  // A request that found v1 just before the switch: answered on the direct path, no new batcher.
  auto late = Submit(scheduler, v1, Inputs(*v1, 6, 1));
  Result<TensorMap> late_answer = late.get();
  ASSERT_TRUE(late_answer.ok()) << late_answer.status().ToString();
  EXPECT_TRUE(BitwiseEqual(*v1->Run(Inputs(*v1, 6, 1)), *late_answer));
  EXPECT_EQ(scheduler.batcher_count(), 0u);
  EXPECT_EQ(observer.batch_rows(), (std::map<int64_t, int>{{2, 1}, {1, 1}}));

  // A reload (a new ModelVersion) gets a batcher of its own; once v1 is gone for good, its
  // retired entry is dropped by the next Retire.
  auto v2 = LoadCnn(kSlowBatching);
  ASSERT_TRUE(v2);
  auto on_v2 = Submit(scheduler, v2, Inputs(*v2, 7, 1));
  EXPECT_EQ(scheduler.batcher_count(), 1u);
  v1.reset();
  scheduler.Retire(v2);
  EXPECT_TRUE(on_v2.get().ok());
  EXPECT_EQ(scheduler.batcher_count(), 0u);
}

TEST(BatchingSchedulerTest, VersionsWithoutDynamicBatchingRunOneJobPerRun) {
  auto cnn = LoadCnn(R"({"max_batch_size": 8})");
  ASSERT_TRUE(cnn);
  CountingObserver observer;
  BatchingScheduler scheduler({.threads = 2, .max_queue = 64, .observer = &observer});
  std::vector<std::future<Result<TensorMap>>> answers;
  for (int i = 0; i < 8; ++i) answers.push_back(Submit(scheduler, cnn, Inputs(*cnn, i, 3)));
  for (int i = 0; i < 8; ++i) {
    Result<TensorMap> got = answers[i].get();
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_TRUE(BitwiseEqual(*cnn->Run(Inputs(*cnn, i, 3)), *got));
  }
  EXPECT_EQ(scheduler.batcher_count(), 0u);
  EXPECT_EQ(observer.batch_rows(), (std::map<int64_t, int>{{3, 8}}));
  EXPECT_EQ(observer.requests(), 8);
}

}  // namespace
}  // namespace seam::server
