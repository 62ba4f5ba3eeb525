#include "adapt/light_probe.h"

#include <gtest/gtest.h>

#include <limits>

namespace seam::adapt {
namespace {

TEST(LightProbeTest, SizedToTheLinkAndNeverBelowTheMinimum) {
  // 1 Mbit/s crosses 2,500 B in 20 ms: below the floor, which outlasts a shaper's burst.
  EXPECT_EQ(LightProbeBytes(1, 786432), kLightProbeMinBytes);
  EXPECT_EQ(LightProbeBytes(0, 786432), kLightProbeMinBytes);  // unknown link
  EXPECT_EQ(LightProbeBytes(std::numeric_limits<double>::quiet_NaN(), 786432), kLightProbeMinBytes);
  // 50 Mbit/s: 125,000 B in 20 ms.
  EXPECT_EQ(LightProbeBytes(50, 786432), 125000u);
}

TEST(LightProbeTest, SizedFromTheSlowerKnownRate) {
  EXPECT_DOUBLE_EQ(SlowerKnownRate(2, 200), 2);
  EXPECT_DOUBLE_EQ(SlowerKnownRate(0, 200), 200);  // one unknown: the other
  EXPECT_DOUBLE_EQ(SlowerKnownRate(3, 0), 3);
  EXPECT_DOUBLE_EQ(SlowerKnownRate(0, 0), 0);
}

TEST(LightProbeTest, NeverMoreThanAQuarterOfTheCopy) {
  // A quarter is under the floor: the copy probes.
  EXPECT_EQ(LightProbeBytes(1, 4 * kLightProbeMinBytes - 1), 0u);
  EXPECT_EQ(LightProbeBytes(1, 4 * kLightProbeMinBytes), kLightProbeMinBytes);
  // An estimate from before the link slowed (1 Gbit/s: 2.5 MB in 20 ms): a quarter of the copy.
  EXPECT_EQ(LightProbeBytes(1000, 786432), 196608u);
  EXPECT_EQ(LightProbeBytes(std::numeric_limits<double>::infinity(), 786432), 196608u);
  EXPECT_EQ(LightProbeBytes(50, 500001), 125000u);
}

TEST(LightProbeTest, RepredictsTheRemotePartFromTheLink) {
  // 786 KB took 6.3 s at 1 Mbit/s, of which 6.29 s on the link: 10 ms beyond it.
  EXPECT_DOUBLE_EQ(RepredictRemoteMs(10, 126), 136);  // the same bytes at 50 Mbit/s
  EXPECT_DOUBLE_EQ(RepredictRemoteMs(-3, 5), 5);      // noise never makes it negative
}

TEST(LightProbeTest, ForcedCopiesTakeATwentiethOfTheLinkAtMost) {
  EXPECT_DOUBLE_EQ(ForcedCopyPauseMs(70), kForcedCopyEveryMs);  // a cheap copy: every 10 s
  // 576 KB at 2 Mbit/s: 2.3 s on the link, then 19 times that idle of copies.
  EXPECT_DOUBLE_EQ(ForcedCopyPauseMs(2300), 2300 * 19);
}

TEST(LightProbeTest, PacedByTheLinkTimeItsBytesTook) {
  EXPECT_DOUBLE_EQ(LightProbeLinkMs(5, 70), 65);
  EXPECT_DOUBLE_EQ(LightProbeLinkMs(0, 70), 70);  // the tiny call did not answer
  EXPECT_DOUBLE_EQ(LightProbeLinkMs(0, 0), 0);    // cut or failed: the interval paces it
}

TEST(LightProbeTest, AWindowReadsTheLinkAtItsBest) {
  LightProbeWindow w;
  EXPECT_TRUE(w.empty());
  EXPECT_DOUBLE_EQ(w.OptimisticLinkMs(786432), 0);
  // A 200 Mbit/s, 2 ms link probed by a busy device: 8 KB took 0.33 ms plus 0-40 ms of noise.
  w.Add(42, 8192, 82);
  w.Add(2, 8192, 2.33);
  w.Add(20, 8192, 45);
  // One clean reading is enough: 2 ms + 786 KB at 0.33 ms per 8 KB.
  EXPECT_NEAR(w.OptimisticLinkMs(786432), 2 + 0.33 * 96, 1e-9);
  // A slow link stays slow in every reading; older readings leave the window.
  for (int i = 0; i < 4; ++i) w.Add(3, 8192, 3 + 65.5);
  EXPECT_NEAR(w.OptimisticLinkMs(786432), 3 + 65.5 * 96, 1e-9);
  EXPECT_DOUBLE_EQ(w.BestRttMs(), 3);
  EXPECT_NEAR(w.BestMbps(), 8192 * 8 / 65.5e3, 1e-9);  // 1 Mbit/s
  w.Clear();
  EXPECT_TRUE(w.empty());
}

}  // namespace
}  // namespace seam::adapt
