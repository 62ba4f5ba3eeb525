#include "adapt/estimators.h"

#include <gtest/gtest.h>

#include <random>

namespace seam::adapt {
namespace {

// Time of `bytes` on a link of `rtt_ms` and `mbps`.
double LinkMs(uint64_t bytes, double rtt_ms, double mbps) {
  return rtt_ms + static_cast<double>(bytes) * 8 / (mbps * 1e3);
}

TEST(LinkEstimatorTest, LearnsRttFromSmallMessagesAndBandwidthFromLargeOnes) {
  LinkEstimator link;
  for (int i = 0; i < 5; ++i) link.Observe(200, LinkMs(200, 4, 50));
  for (int i = 0; i < 5; ++i) link.Observe(600000, LinkMs(600000, 4, 50));
  EXPECT_NEAR(link.rtt_ms(), 4, 0.2);
  EXPECT_NEAR(link.mbps(), 50, 2.5);
  EXPECT_NEAR(link.PredictMs(100000), LinkMs(100000, 4, 50), 1.0);
}

TEST(LinkEstimatorTest, FollowsABandwidthStepWithinThreeTransfers) {
  LinkEstimator link;
  link.Prime(2, 50);
  const uint64_t bytes = 250000;
  for (int i = 0; i < 10; ++i) link.Observe(bytes, LinkMs(bytes, 2, 50));
  for (int i = 0; i < 3; ++i) link.Observe(bytes, LinkMs(bytes, 2, 2));  // 50 -> 2 Mbit/s
  EXPECT_NEAR(link.mbps(), 2, 0.1);
  EXPECT_NEAR(link.PredictMs(bytes), LinkMs(bytes, 2, 2), 0.05 * LinkMs(bytes, 2, 2));
  for (int i = 0; i < 3; ++i) link.Observe(bytes, LinkMs(bytes, 2, 50));  // and back
  EXPECT_NEAR(link.mbps(), 50, 2.5);
  EXPECT_EQ(link.changes(), 2);
}

TEST(LinkEstimatorTest, NoisyTransfersOnAStationaryLinkChangeNothing) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> noise(0.8, 1.2);
  LinkEstimator link;
  link.Prime(5, 20);
  for (int i = 0; i < 2000; ++i) link.Observe(100000, LinkMs(100000, 5, 20) * noise(rng));
  EXPECT_EQ(link.changes(), 0);
  EXPECT_NEAR(link.PredictMs(100000), LinkMs(100000, 5, 20), 0.1 * LinkMs(100000, 5, 20));
}

TEST(TierEstimatorTest, SpeedFactorCorrectsAProfileThatWasTooOptimistic) {
  TierEstimator device;
  EXPECT_DOUBLE_EQ(device.speed_factor(), 1.0);
  // The profile said 105 ms; under load the device takes 101-240 ms.
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> measured(101, 240);
  for (int i = 0; i < 200; ++i) device.ObserveCompute(measured(rng), 105);
  EXPECT_GT(device.speed_factor(), 1.2);
  EXPECT_LT(device.speed_factor(), 2.3);
}

TEST(TierEstimatorTest, QueueDelayIncludingIdle) {
  TierEstimator edge;
  EXPECT_DOUBLE_EQ(edge.queue_ms(), 0);
  for (int i = 0; i < 10; ++i) edge.ObserveQueue(0);
  EXPECT_NEAR(edge.queue_ms(), 0, 1e-9);
  for (int i = 0; i < 3; ++i) edge.ObserveQueue(12);
  EXPECT_NEAR(edge.queue_ms(), 12, 1e-6);
}

}  // namespace
}  // namespace seam::adapt
