#include "adapt/probe_pacing.h"

#include <gtest/gtest.h>

namespace seam::adapt {
namespace {

TEST(ProbePacingTest, TheIntervalDecidesOnFastLinksTheShareOnSlowOnes) {
  // A 10 ms probe: 30 ms of pause would do; the 100 ms interval is longer.
  EXPECT_DOUBLE_EQ(ProbePauseMs(100, 10), 100);
  // A 6 s probe (786 KB at 1 Mbit/s): 18 s of pause keeps probes to a quarter of the link's time.
  EXPECT_DOUBLE_EQ(ProbePauseMs(100, 6000), 18000);
  EXPECT_DOUBLE_EQ(ProbePauseMs(100, 33), 100);  // 8 KB at 2 Mbit/s: the interval
  EXPECT_DOUBLE_EQ(ProbePauseMs(100, 6000, 0.5), 6000);
  // No probe yet, or a nonsensical share: the interval.
  EXPECT_DOUBLE_EQ(ProbePauseMs(100, 0), 100);
  EXPECT_DOUBLE_EQ(ProbePauseMs(100, 500, 0), 100);
  EXPECT_DOUBLE_EQ(ProbePauseMs(100, 500, 1), 100);
}

}  // namespace
}  // namespace seam::adapt
