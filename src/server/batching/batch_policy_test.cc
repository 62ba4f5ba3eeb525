// DecideBatch and Admit on hand-made queue snapshots and a fake clock: no threads.
#include "server/batching/batch_policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace seam::batching {
namespace {

using Kind = BatchAction::Kind;

BatchConfig Config(int64_t max, std::vector<int64_t> preferred = {}, int64_t delay_us = 1000,
                   int64_t queue = 0) {
  return BatchConfig{.model = "m",
                     .max_batch_size = max,
                     .preferred_batch_sizes = std::move(preferred),
                     .max_queue_delay_us = delay_us,
                     .max_queue_size = queue};
}

PendingRequest Req(int64_t arrival_us, int64_t rows = 1, std::string key = "a") {
  return PendingRequest{.arrival_us = arrival_us, .batch_size = rows, .shape_key = key};
}

// n requests of one row and shape "a", arriving at 0, 1, 2... us.
std::vector<PendingRequest> Ones(int n) {
  std::vector<PendingRequest> q;
  for (int i = 0; i < n; ++i) q.push_back(Req(i));
  return q;
}

BatchAction Decide(const BatchConfig& c, const std::vector<PendingRequest>& q, int64_t now,
                   bool flush = false) {
  return DecideBatch(c, QueueSnapshot{.requests = q, .now_us = now, .flush = flush});
}

void ExpectRun(const BatchAction& a, const std::vector<size_t>& run) {
  EXPECT_EQ(a.kind, Kind::kRun);
  EXPECT_EQ(a.run, run);
}

void ExpectWait(const BatchAction& a, int64_t until) {
  EXPECT_EQ(a.kind, Kind::kWait);
  EXPECT_EQ(a.wake_at_us, until);
}

TEST(BatchPolicyTest, EmptyQueueIsIdle) {
  EXPECT_EQ(Decide(Config(8), {}, 0).kind, Kind::kIdle);
  EXPECT_EQ(Decide(Config(0), {}, 0).kind, Kind::kIdle);
}

TEST(BatchPolicyTest, DisabledBatchingRunsTheOldestAloneAtOnce) {
  const BatchConfig c = Config(0, {}, 1000000);
  ExpectRun(Decide(c, {Req(5, 7, "x"), Req(6, 1, "x"), Req(7)}, 5), {0});
}

TEST(BatchPolicyTest, PreferredSizeRunsAtOnce) {
  const BatchConfig c = Config(16, {4, 8});
  ExpectRun(Decide(c, Ones(4), 10), {0, 1, 2, 3});
}

TEST(BatchPolicyTest, LargestPreferredSizeThatCanBeFormedWins) {
  const BatchConfig c = Config(16, {4, 8});
  ExpectRun(Decide(c, Ones(9), 10), {0, 1, 2, 3, 4, 5, 6, 7});
  ExpectRun(Decide(c, Ones(7), 10), {0, 1, 2, 3});  // 4 now; the other 3 keep waiting
}

TEST(BatchPolicyTest, WaitsForTheOldestRequestsDelayThenRunsWhatIsThere) {
  const BatchConfig c = Config(16, {4}, 1000);
  const std::vector<PendingRequest> q = {Req(100), Req(200), Req(300)};
  ExpectWait(Decide(c, q, 500), 1100);
  ExpectWait(Decide(c, q, 1099), 1100);
  ExpectRun(Decide(c, q, 1100), {0, 1, 2});
  ExpectRun(Decide(c, q, 5000), {0, 1, 2});
}

TEST(BatchPolicyTest, ZeroDelayNeverWaits) {
  ExpectRun(Decide(Config(16, {8}, 0), Ones(3), 2), {0, 1, 2});
}

TEST(BatchPolicyTest, MaxBatchSizeRunsAtOnceWithoutPreferredSizes) {
  const BatchConfig c = Config(4);
  ExpectWait(Decide(c, Ones(3), 3), 1000);
  ExpectRun(Decide(c, Ones(4), 3), {0, 1, 2, 3});
  ExpectRun(Decide(c, Ones(6), 5), {0, 1, 2, 3});  // the rest wait for the next batch
}

TEST(BatchPolicyTest, BatchSizesCountRowsNotRequests) {
  const BatchConfig c = Config(8, {4});
  ExpectRun(Decide(c, {Req(0, 2), Req(1, 2)}, 2), {0, 1});  // 2 + 2 = preferred 4
  ExpectWait(Decide(c, {Req(0, 3), Req(1, 2)}, 2), 1000);   // 3, 5: no preferred size, not full
  ExpectRun(Decide(c, {Req(0, 3), Req(1, 5)}, 2), {0, 1});  // 8 = max
}

TEST(BatchPolicyTest, BatchIsFullWhenTheNextRequestDoesNotFit) {
  // 3 + 3 > 4: waiting cannot make the batch of the first request bigger without reordering.
  const BatchConfig c = Config(4);
  ExpectRun(Decide(c, {Req(0, 3), Req(1, 3)}, 2), {0});
  // FIFO within a shape: the 1-row request behind the 3-row one does not jump ahead of it.
  ExpectRun(Decide(c, {Req(0, 2), Req(1, 3), Req(2, 1)}, 3), {0});
}

TEST(BatchPolicyTest, DifferentShapesAreNeverMerged) {
  const BatchConfig c = Config(16, {3});
  const std::vector<PendingRequest> q = {Req(0, 1, "a"), Req(1, 1, "b"), Req(2, 1, "a"),
                                         Req(3, 1, "b"), Req(4, 1, "a")};
  ExpectRun(Decide(c, q, 5), {0, 2, 4});  // interleaved shapes still batch
  ExpectRun(Decide(c, q, 1000), {0, 2, 4});
  const std::vector<PendingRequest> two = {Req(0, 1, "a"), Req(1, 1, "b")};
  ExpectRun(Decide(c, two, 1001), {0});  // both expired: the oldest group first
}

TEST(BatchPolicyTest, AReadyYoungerGroupRunsWhileTheOlderOneWaits) {
  const BatchConfig c = Config(16, {4});
  const std::vector<PendingRequest> q = {Req(0, 1, "a"), Req(10, 1, "b"), Req(11, 1, "b"),
                                         Req(12, 1, "b"), Req(13, 1, "b")};
  ExpectRun(Decide(c, q, 20), {1, 2, 3, 4});
  // Nothing ready: the earliest deadline of any group.
  const std::vector<PendingRequest> waiting = {Req(50, 1, "b"), Req(0, 1, "a")};
  ExpectWait(Decide(c, waiting, 20), 1000);
}

TEST(BatchPolicyTest, FlushRunsWithoutWaiting) {
  const BatchConfig c = Config(16, {8}, 1000000);
  ExpectWait(Decide(c, Ones(2), 1), 1000000);
  ExpectRun(Decide(c, Ones(2), 1, /*flush=*/true), {0, 1});
}

TEST(BatchPolicyTest, AnOversizedRequestRunsAloneRatherThanBlockTheQueue) {
  // Admit keeps these out; the policy must still not stall on one.
  ExpectRun(Decide(Config(4), {Req(0, 9), Req(1, 1)}, 1), {0});
}

TEST(BatchPolicyTest, HugeDelayDoesNotOverflow) {
  const BatchConfig c = Config(16, {}, BatchAction::kNever);
  ExpectWait(Decide(c, {Req(10)}, 10), BatchAction::kNever);
}

// A single instance with zero compute time, driven by a fake clock through random arrivals:
// every batch is one shape and at most max rows, every request runs exactly once, and none waits
// longer than max_queue_delay_us.
TEST(BatchPolicyTest, SimulatedArrivalsKeepEveryInvariant) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const int64_t delay = std::uniform_int_distribution<int64_t>(0, 500)(rng);
    BatchConfig c =
        Config(8, trial % 2 ? std::vector<int64_t>{2, 4} : std::vector<int64_t>{}, delay);
    std::vector<PendingRequest> arrivals;
    int64_t t = 0;
    for (int i = 0; i < 200; ++i) {
      t += std::uniform_int_distribution<int64_t>(0, 100)(rng);
      arrivals.push_back(Req(t, std::uniform_int_distribution<int64_t>(1, 3)(rng),
                             std::string(1, static_cast<char>('a' + rng() % 3))));
    }
    std::vector<PendingRequest> queue;
    std::vector<int64_t> ids;  // index into arrivals of each queued request
    std::vector<int> runs(arrivals.size(), 0);
    size_t next = 0;
    int64_t now = 0;
    while (next < arrivals.size() || !queue.empty()) {
      while (next < arrivals.size() && arrivals[next].arrival_us <= now) {
        ASSERT_TRUE(Admit(c, QueueSnapshot{.requests = queue, .now_us = now}, arrivals[next]).ok());
        queue.push_back(arrivals[next]);
        ids.push_back(static_cast<int64_t>(next++));
      }
      const BatchAction a = Decide(c, queue, now);
      const int64_t next_arrival =
          next < arrivals.size() ? arrivals[next].arrival_us : BatchAction::kNever;
      if (a.kind == Kind::kIdle) {
        now = next_arrival;
      } else if (a.kind == Kind::kWait) {
        ASSERT_GT(a.wake_at_us, now);
        now = std::min(a.wake_at_us, next_arrival);
      } else {
        int64_t rows = 0;
        for (size_t i : a.run) {
          EXPECT_EQ(queue[i].shape_key, queue[a.run[0]].shape_key);
          EXPECT_LE(now - queue[i].arrival_us, delay);
          rows += queue[i].batch_size;
          ++runs[ids[i]];
        }
        EXPECT_LE(rows, 8);
        ASSERT_TRUE(std::is_sorted(a.run.begin(), a.run.end()));
        for (size_t k = a.run.size(); k-- > 0;) {
          queue.erase(queue.begin() + a.run[k]);
          ids.erase(ids.begin() + a.run[k]);
        }
      }
    }
    EXPECT_TRUE(std::all_of(runs.begin(), runs.end(), [](int r) { return r == 1; }));
  }
}

