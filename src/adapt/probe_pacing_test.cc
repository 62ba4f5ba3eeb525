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

TEST(ProbePacingTest, AProbeIsCutWhenItCanNoLongerMakeSendingTheBetterRoute) {
  // A device that finishes alone in 23 ms, running no segment of its own: sending wins only
  // below 20 ms (hysteresis 0.15), so the probe may run 30 ms.
  EXPECT_DOUBLE_EQ(ProbeCapMs(0, 23, 0.15), 30);
  // A device segment of 10 ms of a 50 ms local run: the remote part must beat
  // 50 / 1.15 - 10 = 33.5 ms; the probe runs the segment too, allowed twice its estimate.
  EXPECT_NEAR(ProbeCapMs(10, 50, 0.15), 2 * 10 + 1.5 * (50 / 1.15 - 10), 1e-9);
  // Tiny or inconsistent estimates: never below the floor.
  EXPECT_DOUBLE_EQ(ProbeCapMs(0, 1, 0.15), kProbeCapFloorMs);
  EXPECT_DOUBLE_EQ(ProbeCapMs(30, 20, 0.15), 60);
  EXPECT_DOUBLE_EQ(ProbeCapMs(0, 1, 0.15, 0.5), 1.5 / 1.15);
}

}  // namespace
}  // namespace seam::adapt
