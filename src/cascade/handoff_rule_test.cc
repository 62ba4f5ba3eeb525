#include "cascade/handoff_rule.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace seam::cascade {
namespace {

HandoffRule Rule(RuleKind kind, double threshold, bool softmax = false) {
  return {.kind = kind, .threshold = threshold, .output = "y", .softmax = softmax};
}

TEST(HandoffRuleTest, MaxProbabilityAndMarginReadTheTopClasses) {
  const std::vector<float> p = {0.1f, 0.7f, 0.2f};
  auto d = Decide(Rule(RuleKind::kMaxProbability, 0.6), p);
  ASSERT_TRUE(d.ok());
  EXPECT_NEAR(d->score, 0.7, 1e-6);
  EXPECT_EQ(d->top_class, 1);
  EXPECT_TRUE(d->confident);
  EXPECT_FALSE(Decide(Rule(RuleKind::kMaxProbability, 0.75), p)->confident);
  auto m = Decide(Rule(RuleKind::kMargin, 0.49), p);
  EXPECT_NEAR(m->score, 0.5, 1e-6);
  EXPECT_TRUE(m->confident);
  EXPECT_FALSE(Decide(Rule(RuleKind::kMargin, 0.51), p)->confident);
}

TEST(HandoffRuleTest, LogitsGoThroughASoftmax) {
  // logits 0 and ln 3: probabilities 0.25 and 0.75, whatever constant is added.
  const std::vector<float> logits = {100.0f, 100.0f + static_cast<float>(std::log(3.0))};
  auto d = Decide(Rule(RuleKind::kMaxProbability, 0.7, /*softmax=*/true), logits);
  ASSERT_TRUE(d.ok());
  EXPECT_NEAR(d->score, 0.75, 1e-5);
  EXPECT_EQ(d->top_class, 1);
}

TEST(HandoffRuleTest, EntropyIsConfidentWhenLow) {
  const std::vector<float> uniform(4, 0.25f), sure = {1, 0, 0, 0};
  auto u = Decide(Rule(RuleKind::kEntropy, 0.5), uniform);
  EXPECT_NEAR(u->score, std::log(4.0), 1e-6);
  EXPECT_FALSE(u->confident);
  auto s = Decide(Rule(RuleKind::kEntropy, 0.5), sure);
  EXPECT_NEAR(s->score, 0, 1e-9);
  EXPECT_TRUE(s->confident);
}

TEST(HandoffRuleTest, DetectorRulesReadTheBoxScoresAboveTheDetectionThreshold) {
  HandoffRule mean = Rule(RuleKind::kMeanBoxScore, 0.8);
  mean.box_threshold = 0.5;
  // Detections 0.9 and 0.6 (0.2 and 0.1 are no detection): mean 0.75 < 0.8, hard.
  const std::vector<float> boxes = {0.9f, 0.2f, 0.6f, 0.1f};
  auto d = Decide(mean, boxes);
  EXPECT_NEAR(d->score, 0.75, 1e-6);
  EXPECT_FALSE(d->confident);
  HandoffRule share = Rule(RuleKind::kLowScoreShare, 0.4);
  share.box_threshold = 0.5;
  share.low_score = 0.7;
  auto s = Decide(share, boxes);  // one of two detections below 0.7
  EXPECT_NEAR(s->score, 0.5, 1e-6);
  EXPECT_FALSE(s->confident);
  // Nothing detected: nothing to re-check.
  const std::vector<float> empty_scene = {0.1f, 0.05f};
  EXPECT_TRUE(Decide(mean, empty_scene)->confident);
  EXPECT_TRUE(Decide(share, empty_scene)->confident);
}

TEST(HandoffRuleTest, BadRowsAndSettingsAreRefusedWithTheirReason) {
  EXPECT_FALSE(Decide(Rule(RuleKind::kMargin, 0.5), std::vector<float>{}).ok());
  const std::vector<float> nan = {0.5f, NAN};
  auto d = Decide(Rule(RuleKind::kMargin, 0.5), nan);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("not finite"), std::string::npos);

  EXPECT_TRUE(Rule(RuleKind::kMaxProbability, 0.9).Validate().ok());
  auto high = Rule(RuleKind::kMaxProbability, 1.5).Validate();
  EXPECT_NE(high.message().find("between 0 and 1"), std::string::npos) << high.message();
  EXPECT_FALSE(Rule(RuleKind::kMargin, -0.1).Validate().ok());
  EXPECT_TRUE(Rule(RuleKind::kEntropy, 2.0).Validate(10).ok());  // ln 10 = 2.30
  EXPECT_FALSE(Rule(RuleKind::kEntropy, 2.4).Validate(10).ok());
  HandoffRule no_output = Rule(RuleKind::kMargin, 0.5);
  no_output.output.clear();
  EXPECT_FALSE(no_output.Validate().ok());
  auto kind = ParseRuleKind("confidence");
  ASSERT_FALSE(kind.ok());
  EXPECT_NE(kind.status().message().find("max_probability"), std::string::npos);
  EXPECT_EQ(*ParseRuleKind("low_score_share"), RuleKind::kLowScoreShare);
}

}  // namespace
}  // namespace seam::cascade
