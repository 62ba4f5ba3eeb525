// The thread driver with fake executors: concurrent submitters, merged batches, drain on
// shutdown, errors reaching every request, admission, and time from an injected clock.
#include "server/batching/dynamic_batcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace seam::batching {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kCols = 4;

// [rows, kCols] FP32 whose values identify the request: base + row * kCols + col.
TensorMap Input(int64_t rows, float base) {
  Tensor t = Tensor::Zeros(DType::kFloat32, {rows, kCols});
  for (int64_t i = 0; i < rows * kCols; ++i) t.data_as<float>()[i] = base + static_cast<float>(i);
  return {{"x", std::move(t)}};
}

// A model: y = 2x + 1, row by row, so that a batched run equals the requests run alone. It
// records the rows of every run and takes `cost` to let the queue fill up meanwhile.
class FakeModel {
 public:
  explicit FakeModel(std::chrono::microseconds cost = std::chrono::microseconds(0)) : cost_(cost) {}

  Executor AsExecutor() {
    return [this](const TensorMap& in) -> Result<TensorMap> {
      if (cost_.count() > 0) std::this_thread::sleep_for(cost_);
      const Tensor& x = in.at("x");
      Tensor y = Tensor::Zeros(DType::kFloat32, x.shape);
      for (size_t i = 0; i < x.data.size() / 4; ++i) {
        y.data_as<float>()[i] = 2 * x.data_as<float>()[i] + 1;
      }
      std::lock_guard<std::mutex> lock(mu_);
      runs_.push_back(x.shape[0]);
      return TensorMap{{"y", std::move(y)}};
    };
  }
  std::vector<int64_t> runs() {
    std::lock_guard<std::mutex> lock(mu_);
    return runs_;
  }

 private:
  std::chrono::microseconds cost_;
  std::mutex mu_;
  std::vector<int64_t> runs_;
};

BatcherConfig Config(int64_t max, int64_t delay_us, int instances = 1, int64_t queue = 0) {
  return BatcherConfig{.batching = {.model = "m",
                                    .max_batch_size = max,
                                    .max_queue_delay_us = delay_us,
                                    .max_queue_size = queue},
                       .instances = instances};
}

std::unique_ptr<DynamicBatcher> Make(BatcherConfig config, Executor executor,
                                     Clock clock = SteadyNowUs) {
  Result<std::unique_ptr<DynamicBatcher>> b =
      DynamicBatcher::Create(std::move(config), std::move(executor), std::move(clock));
  EXPECT_TRUE(b.ok()) << b.status().ToString();
  return b.ok() ? std::move(b).value() : nullptr;
}

TEST(DynamicBatcherTest, ConcurrentSubmittersEachGetTheirOwnResultFromMergedBatches) {
  constexpr int kThreads = 16, kPerThread = 50;
  FakeModel model(std::chrono::microseconds(300));
  std::mutex mu;
  std::vector<int64_t> recorded_rows;
  BatcherConfig config = Config(16, 2000, /*instances=*/2);
  config.on_batch = [&](const BatchRecord& r) {
    std::lock_guard<std::mutex> lock(mu);
    recorded_rows.push_back(r.rows);
    EXPECT_TRUE(r.ok);
    for (int64_t q : r.queue_us) EXPECT_GE(q, 0);
  };
  auto batcher = Make(std::move(config), model.AsExecutor());

  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kThreads; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kPerThread; ++i) {
        const int64_t rows = 1 + (c + i) % 3;
        const float base = static_cast<float>((c * kPerThread + i) * 100);
        Result<TensorMap> out = batcher->Submit(Input(rows, base)).get();
        if (!out.ok()) {
          ADD_FAILURE() << out.status().ToString();
          ++wrong;
          continue;
        }
        const Tensor& y = out->at("y");
        bool same = y.shape == std::vector<int64_t>{rows, kCols};
        for (int64_t k = 0; same && k < rows * kCols; ++k) {
          same = y.data_as<float>()[k] == 2 * (base + static_cast<float>(k)) + 1;
        }
        if (!same) ++wrong;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(wrong.load(), 0);

  const std::vector<int64_t> runs = model.runs();
  int64_t run_rows = 0, submitted_rows = 0;
  for (int64_t r : runs) run_rows += r;
  for (int c = 0; c < kThreads; ++c) {
    for (int i = 0; i < kPerThread; ++i) submitted_rows += 1 + (c + i) % 3;
  }
  EXPECT_EQ(run_rows, submitted_rows);
  EXPECT_LE(*std::max_element(runs.begin(), runs.end()), 16);
  EXPECT_LT(runs.size(), static_cast<size_t>(kThreads * kPerThread));  // some were merged
  {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<int64_t> sorted_runs = runs;
    std::sort(sorted_runs.begin(), sorted_runs.end());
    std::sort(recorded_rows.begin(), recorded_rows.end());
    EXPECT_EQ(recorded_rows, sorted_runs);  // on_batch saw every run
    EXPECT_GT(*std::max_element(recorded_rows.begin(), recorded_rows.end()), 3);
  }
  const BatcherCounters c = batcher->counters();
  EXPECT_EQ(c.accepted, kThreads * kPerThread);
  EXPECT_EQ(c.completed, kThreads * kPerThread);
  EXPECT_EQ(c.failed, 0u);
  EXPECT_EQ(c.batches, runs.size());
  EXPECT_EQ(c.queued, 0u);
}

