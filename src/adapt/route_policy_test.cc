#include "adapt/route_policy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace seam::adapt {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(RoutePolicyTest, WithoutAFallbackEverythingIsSentWithTheWholeDeadline) {
  const Route r = DecideRoute({.ms_left = 80, .device_ms = 5, .remote_ms = 500});
  EXPECT_EQ(r.kind, Route::Kind::kRemote);
  EXPECT_DOUBLE_EQ(r.remote_budget_ms, 80);
}

TEST(RoutePolicyTest, SendsWhileTheFallbackStaysInReserve) {
  // 100 ms left; remote predicted 30 ms; fallback 40 ms -> reserve 40*1.25+2 = 52 ms.
  const Route r = DecideRoute({.ms_left = 100, .device_ms = 5, .remote_ms = 30, .fallback_ms = 40});
  EXPECT_EQ(r.kind, Route::Kind::kRemote);
  // Given up when only the 52 ms reserve is left, or once it runs too slow: 2 x 35 ms.
  EXPECT_DOUBLE_EQ(r.remote_budget_ms, 48);
  EXPECT_NE(r.reason.find("fallback in reserve"), std::string::npos) << r.reason;
}

TEST(RoutePolicyTest, FinishesLocallyWhenTheRemotePartIsPredictedTooSlow) {
  // Remote 50 ms would be faster than local 55 ms, but with the fallback's 64.5 ms in reserve it
  // does not fit 100 ms: the device answers, degraded.
  const Route r = DecideRoute({.ms_left = 100, .device_ms = 5, .remote_ms = 45, .fallback_ms = 50});
  EXPECT_EQ(r.kind, Route::Kind::kLocal);
  EXPECT_TRUE(r.degraded);
  EXPECT_NE(r.reason.find("leaves no time"), std::string::npos) << r.reason;
}

TEST(RoutePolicyTest, AnOpenCircuitMeansLocalAtOnce) {
  const Route r = DecideRoute(
      {.ms_left = kInf, .device_ms = 5, .remote_ms = 1, .fallback_ms = 60, .next_allowed = false});
  EXPECT_EQ(r.kind, Route::Kind::kLocal);
  EXPECT_NE(r.reason.find("circuit is open"), std::string::npos);
}

TEST(RoutePolicyTest, WithoutADeadlineOnlyTooSlowGivesUp) {
  const Route r =
      DecideRoute({.ms_left = kInf, .device_ms = 5, .remote_ms = 30, .fallback_ms = 40});
  EXPECT_EQ(r.kind, Route::Kind::kRemote);
  EXPECT_DOUBLE_EQ(r.remote_budget_ms, 70);  // 2 x 35 ms
  // Without an estimate (the first request), nothing bounds it.
  EXPECT_TRUE(std::isinf(DecideRoute({.ms_left = kInf, .fallback_ms = 40}).remote_budget_ms));
}

TEST(RoutePolicyTest, UnknownRemoteIsTriedWhenThereIsTimeToFallBack) {
  const Route tried = DecideRoute({.ms_left = 200, .device_ms = 5, .fallback_ms = 40});
  EXPECT_EQ(tried.kind, Route::Kind::kRemote);
  EXPECT_DOUBLE_EQ(tried.remote_budget_ms, 148);
  const Route local = DecideRoute({.ms_left = 50, .device_ms = 5, .fallback_ms = 40});
  EXPECT_EQ(local.kind, Route::Kind::kLocal);
}

TEST(RoutePolicyTest, WhenNothingMeetsTheDeadlineTheFasterIsTaken) {
  const Route remote =
      DecideRoute({.ms_left = 20, .device_ms = 5, .remote_ms = 30, .fallback_ms = 60});
  EXPECT_EQ(remote.kind, Route::Kind::kRemote);
  EXPECT_DOUBLE_EQ(remote.remote_budget_ms, 20);
  const Route local =
      DecideRoute({.ms_left = 20, .device_ms = 5, .remote_ms = 90, .fallback_ms = 60});
  EXPECT_EQ(local.kind, Route::Kind::kLocal);
}

TEST(RoutePolicyTest, TheFasterWinsWithHysteresisAndIsNotDegraded) {
  // Sent: 5 + 25 = 30 ms. Local 5 + 22 = 27 ms is faster, but within 15%: keep sending.
  EXPECT_EQ(DecideRoute({.ms_left = kInf, .device_ms = 5, .remote_ms = 25, .fallback_ms = 22}).kind,
            Route::Kind::kRemote);
  // Local 5 + 10 = 15 ms vs 30 ms: clearly faster, switch; not a degraded answer.
  const Route local =
      DecideRoute({.ms_left = kInf, .device_ms = 5, .remote_ms = 25, .fallback_ms = 10});
  EXPECT_EQ(local.kind, Route::Kind::kLocal);
  EXPECT_FALSE(local.degraded);
  EXPECT_NE(local.reason.find("predicted faster"), std::string::npos) << local.reason;
  // Once local, stay while within 15% of remote (33 ms vs 30 ms); leave when clearly slower.
  EXPECT_EQ(
      DecideRoute(
          {.ms_left = kInf, .device_ms = 5, .remote_ms = 25, .fallback_ms = 28, .was_local = true})
          .kind,
      Route::Kind::kLocal);
  EXPECT_EQ(
      DecideRoute(
          {.ms_left = kInf, .device_ms = 5, .remote_ms = 25, .fallback_ms = 40, .was_local = true})
          .kind,
      Route::Kind::kRemote);
}

TEST(RoutePolicyTest, ARemotePartFarSlowerThanPredictedIsGivenUp) {
  // Predicted 10 ms; the device alone takes 25 ms: wait at most max(2 x 10, 25) = 25 ms, not the
  // whole 5 s deadline, before the fallback answers (a link that just faded).
  const Route r =
      DecideRoute({.ms_left = 5000, .device_ms = 0, .remote_ms = 10, .fallback_ms = 25});
  EXPECT_EQ(r.kind, Route::Kind::kRemote);
  EXPECT_DOUBLE_EQ(r.remote_budget_ms, 25);
  const Route fast_device =
      DecideRoute({.ms_left = 5000, .device_ms = 0, .remote_ms = 10, .fallback_ms = 12});
  EXPECT_DOUBLE_EQ(fast_device.remote_budget_ms, 20);
}

TEST(RoutePolicyTest, ConfigIsValidated) {
  EXPECT_FALSE(RouteConfig{.too_slow = 0.5}.Validate().ok());
  EXPECT_FALSE(RouteConfig{.hysteresis = 1}.Validate().ok());
  EXPECT_TRUE(RouteConfig{}.Validate().ok());
  EXPECT_FALSE(RouteConfig{.fallback_margin = -1}.Validate().ok());
}

}  // namespace
}  // namespace seam::adapt
