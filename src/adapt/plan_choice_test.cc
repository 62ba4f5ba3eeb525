// The choice among a set's plans: fastest predicted, hysteresis against noise, plans whose next
// tier is down skipped, the all-device plan when nothing can be sent.
#include "adapt/plan_choice.h"

#include <gtest/gtest.h>

#include <random>

namespace seam::adapt {
namespace {

std::vector<PlanOption> Options(double m0, double m1, double m2) {
  return {{"m0 (device 10 | edge 90)", m0, true, false},
          {"m1 (device 100)", m1, true, true},
          {"m2 (edge 100)", m2, true, false}};
}

TEST(PlanChoiceTest, FirstRequestTakesTheFastest) {
  const PlanChoice c = ChoosePlan(Options(20, 30, 15), -1);
  EXPECT_EQ(c.index, 2);
  EXPECT_FALSE(c.switched);
  EXPECT_NE(c.reason.find("m2 (edge 100), the fastest predicted"), std::string::npos) << c.reason;
  EXPECT_NE(c.reason.find("m0 20.0 ms, m1 30.0 ms, m2 15.0 ms"), std::string::npos) << c.reason;
}

TEST(PlanChoiceTest, SwitchesOnlyWhenTheOtherIsFasterByTheMargin) {
  // 10% faster: kept.
  PlanChoice c = ChoosePlan(Options(20, 30, 18), 0);
  EXPECT_EQ(c.index, 0);
  EXPECT_FALSE(c.switched);
  EXPECT_NE(c.reason.find("kept m0"), std::string::npos) << c.reason;
  // 20% faster: switched.
  c = ChoosePlan(Options(20, 30, 16), 0);
  EXPECT_EQ(c.index, 2);
  EXPECT_TRUE(c.switched);
}

TEST(PlanChoiceTest, NoiseWithinTheMarginNeverFlaps) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> noise(0.94, 1.06);  // +-6% on each prediction
  int current = -1, switches = 0;
  for (int i = 0; i < 10000; ++i) {
    const PlanChoice c = ChoosePlan(Options(20 * noise(rng), 40, 20.5 * noise(rng)), current);
    switches += c.switched;
    current = c.index;
  }
  EXPECT_EQ(switches, 0);
}

TEST(PlanChoiceTest, APlanWhoseNextTierIsDownIsLeftAtOnce) {
  auto options = Options(10, 30, 15);
  options[0].allowed = false;
  const PlanChoice c = ChoosePlan(options, 0);
  EXPECT_EQ(c.index, 2);
  EXPECT_TRUE(c.switched);
  EXPECT_NE(c.reason.find("m0's next tier is down"), std::string::npos) << c.reason;
  EXPECT_NE(c.reason.find("m0 10.0 ms (its next tier is down)"), std::string::npos) << c.reason;
}

TEST(PlanChoiceTest, NothingReachableTakesTheAllDevicePlan) {
  std::vector<PlanOption> options = {{"m0 (device 10 | edge 90)", 10, false, false},
                                     {"m1 (device 100)", 30, true, true}};
  // The all-device plan is always allowed: it is simply the fastest that may run.
  EXPECT_EQ(ChoosePlan(options, 0).index, 1);
  options[1].allowed = false;  // (a caller that marks it otherwise: still the one to take)
  const PlanChoice c = ChoosePlan(options, 0);
  EXPECT_EQ(c.index, 1);
  EXPECT_NE(c.reason.find("no plan's next tier is reachable"), std::string::npos) << c.reason;
}

}  // namespace
}  // namespace seam::adapt