TEST(DynamicBatcherTest, ShutdownDrainsTheQueueWithoutWaitingForTheDelay) {
  FakeModel model;
  auto batcher = Make(Config(64, /*delay_us=*/60'000'000), model.AsExecutor());
  std::atomic<int> completions{0};
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(batcher
                    ->Submit(Input(1, i),
                             [&](Result<TensorMap> out, const RequestStats&) {
                               EXPECT_TRUE(out.ok());
                               ++completions;
                             })
                    .ok());
  }
  EXPECT_EQ(completions.load(), 0);  // waiting for company, up to a minute
  const auto start = std::chrono::steady_clock::now();
  batcher->Shutdown();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(5000));
  EXPECT_EQ(completions.load(), 20);
  EXPECT_EQ(model.runs(), std::vector<int64_t>{20});

  const Status after = batcher->Submit(Input(1, 0), [](Result<TensorMap>, const RequestStats&) {
    ADD_FAILURE() << "a rejected request must not be completed";
  });
  EXPECT_EQ(after.code(), StatusCode::kUnavailable);
  EXPECT_EQ(after.message(), "model 'm' is shutting down");
  batcher->Shutdown();  // idempotent
}

TEST(DynamicBatcherTest, ExecutorFailureReachesEveryRequestOfTheBatch) {
  std::atomic<int> calls{0};
  auto batcher = Make(Config(4, 60'000'000), [&](const TensorMap&) -> Result<TensorMap> {
    ++calls;
    return Internal("model 'm': onnxruntime said no");
  });
  std::vector<std::future<Result<TensorMap>>> futures;
  for (int i = 0; i < 4; ++i) futures.push_back(batcher->Submit(Input(1, i)));  // 4 = max: runs
  for (auto& f : futures) {
    const Result<TensorMap> out = f.get();
    EXPECT_EQ(out.status().code(), StatusCode::kInternal);
    EXPECT_EQ(out.status().message(), "model 'm': onnxruntime said no");
  }
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(batcher->counters().failed, 4u);
}

TEST(DynamicBatcherTest, AThrowingExecutorBecomesAnInternalError) {
  auto batcher = Make(Config(0, 0), [](const TensorMap&) -> Result<TensorMap> {
    throw std::runtime_error("bad_alloc, say");
  });
  const Result<TensorMap> out = batcher->Submit(Input(1, 0)).get();
  EXPECT_EQ(out.status().code(), StatusCode::kInternal);
  EXPECT_EQ(out.status().message(), "model 'm': batch execution threw: bad_alloc, say");
}

TEST(DynamicBatcherTest, OutputsWithoutTheBatchFailEveryRequestAloneOrMerged) {
  auto batcher = Make(Config(2, 60'000'000), [](const TensorMap&) -> Result<TensorMap> {
    return TensorMap{{"score", Tensor::Zeros(DType::kFloat32, {})}};
  });
  auto a = batcher->Submit(Input(1, 0));
  auto b = batcher->Submit(Input(1, 1));
  EXPECT_EQ(a.get().status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(b.get().status().code(), StatusCode::kFailedPrecondition);
  auto alone = batcher->Submit(Input(2, 0));  // 2 rows = max: runs alone
  const Status s = alone.get().status();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message().rfind("model 'm': output 'score'", 0), 0u) << s.message();
}

