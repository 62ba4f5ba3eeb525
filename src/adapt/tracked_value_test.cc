#include "adapt/tracked_value.h"

#include <gtest/gtest.h>

#include <random>

namespace seam::adapt {
namespace {

TEST(TrackedValueTest, FirstSampleIsTheEstimateAndBadSamplesAreIgnored) {
  TrackedValue v;
  EXPECT_FALSE(v.known());
  EXPECT_EQ(v.value(), 0);
  v.Observe(-1);
  v.Observe(0);
  v.Observe(std::numeric_limits<double>::infinity());
  EXPECT_FALSE(v.known());
  v.Observe(40);
  EXPECT_TRUE(v.known());
  EXPECT_DOUBLE_EQ(v.value(), 40);
}

TEST(TrackedValueTest, OneSpikeMovesTheEstimateLittle) {
  TrackedValue v;
  for (int i = 0; i < 20; ++i) v.Observe(10);
  v.Observe(100);  // one 10x outlier
  EXPECT_NEAR(v.value(), 10, 10 * 0.09);
  EXPECT_EQ(v.changes(), 0);
  v.Observe(10);
  v.Observe(1);  // and one the other way
  EXPECT_NEAR(v.value(), 10, 10 * 0.12);
}

TEST(TrackedValueTest, AStepIsFollowedWithinConfirmSamples) {
  TrackedValue v;  // confirm 3
  for (int i = 0; i < 20; ++i) v.Observe(50);
  EXPECT_FALSE(v.Observe(2));
  EXPECT_FALSE(v.Observe(2));
  EXPECT_TRUE(v.Observe(2));
  EXPECT_NEAR(v.value(), 2, 1e-9);
  EXPECT_EQ(v.changes(), 1);
  // And back up.
  v.Observe(50);
  v.Observe(50);
  v.Observe(50);
  EXPECT_NEAR(v.value(), 50, 1e-9);
  EXPECT_EQ(v.changes(), 2);
}

TEST(TrackedValueTest, TwentyPercentNoiseNeverLooksLikeAChange) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> noise(0.8, 1.2);
  TrackedValue v;
  for (int i = 0; i < 5000; ++i) v.Observe(30 * noise(rng));
  EXPECT_EQ(v.changes(), 0);
  EXPECT_NEAR(v.value(), 30, 30 * 0.1);
}

TEST(TrackedValueTest, PrimeStartsFromAPriorThatSamplesThenCorrect) {
  TrackedValue v;
  v.Prime(105);  // a profile's prediction
  EXPECT_DOUBLE_EQ(v.value(), 105);
  for (int i = 0; i < 3; ++i) v.Observe(210);  // the device is twice as slow under load
  EXPECT_NEAR(v.value(), 210, 1e-9);
}

TEST(TrackedValueTest, ConfigIsValidated) {
  EXPECT_TRUE(TrackerConfig{}.Validate().ok());
  EXPECT_FALSE(TrackerConfig{.alpha = 0}.Validate().ok());
  EXPECT_FALSE(TrackerConfig{.alpha = 1.5}.Validate().ok());
  EXPECT_FALSE(TrackerConfig{.band = 1}.Validate().ok());
  EXPECT_FALSE(TrackerConfig{.confirm = 0}.Validate().ok());
}

}  // namespace
}  // namespace seam::adapt
