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
  EXPECT_DOUBLE_EQ(r.remote_budget_ms, 48);  // give up on the remote answer with 52 ms left
  EXPECT_NE(r.reason.find("fallback in reserve"), std::string::npos) << r.reason;
}

TEST(RoutePolicyTest, FinishesLocallyWhenTheRemotePartIsPredictedTooSlow) {
  // The uplink collapsed: remote predicted 400 ms, the device alone meets 100 ms.
  const Route r =
      DecideRoute({.ms_left = 100, .device_ms = 5, .remote_ms = 400, .fallback_ms = 60});
  EXPECT_EQ(r.kind, Route::Kind::kLocal);
  EXPECT_NE(r.reason.find("leaves no time"), std::string::npos) << r.reason;
}

TEST(RoutePolicyTest, AnOpenCircuitMeansLocalAtOnce) {
  const Route r = DecideRoute(
      {.ms_left = kInf, .device_ms = 5, .remote_ms = 1, .fallback_ms = 60, .next_allowed = false});
  EXPECT_EQ(r.kind, Route::Kind::kLocal);
  EXPECT_NE(r.reason.find("circuit is open"), std::string::npos);
}

TEST(RoutePolicyTest, NoDeadlineSendsWithoutLimit) {
  const Route r =
      DecideRoute({.ms_left = kInf, .device_ms = 5, .remote_ms = 30, .fallback_ms = 40});
  EXPECT_EQ(r.kind, Route::Kind::kRemote);
  EXPECT_TRUE(std::isinf(r.remote_budget_ms));
}

TEST(RoutePolicyTest, UnknownRemoteIsTriedWhenThereIsTimeToFallBack) {
  const Route tried = DecideRoute({.ms_left = 200, .device_ms = 5, .fallback_ms = 40});
  EXPECT_EQ(tried.kind, Route::Kind::kRemote);
  EXPECT_DOUBLE_EQ(tried.remote_budget_ms, 148);
  const Route local = DecideRoute({.ms_left = 50, .device_ms = 5, .fallback_ms = 40});
  EXPECT_EQ(local.kind, Route::Kind::kLocal);
}

TEST(RoutePolicyTest, AStaleEstimateIsReMeasuredWithTheFallbackInReserve) {
  // Predicted too slow a while ago: without re-measuring, the device would never send again.
  const Route r = DecideRoute(
      {.ms_left = 100, .device_ms = 5, .remote_ms = 400, .remote_stale = true, .fallback_ms = 40});
  EXPECT_EQ(r.kind, Route::Kind::kRemote);
  EXPECT_DOUBLE_EQ(r.remote_budget_ms, 48);
  EXPECT_NE(r.reason.find("re-measuring"), std::string::npos) << r.reason;
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

TEST(RoutePolicyTest, ConfigIsValidated) {
  EXPECT_TRUE(RouteConfig{}.Validate().ok());
  EXPECT_FALSE(RouteConfig{.fallback_margin = -1}.Validate().ok());
}

}  // namespace
}  // namespace seam::adapt