TEST(DynamicBatcherTest, FullQueueAndOversizedRequestsAreRejectedAtSubmit) {
  FakeModel model;
  auto batcher = Make(Config(8, 60'000'000, 1, /*queue=*/2), model.AsExecutor());
  const auto never = [](Result<TensorMap>, const RequestStats&) {};
  const Status big = batcher->Submit(Input(9, 0), never);
  EXPECT_EQ(big.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(big.message(), "model 'm': request batch size 9 is outside [1, max_batch_size 8]");
  const Status scalar = batcher->Submit({{"x", Tensor::Zeros(DType::kFloat32, {})}}, never);
  EXPECT_EQ(scalar.message(),
            "model 'm': input 'x': a batched model needs a batch dimension, got a scalar");

  auto first = batcher->Submit(Input(1, 0));
  auto second = batcher->Submit(Input(1, 1));
  const Result<TensorMap> third = batcher->Submit(Input(1, 2)).get();
  EXPECT_EQ(third.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(third.status().message(), "queue of model 'm' is full (2 requests)");
  EXPECT_EQ(batcher->counters().rejected, 3u);
  batcher->Shutdown();
  EXPECT_TRUE(first.get().ok());
  EXPECT_TRUE(second.get().ok());
}

TEST(DynamicBatcherTest, DisabledBatchingRunsEachRequestAsItIs) {
  FakeModel model(std::chrono::microseconds(200));
  auto batcher = Make(Config(0, 60'000'000, /*instances=*/2), model.AsExecutor());
  std::vector<std::future<Result<TensorMap>>> futures;
  for (int i = 0; i < 12; ++i) futures.push_back(batcher->Submit(Input(1 + i % 5, i)));
  for (auto& f : futures) EXPECT_TRUE(f.get().ok());
  std::vector<int64_t> runs = model.runs();
  std::sort(runs.begin(), runs.end());
  EXPECT_EQ(runs, (std::vector<int64_t>{1, 1, 1, 2, 2, 2, 3, 3, 4, 4, 5, 5}));
}

TEST(DynamicBatcherTest, TheInjectedClockDecidesWhenTheDelayIsOver) {
  std::atomic<int64_t> now_us{1'000'000};
  FakeModel model;
  auto batcher =
      Make(Config(8, /*delay_us=*/1000), model.AsExecutor(), [&] { return now_us.load(); });
  std::promise<RequestStats> stats;
  ASSERT_TRUE(batcher
                  ->Submit(Input(1, 0),
                           [&](Result<TensorMap> out, const RequestStats& s) {
                             EXPECT_TRUE(out.ok());
                             stats.set_value(s);
                           })
                  .ok());
  std::future<RequestStats> done = stats.get_future();
  // Real time passes, fake time does not: the request keeps waiting.
  EXPECT_EQ(done.wait_for(milliseconds(50)), std::future_status::timeout);
  now_us = 1'000'999;
  EXPECT_EQ(done.wait_for(milliseconds(20)), std::future_status::timeout);
  now_us = 1'001'000;
  ASSERT_EQ(done.wait_for(milliseconds(5000)), std::future_status::ready);
  const RequestStats s = done.get();
  EXPECT_EQ(s.queue_us, 1000);
  EXPECT_EQ(s.compute_us, 0);
  EXPECT_EQ(s.batch_rows, 1);
  EXPECT_EQ(s.batch_requests, 1);
}

TEST(DynamicBatcherTest, CreateRejectsBadConfigs) {
  FakeModel model;
  EXPECT_EQ(
      DynamicBatcher::Create(Config(8, 0, /*instances=*/0), model.AsExecutor()).status().message(),
      "model 'm': instances must be >= 1, got 0");
  EXPECT_EQ(DynamicBatcher::Create(Config(8, 0), nullptr).status().message(),
            "model 'm': no executor");
  BatcherConfig bad = Config(8, 0);
  bad.batching.preferred_batch_sizes = {16};
  EXPECT_EQ(DynamicBatcher::Create(bad, model.AsExecutor()).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace seam::batching

namespace seam::batching {
namespace {

// A request whose deadline passes while it waits behind a slow batch is answered
// DEADLINE_EXCEEDED and never joins a batch; one with time left runs as usual.
TEST(DynamicBatcherTest, RequestsPastTheirDeadlineAreDroppedUnrun) {
  FakeModel model(std::chrono::milliseconds(60));
  auto batcher = Make(Config(/*max=*/1, /*delay_us=*/0), model.AsExecutor());
  ASSERT_NE(batcher, nullptr);
  auto first = batcher->Submit(Input(1, 0));  // occupies the one worker for 60 ms
  std::this_thread::sleep_for(milliseconds(5));
  std::promise<Result<TensorMap>> short_promise, long_promise;
  const int64_t now = SteadyNowUs();
  ASSERT_TRUE(batcher
                  ->Submit(
                      Input(1, 10),
                      [&](Result<TensorMap> out, const RequestStats&) {
                        short_promise.set_value(std::move(out));
                      },
                      now + 10'000)  // 10 ms: passes while the first batch runs
                  .ok());
  ASSERT_TRUE(batcher
                  ->Submit(
                      Input(1, 20),
                      [&](Result<TensorMap> out, const RequestStats&) {
                        long_promise.set_value(std::move(out));
                      },
                      now + 10'000'000)  // 10 s
                  .ok());
  ASSERT_TRUE(first.get().ok());
  Result<TensorMap> dropped = short_promise.get_future().get();
  ASSERT_FALSE(dropped.ok());
  EXPECT_EQ(dropped.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(dropped.status().message().find("dropped unrun"), std::string::npos);
  EXPECT_TRUE(long_promise.get_future().get().ok());
  // Two runs: the first request and the one with time left; the expired one never ran.
  EXPECT_EQ(model.runs().size(), 2u);
  const BatcherCounters c = batcher->counters();
  EXPECT_EQ(c.completed, 3u);
  EXPECT_EQ(c.failed, 1u);
}

}  // namespace
}  // namespace seam::batching
