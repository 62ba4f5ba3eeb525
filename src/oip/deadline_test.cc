#include "oip/deadline.h"

#include <gtest/gtest.h>

#include <cmath>

namespace seam::oip {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(DeadlineTest, TimeLeftTravelsAndBecomesADeadlineOnTheReceiversClock) {
  const SteadyClock::time_point sent{milliseconds(1000)};
  inference::ModelInferRequest request;
  SetTimeout(sent + milliseconds(250), sent, &request);
  EXPECT_EQ(request.parameters().at(kTimeoutParameter).int64_param(), 250000);
  // The receiver's clock has another origin: only the time left matters.
  const SteadyClock::time_point received{milliseconds(77)};
  auto deadline = ReadDeadline(request, received);
  ASSERT_TRUE(deadline.ok()) << deadline.status().ToString();
  ASSERT_TRUE(deadline->has_value());
  EXPECT_EQ(**deadline, received + milliseconds(250));
  EXPECT_DOUBLE_EQ(MsLeft(*deadline, received + milliseconds(50)), 200.0);
}

TEST(DeadlineTest, APassedDeadlineSendsZeroAndNoDeadlineSendsNothing) {
  const SteadyClock::time_point now{milliseconds(500)};
  inference::ModelInferRequest request;
  SetTimeout(now - milliseconds(3), now, &request);
  EXPECT_EQ(request.parameters().at(kTimeoutParameter).int64_param(), 0);
  SetTimeout(Deadline{}, now, &request);
  EXPECT_FALSE(request.parameters().contains(kTimeoutParameter));
  auto none = ReadDeadline(request, now);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  EXPECT_TRUE(std::isinf(MsLeft(*none, now)));
}

TEST(DeadlineTest, MalformedTimeoutsAreRefusedNamingTheParameter) {
  inference::ModelInferRequest request;
  (*request.mutable_parameters())[kTimeoutParameter].set_int64_param(-5);
  auto negative = ReadDeadline(request, SteadyClock::now());
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(negative.status().message().find(kTimeoutParameter), std::string::npos);
  (*request.mutable_parameters())[kTimeoutParameter].set_string_param("soon");
  EXPECT_FALSE(ReadDeadline(request, SteadyClock::now()).ok());
  // A huge value is clamped rather than overflowing the clock.
  (*request.mutable_parameters())[kTimeoutParameter].set_int64_param(INT64_MAX);
  auto huge = ReadDeadline(request, SteadyClock::now());
  ASSERT_TRUE(huge.ok());
  EXPECT_GT(MsLeft(*huge, SteadyClock::now()), 1e9);
}

TEST(DeadlineTest, EarliestAndSystemDeadlines) {
  const SteadyClock::time_point now{milliseconds(10)};
  EXPECT_EQ(Earliest(now + milliseconds(5), Deadline{}), now + milliseconds(5));
  EXPECT_EQ(Earliest(Deadline{}, now), now);
  EXPECT_EQ(Earliest(now + milliseconds(5), now + milliseconds(2)), now + milliseconds(2));
  EXPECT_FALSE(Earliest(Deadline{}, Deadline{}).has_value());
  EXPECT_FALSE(FromSystemDeadline(std::chrono::system_clock::time_point::max(), now).has_value());
  auto in_a_second = FromSystemDeadline(std::chrono::system_clock::now() + milliseconds(1000), now);
  ASSERT_TRUE(in_a_second.has_value());
  EXPECT_NEAR(MsLeft(in_a_second, now), 1000.0, 50.0);
}

}  // namespace
}  // namespace seam::oip