TEST(BatchPolicyTest, AdmitRejectsAFullQueueAsUnavailable) {
  const BatchConfig c = Config(8, {}, 1000, /*queue=*/2);
  const std::vector<PendingRequest> one = Ones(1), two = Ones(2);
  EXPECT_TRUE(Admit(c, QueueSnapshot{.requests = one}, Req(5)).ok());
  const Status full = Admit(c, QueueSnapshot{.requests = two}, Req(5));
  EXPECT_EQ(full.code(), StatusCode::kUnavailable);
  EXPECT_EQ(full.message(), "queue of model 'm' is full (2 requests)");
  // 0 = unbounded.
  const std::vector<PendingRequest> many = Ones(1000);
  EXPECT_TRUE(Admit(Config(8), QueueSnapshot{.requests = many}, Req(5)).ok());
}

TEST(BatchPolicyTest, AdmitRejectsBatchSizesOutsideOneToMax) {
  const BatchConfig c = Config(8);
  EXPECT_TRUE(Admit(c, {}, Req(0, 8)).ok());
  const Status big = Admit(c, {}, Req(0, 9));
  EXPECT_EQ(big.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(big.message(), "model 'm': request batch size 9 is outside [1, max_batch_size 8]");
  EXPECT_EQ(Admit(c, {}, Req(0, 0)).code(), StatusCode::kInvalidArgument);
  // Without batching the model sees each request as it is: no batch dimension to check.
  EXPECT_TRUE(Admit(Config(0), {}, Req(0, 100)).ok());
}

TEST(BatchPolicyTest, ConfigIsNormalisedThenValidated) {
  BatchConfig c = Config(8, {8, 2, 4, 2});
  NormalizeBatchConfig(&c);
  EXPECT_EQ(c.preferred_batch_sizes, (std::vector<int64_t>{2, 4, 8}));
  EXPECT_TRUE(ValidateBatchConfig(c).ok());
  EXPECT_TRUE(ValidateBatchConfig(Config(0)).ok());

  const auto message = [](const BatchConfig& bad) { return ValidateBatchConfig(bad).message(); };
  EXPECT_EQ(message(Config(-1)), "model 'm': max_batch_size must be >= 0, got -1");
  EXPECT_EQ(message(Config(8, {}, -5)), "model 'm': max_queue_delay_us must be >= 0, got -5");
  EXPECT_EQ(message(Config(8, {}, 0, -1)), "model 'm': max_queue_size must be >= 0, got -1");
  EXPECT_EQ(message(Config(0, {2})), "model 'm': preferred_batch_size needs max_batch_size > 0");
  EXPECT_EQ(message(Config(8, {16})),
            "model 'm': preferred_batch_size 16 is outside [1, max_batch_size 8]");
  EXPECT_EQ(message(Config(8, {4, 2})),
            "model 'm': preferred_batch_size must be ascending and unique, got 2 after 4");
}

}  // namespace
}  // namespace seam::batching
