// What the batcher learns (BatchEstimates) and how DecideBatch uses it: waiting for company only
// while it can pay. Pure: hand-made observations and snapshots, no threads, no clock.
#include "server/batching/batch_estimates.h"

#include <gtest/gtest.h>

#include "server/batching/batch_policy.h"

namespace seam::batching {
namespace {

TEST(BatchEstimatesTest, FitsFixedAndPerRowCostsFromRunsOfSeveralSizes) {
  BatchEstimates e(16);
  EXPECT_FALSE(e.cost().has_value());
  // 500 us per run + 20 us per row, seen at sizes 1, 4 and 16, after a cold run of each.
  for (int64_t rows : {1, 4, 16}) e.ObserveRun(rows, 50000);
  EXPECT_FALSE(e.cost().has_value());
  for (int i = 0; i < 3; ++i) {
    for (int64_t rows : {1, 4, 16}) e.ObserveRun(rows, 500 + 20 * rows);
  }
  auto cost = e.cost();
  ASSERT_TRUE(cost.has_value());
  EXPECT_NEAR(cost->fixed_us, 500, 1e-6);
  EXPECT_NEAR(cost->per_row_us, 20, 1e-6);
  // Larger runs than max_rows count as max_rows; they do not break the fit.
  e.ObserveRun(64, 500 + 20 * 16);
  e.ObserveRun(64, 500 + 20 * 16);
  EXPECT_NEAR(e.cost()->fixed_us, 500, 1e-6);
}

TEST(BatchEstimatesTest, OneBatchSizeSeenCountsWhollyAsFixedAndNoiseNeverGoesNegative) {
  BatchEstimates e(8);
  e.ObserveRun(1, 3000);  // cold
  e.ObserveRun(1, 300);
  EXPECT_DOUBLE_EQ(e.cost()->fixed_us, 300);  // the most merging could save: try it and learn
  EXPECT_DOUBLE_EQ(e.cost()->per_row_us, 0);
  BatchEstimates noisy(8);
  for (int i = 0; i < 2; ++i) noisy.ObserveRun(1, 100);
  for (int i = 0; i < 2; ++i)
    noisy.ObserveRun(8, 90);  // larger batch measured faster: no negative per-row cost
  EXPECT_GE(noisy.cost()->per_row_us, 0);
  EXPECT_GE(noisy.cost()->fixed_us, 0);
}

// Merged runs no cheaper per row than runs of one (as BlazeFace's): known only after enough warm
// runs of both sizes.
TEST(BatchEstimatesTest, TheMergedPerRowRatioNeedsEvidence) {
  BatchEstimates e(8);
  for (int i = 0; i < 3; ++i) {  // a cold run and two warm ones of each size
    e.ObserveRun(1, 6000);
    e.ObserveRun(8, 8 * 6600);
  }
  EXPECT_EQ(e.cost()->merged_per_row_ratio, 0);  // not enough yet: merging goes on
  for (int i = 0; i < 4; ++i) {
    e.ObserveRun(1, 6000);
    e.ObserveRun(8, 8 * 6600);
  }
  EXPECT_NEAR(e.cost()->merged_per_row_ratio, 1.1, 1e-9);
}

TEST(BatchEstimatesTest, RunTimesFollowAChange) {
  BatchEstimates e(4);
  for (int i = 0; i < 20; ++i) e.ObserveRun(1, 100);
  for (int i = 0; i < 20; ++i) e.ObserveRun(1, 1000);
  EXPECT_NEAR(e.cost()->fixed_us, 1000, 20);
}

TEST(BatchEstimatesTest, ArrivalGapsAndAnOpenGapThatGrows) {
  BatchEstimates e(4);
  EXPECT_FALSE(e.interarrival_us(0).has_value());
  for (int64_t t = 0; t <= 1000; t += 100) e.ObserveArrival(t);
  EXPECT_NEAR(*e.interarrival_us(1000), 100, 1);
  EXPECT_NEAR(*e.interarrival_us(1050), 100, 1);  // an open gap shorter than the typical one
  // Nothing for 100 ms: the queue is seen as idle before the next request arrives.
  EXPECT_DOUBLE_EQ(*e.interarrival_us(101000), 100000);
}

// Bursts (8 requests 50 us apart, then 10 ms of nothing): the typical gap stays near the short
// one, so a batch waits for the rest of a burst; an arithmetic mean would say ~1.3 ms.
TEST(BatchEstimatesTest, BurstsKeepTheTypicalGapShort) {
  BatchEstimates e(8);
  int64_t t = 0;
  for (int burst = 0; burst < 10; ++burst) {
    for (int i = 0; i < 8; ++i) {
      e.ObserveArrival(t);
      t += 50;
    }
    t += 10000;
  }
  const double typical = *e.interarrival_us(t - 10000 + 50);  // just after a burst's first
  EXPECT_LT(typical, 300);
  EXPECT_GT(typical, 40);
}

BatchConfig Config() {
  return BatchConfig{
      .model = "m", .max_batch_size = 8, .preferred_batch_sizes = {8}, .max_queue_delay_us = 1000};
}

std::vector<PendingRequest> Queue(int n) {
  std::vector<PendingRequest> q;
  for (int i = 0; i < n; ++i) q.push_back({.arrival_us = i, .batch_size = 1, .shape_key = "a"});
  return q;
}

BatchAction::Kind Decide(int waiting, std::optional<BatchCost> cost, std::optional<double> gap_us) {
  const auto q = Queue(waiting);
  return DecideBatch(
             Config(),
             QueueSnapshot{.requests = q, .now_us = 10, .cost = cost, .interarrival_us = gap_us})
      .kind;
}

TEST(BatchPolicyWaitingTest, WaitsOnlyWhileTheNextArrivalCanPay) {
  using Kind = BatchAction::Kind;
  // Nothing measured yet: Triton's rule, wait up to the delay.
  EXPECT_EQ(Decide(1, std::nullopt, std::nullopt), Kind::kWait);
  EXPECT_EQ(Decide(1, BatchCost{500, 20}, std::nullopt), Kind::kWait);
  // A Gemm-like model (large fixed cost), requests every 50 us: one more saves 500 us. Wait.
  EXPECT_EQ(Decide(1, BatchCost{500, 20}, 50), Kind::kWait);
  EXPECT_EQ(Decide(5, BatchCost{500, 20}, 50), Kind::kWait);
  // ...but 7 waiting for a request 80 us away is 560 us of added latency for 500 saved: run.
  EXPECT_EQ(Decide(7, BatchCost{500, 20}, 80), Kind::kRun);
  // An idle queue: the next request is 10 ms away. Run at once.
  EXPECT_EQ(Decide(1, BatchCost{500, 20}, 10000), Kind::kRun);
  // A model whose merged runs save little (2 us per run): run at once even under load...
  EXPECT_EQ(Decide(1, BatchCost{2, 30}, 50), Kind::kRun);
  // ...and where merged runs were measured no cheaper per row than runs alone: the oldest
  // request alone, even with a preferred batch queued.
  const auto eight = Queue(8);
  auto alone = DecideBatch(Config(), QueueSnapshot{.requests = eight,
                                                   .now_us = 10,
                                                   .cost = BatchCost{0, 6000, 1.05},
                                                   .interarrival_us = 50});
  EXPECT_EQ(alone.kind, Kind::kRun);
  EXPECT_EQ(alone.run, std::vector<size_t>{0});
  // Simultaneous arrivals cost nothing to wait for (runs too fast to measure: no information).
  EXPECT_EQ(Decide(1, BatchCost{0, 0}, 0), Kind::kWait);
  // Ready batches run regardless.
  EXPECT_EQ(Decide(8, BatchCost{500, 20}, 50), Kind::kRun);
}

}  // namespace
}  // namespace seam::batching
