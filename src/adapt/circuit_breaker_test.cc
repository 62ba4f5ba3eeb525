#include "adapt/circuit_breaker.h"

#include <gtest/gtest.h>

namespace seam::adapt {
namespace {

constexpr int64_t kMs = 1000;

TEST(CircuitBreakerTest, OpensAfterFailuresInARowAndProbesAfterTheCoolDown) {
  CircuitBreaker breaker({.failures_to_open = 3, .open_ms = 100, .max_open_ms = 1000, .jitter = 0});
  int64_t now = 0;
  EXPECT_TRUE(breaker.Allow(now));
  breaker.OnFailure(now);
  breaker.OnFailure(now);
  breaker.OnSuccess();  // a success in between resets the count
  breaker.OnFailure(now);
  breaker.OnFailure(now);
  EXPECT_EQ(breaker.state(now), CircuitBreaker::State::kClosed);
  breaker.OnFailure(now);
  EXPECT_EQ(breaker.state(now), CircuitBreaker::State::kOpen);
  EXPECT_FALSE(breaker.Allow(now + 99 * kMs));
  // Half-open: exactly one probe.
  now += 100 * kMs;
  EXPECT_EQ(breaker.state(now), CircuitBreaker::State::kHalfOpen);
  EXPECT_TRUE(breaker.Allow(now));
  EXPECT_FALSE(breaker.Allow(now));
  // The probe fails: open again, twice as long.
  breaker.OnFailure(now);
  EXPECT_FALSE(breaker.Allow(now + 199 * kMs));
  EXPECT_TRUE(breaker.Allow(now + 200 * kMs));
  breaker.OnSuccess();
  EXPECT_EQ(breaker.state(now + 200 * kMs), CircuitBreaker::State::kClosed);
  EXPECT_TRUE(breaker.Allow(now + 200 * kMs));
  EXPECT_EQ(breaker.opened(), 2);
}

TEST(CircuitBreakerTest, CoolDownsDoubleUpToTheMaximumAndResetOnSuccess) {
  CircuitBreaker breaker({.failures_to_open = 1, .open_ms = 100, .max_open_ms = 300, .jitter = 0});
  int64_t now = 0;
  breaker.OnFailure(now);
  std::vector<int64_t> cool_downs;
  for (int i = 0; i < 4; ++i) {
    cool_downs.push_back((breaker.open_until_us() - now) / kMs);
    now = breaker.open_until_us();
    ASSERT_TRUE(breaker.Allow(now));
    breaker.OnFailure(now);
  }
  EXPECT_EQ(cool_downs, (std::vector<int64_t>{100, 200, 300, 300}));
  now = breaker.open_until_us();
  ASSERT_TRUE(breaker.Allow(now));
  breaker.OnSuccess();
  breaker.OnFailure(now);
  EXPECT_EQ((breaker.open_until_us() - now) / kMs, 100);
}

TEST(CircuitBreakerTest, JitterSpreadsCoolDownsWithinItsBounds) {
  int64_t low = INT64_MAX, high = 0;
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    CircuitBreaker breaker({.failures_to_open = 1, .open_ms = 1000, .jitter = 0.2}, seed);
    breaker.OnFailure(0);
    low = std::min(low, breaker.open_until_us());
    high = std::max(high, breaker.open_until_us());
  }
  EXPECT_GE(low, 800 * kMs);
  EXPECT_LE(high, 1200 * kMs);
  EXPECT_GT(high - low, 100 * kMs);  // not all the same instant
}

TEST(CircuitBreakerTest, ConfigIsValidated) {
  EXPECT_TRUE(BreakerConfig{}.Validate().ok());
  EXPECT_FALSE(BreakerConfig{.failures_to_open = 0}.Validate().ok());
  EXPECT_FALSE(BreakerConfig{.open_ms = 0}.Validate().ok());
  EXPECT_FALSE((BreakerConfig{.open_ms = 10, .max_open_ms = 5}.Validate().ok()));
  EXPECT_FALSE(BreakerConfig{.jitter = 1}.Validate().ok());
}

}  // namespace
}  // namespace seam::adapt
