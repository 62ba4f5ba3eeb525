// LinkShaper's arithmetic on made-up times: serialisation at the rate after a small burst, then the
// delay, pipelined.
#include "lab/link_shaper.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace seam::lab {
namespace {

using Clock = LinkShaper::Clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

TEST(LinkShaperTest, UnlimitedRateOnlyDelays) {
  LinkShaper shaper({.rate_bps = 0, .delay_ms = 25});
  const Clock::time_point t0 = Clock::now();
  const auto a = shaper.Admit(10 << 20, t0);
  EXPECT_EQ(a.sent, t0);
  EXPECT_NEAR(Ms(a.due - t0), 25, 1e-3);
  EXPECT_EQ(shaper.ChunkBytes(), 64u << 10);
  shaper.Admit(3, t0);
  EXPECT_EQ(shaper.bytes(), (10u << 20) + 3);  // what crossed, whatever the rate
}

TEST(LinkShaperTest, BurstThenRate) {
  LinkShaper shaper({.rate_bps = 8e6, .delay_ms = 0});  // 1 byte per microsecond
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(shaper.Admit(LinkShaper::kMinBurstBytes, t0).sent, t0);  // the burst is free
  EXPECT_NEAR(Ms(shaper.Admit(1000, t0).sent - t0), 1.0, 1e-3);      // then 1000 B = 1 ms
  // Idle for a long time: tokens refill up to the burst only.
  const Clock::time_point t1 = t0 + std::chrono::seconds(10);
  EXPECT_EQ(shaper.Admit(LinkShaper::kMinBurstBytes, t1).sent, t1);
  EXPECT_NEAR(Ms(shaper.Admit(2000, t1).sent - t1), 2.0, 1e-3);
}

TEST(LinkShaperTest, SustainedThroughputIsTheRate) {
  LinkShaper shaper({.rate_bps = 8e6, .delay_ms = 40});
  const Clock::time_point t0 = Clock::now();
  LinkShaper::Admission last{};
  for (int i = 0; i < 1000; ++i) last = shaper.Admit(1000, t0);  // 1 MB queued at once
  const double expected_ms = (1e6 - LinkShaper::kMinBurstBytes) * 8 / 8e6 * 1e3;
  EXPECT_NEAR(Ms(last.sent - t0), expected_ms, 1e-3);
  // The delay is added once, not per chunk: it is pipelined.
  EXPECT_NEAR(Ms(last.due - t0), expected_ms + 40, 1e-3);
}

TEST(LinkShaperTest, BurstIsOneMillisecondAtHighRates) {
  LinkShaper shaper({.rate_bps = 1e9, .delay_ms = 0});  // 1 ms = 125000 bytes
  const Clock::time_point t0 = Clock::now();
  EXPECT_EQ(shaper.Admit(125000, t0).sent, t0);
  EXPECT_GT(shaper.Admit(1000, t0).sent, t0);
}

TEST(LinkShaperTest, NewRateForgivesDebtAndAppliesAtOnce) {
  LinkShaper shaper({.rate_bps = 1e3, .delay_ms = 0});
  const Clock::time_point t0 = Clock::now();
  EXPECT_GT(Ms(shaper.Admit(100000, t0).sent - t0), 60000);  // a minute of debt at 1 kbit/s
  shaper.Set({.rate_bps = 8e6, .delay_ms = 5}, t0);
  const auto a = shaper.Admit(1000, t0);
  EXPECT_NEAR(Ms(a.sent - t0), 1.0, 1e-3);  // an empty bucket at the new rate
  EXPECT_NEAR(Ms(a.due - t0), 6.0, 1e-3);
  EXPECT_EQ(shaper.Get().delay_ms, 5);
}

TEST(LinkShaperTest, ChunksAreAboutOneMillisecond) {
  EXPECT_EQ(LinkShaper({.rate_bps = 1e6}).ChunkBytes(), 1500u);  // at least a packet
  EXPECT_EQ(LinkShaper({.rate_bps = 100e6}).ChunkBytes(), 12500u);
  EXPECT_EQ(LinkShaper({.rate_bps = 10e9}).ChunkBytes(), 64u << 10);
}

TEST(LinkShaperTest, ValidateRejectsNegativeAndNotFinite) {
  EXPECT_TRUE(ValidateLinkShape({.rate_bps = 0, .delay_ms = 0}, "up").ok());
  const Status negative = ValidateLinkShape({.rate_bps = -1}, "up link");
  EXPECT_EQ(negative.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(negative.message().find("up link: rate"), std::string::npos) << negative.message();
  EXPECT_FALSE(
      ValidateLinkShape({.delay_ms = std::numeric_limits<double>::quiet_NaN()}, "down").ok());
  EXPECT_FALSE(ValidateLinkShape({.rate_bps = INFINITY}, "down").ok());
}

}  // namespace
}  // namespace seam::lab
