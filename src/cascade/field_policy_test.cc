#include "cascade/field_policy.h"

#include <gtest/gtest.h>

namespace seam::cascade {
namespace {

Tensor Frame(float value) {
  Tensor t = Tensor::Zeros(DType::kFloat32, {1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) t.data_as<float>()[i] = value;
  return t;
}

TEST(FieldPolicyTest, OneFrameOfN) {
  FieldPolicy policy({.every_n = 3});
  int processed = 0;
  for (int i = 0; i < 9; ++i) processed += policy.Admit(Frame(i), 0) == FrameVerdict::kProcess;
  EXPECT_EQ(processed, 3);
  EXPECT_EQ(policy.counters().sampled_out, 6);
  EXPECT_EQ(policy.counters().frames, 9);
}

TEST(FieldPolicyTest, TimeWindowsIncludingOneOverMidnight) {
  auto windows = ParseWindows("22:00-02:00,12:00-12:30");
  ASSERT_TRUE(windows.ok()) << windows.status().ToString();
  FieldPolicy policy({.windows = *windows});
  EXPECT_EQ(policy.Admit(Frame(0), 23 * 60), FrameVerdict::kProcess);
  EXPECT_EQ(policy.Admit(Frame(0), 1 * 60 + 59), FrameVerdict::kProcess);
  EXPECT_EQ(policy.Admit(Frame(0), 2 * 60), FrameVerdict::kOutsideWindow);  // end is exclusive
  EXPECT_EQ(policy.Admit(Frame(0), 12 * 60 + 10), FrameVerdict::kProcess);
  EXPECT_EQ(policy.Admit(Frame(0), 18 * 60), FrameVerdict::kOutsideWindow);
  EXPECT_EQ(policy.counters().outside_window, 2);
  auto night = ParseWindows("00:00-06:00");
  ASSERT_TRUE(night.ok());
  EXPECT_TRUE((*night)[0].Contains(0));
  EXPECT_FALSE((*night)[0].Contains(6 * 60));
  auto all_day = ParseWindows("06:00-24:00");
  ASSERT_TRUE(all_day.ok());
  EXPECT_TRUE((*all_day)[0].Contains(23 * 60 + 59));
}

TEST(FieldPolicyTest, FramesOutsideTheWindowsDoNotCountTowardsOneOfN) {
  auto windows = ParseWindows("00:00-06:00");
  FieldPolicy policy({.every_n = 2, .windows = *windows});
  EXPECT_EQ(policy.Admit(Frame(0), 60), FrameVerdict::kProcess);
  EXPECT_EQ(policy.Admit(Frame(0), 7 * 60), FrameVerdict::kOutsideWindow);
  EXPECT_EQ(policy.Admit(Frame(0), 61), FrameVerdict::kSampledOut);
  EXPECT_EQ(policy.Admit(Frame(0), 62), FrameVerdict::kProcess);
}

TEST(FieldPolicyTest, MotionGatingComparesWithTheLastProcessedFrame) {
  FieldPolicy policy({.motion_threshold = 0.02});
  EXPECT_EQ(policy.Admit(Frame(0.5f), 0), FrameVerdict::kProcess);  // the first always passes
  EXPECT_EQ(policy.Admit(Frame(0.505f), 0), FrameVerdict::kNoMotion);
  // Drift frame by frame stays measured against the last processed frame: 0.01 then 0.025.
  EXPECT_EQ(policy.Admit(Frame(0.51f), 0), FrameVerdict::kNoMotion);
  EXPECT_EQ(policy.Admit(Frame(0.525f), 0), FrameVerdict::kProcess);
  EXPECT_EQ(policy.Admit(Frame(0.53f), 0), FrameVerdict::kNoMotion);
  // Something crossing a quarter of the frame: 4 of 16 pixels change by 0.4 (mean 0.1).
  Tensor crossing = Frame(0.525f);
  for (int i = 0; i < 4; ++i) crossing.data_as<float>()[i] += 0.4f;
  EXPECT_EQ(policy.Admit(crossing, 0), FrameVerdict::kProcess);
  EXPECT_EQ(policy.counters().no_motion, 3);
  EXPECT_EQ(policy.counters().processed, 3);
  EXPECT_NEAR(*MeanAbsoluteDifference(Frame(0), Frame(0.25f)), 0.25, 1e-7);
  EXPECT_FALSE(MeanAbsoluteDifference(Frame(0), Tensor::Zeros(DType::kFloat32, {2})).has_value());
}

TEST(FieldPolicyTest, BadSettingsAreRefusedSayingWhy) {
  EXPECT_FALSE(ParseWindows("25:00-06:00").ok());
  auto no_colon = ParseWindows("0000-0600");
  ASSERT_FALSE(no_colon.ok());
  EXPECT_NE(no_colon.status().message().find("HH:MM"), std::string::npos);
  EXPECT_FALSE(ParseWindows("06:00-06:00").ok());
  EXPECT_FALSE(ParseWindows("06:00").ok());
  EXPECT_FALSE(ParseWindows("").ok());
  EXPECT_FALSE(FieldPolicyConfig{.every_n = 0}.Validate().ok());
  EXPECT_FALSE(FieldPolicyConfig{.motion_threshold = 2}.Validate().ok());
  const FieldPolicyConfig good{.every_n = 20, .motion_threshold = 0.02};
  EXPECT_TRUE(good.Validate().ok());
}

TEST(FieldPolicyTest, TheSiteTimeZoneGivesTheLocalTimeOfDay) {
  // 2026-01-15 12:30:00 UTC.
  const auto when = std::chrono::system_clock::from_time_t(1768480200);
  EXPECT_EQ(*LocalMinuteOfDay(when, "UTC"), 12 * 60 + 30);
  EXPECT_EQ(*LocalMinuteOfDay(when, ""), 12 * 60 + 30);
  auto tokyo = LocalMinuteOfDay(when, "Asia/Tokyo");
  if (!tokyo.ok()) GTEST_SKIP() << tokyo.status().message();
  EXPECT_EQ(*tokyo, 21 * 60 + 30);
  EXPECT_EQ(*LocalMinuteOfDay(when, "Europe/Paris"), 13 * 60 + 30);  // winter: UTC+1
  // Summer time: 2026-07-15 12:30 UTC is 14:30 in Paris.
  EXPECT_EQ(*LocalMinuteOfDay(std::chrono::system_clock::from_time_t(1784118600), "Europe/Paris"),
            14 * 60 + 30);
  auto bad = LocalMinuteOfDay(when, "Mars/Olympus");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown time zone 'Mars/Olympus'"), std::string::npos);
}

}  // namespace
}  // namespace seam::cascade
