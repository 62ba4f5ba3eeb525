#include "cascade/calibration.h"

#include <gtest/gtest.h>

namespace seam::cascade {
namespace {

// Four examples: the small model is right on the two it is sure of, wrong on the two it is not;
// the big model is right on all but the first.
std::vector<ExampleRecord> Records() {
  return {{.score = 0.95,
           .small_class = 1,
           .big_class = 2,
           .label = 1,
           .small_ms = 1,
           .big_ms = 10,
           .bytes_up = 100},
          {.score = 0.90,
           .small_class = 3,
           .big_class = 3,
           .label = 3,
           .small_ms = 1,
           .big_ms = 10,
           .bytes_up = 100},
          {.score = 0.60,
           .small_class = 0,
           .big_class = 4,
           .label = 4,
           .small_ms = 1,
           .big_ms = 10,
           .bytes_up = 100},
          {.score = 0.40,
           .small_class = 0,
           .big_class = 5,
           .label = 5,
           .small_ms = 1,
           .big_ms = 10,
           .bytes_up = 100}};
}

TEST(CalibrationTest, EvaluateCountsAnswersHandOffsBytesAndTime) {
  const auto p = Evaluate(RuleKind::kMaxProbability, Records(), 0.9);  // the last two go up
  EXPECT_DOUBLE_EQ(p.accuracy, 1.0);
  EXPECT_DOUBLE_EQ(p.cloud_fraction, 0.5);
  EXPECT_DOUBLE_EQ(p.bytes_per_input, 50);
  EXPECT_DOUBLE_EQ(p.mean_latency_ms, 1 + 5);
  EXPECT_DOUBLE_EQ(SmallAccuracy(Records()), 0.5);
  EXPECT_DOUBLE_EQ(BigAccuracy(Records()), 0.75);
}

TEST(CalibrationTest, TheSweepRunsFromNothingSentToEverythingSent) {
  const auto curve = Sweep(RuleKind::kMaxProbability, Records());
  ASSERT_EQ(curve.size(), 5u);  // four distinct scores and "all up"
  EXPECT_DOUBLE_EQ(curve.front().cloud_fraction, 0);
  EXPECT_DOUBLE_EQ(curve.front().accuracy, 0.5);
  EXPECT_DOUBLE_EQ(curve.back().cloud_fraction, 1);
  EXPECT_DOUBLE_EQ(curve.back().accuracy, 0.75);
  for (size_t i = 1; i < curve.size(); ++i) {
    EXPECT_GE(curve[i].cloud_fraction, curve[i - 1].cloud_fraction);
  }
  // A top score of exactly 1 leaves no threshold beyond it that a cascade file accepts.
  auto sure = Records();
  sure[0].score = 1.0;
  for (const auto& p : Sweep(RuleKind::kMaxProbability, sure)) EXPECT_LE(p.threshold, 1.0);
  // Entropy: lower is confident, so the loosest threshold is the highest score.
  const auto entropy = Sweep(RuleKind::kEntropy, Records());
  EXPECT_DOUBLE_EQ(entropy.front().cloud_fraction, 0);
  EXPECT_DOUBLE_EQ(entropy.front().threshold, 0.95);
}

TEST(CalibrationTest, ChooseMeetsTheTargetWithTheFewestHandOffsOrTheBestAccuracy) {
  const auto curve = Sweep(RuleKind::kMaxProbability, Records());
  auto acc = Choose(curve, {.min_accuracy = 1.0});
  ASSERT_TRUE(acc.ok()) << acc.status().ToString();
  EXPECT_DOUBLE_EQ(acc->threshold, 0.9);  // better than sending everything (0.75)
  EXPECT_DOUBLE_EQ(acc->cloud_fraction, 0.5);
  auto ratio = Choose(curve, {.max_cloud_fraction = 0.25});
  ASSERT_TRUE(ratio.ok());
  EXPECT_DOUBLE_EQ(ratio->accuracy, 0.75);  // only the 0.40 one goes up
  auto unreachable = Choose(curve, {.min_accuracy = 1.01});
  ASSERT_FALSE(unreachable.ok());
  EXPECT_NE(unreachable.status().message().find("the best is 100.00%"), std::string::npos)
      << unreachable.status().message();
  EXPECT_FALSE(Choose(curve, {}).ok());
  EXPECT_FALSE(Choose(curve, {.min_accuracy = 0.5, .max_cloud_fraction = 0.5}).ok());
}

TEST(CalibrationTest, ThinKeepsTheEndsAndSpreadsOverTheCloudFraction) {
  std::vector<ExampleRecord> many;
  for (int i = 0; i < 1000; ++i) {
    many.push_back({.score = i / 1000.0, .small_class = 0, .big_class = 0, .label = 0});
  }
  const auto curve = Sweep(RuleKind::kMaxProbability, many);
  const auto thin = Thin(curve, 11);
  EXPECT_LE(thin.size(), 12u);
  EXPECT_DOUBLE_EQ(thin.front().cloud_fraction, 0);
  EXPECT_DOUBLE_EQ(thin.back().cloud_fraction, 1);
  EXPECT_NEAR(thin[5].cloud_fraction, 0.5, 0.01);
}

}  // namespace
}  // namespace seam::cascade
