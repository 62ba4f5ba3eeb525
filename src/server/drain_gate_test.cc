// DrainGate: admits until closed, and shutdown waits for exactly the admitted calls.
#include "server/drain_gate.h"

#include <gtest/gtest.h>

#include <thread>

namespace seam::server {
namespace {

TEST(DrainGateTest, AdmitsUntilClosedAndWaitsForTheAdmitted) {
  DrainGate gate;
  ASSERT_TRUE(gate.TryEnter());
  ASSERT_TRUE(gate.TryEnter());
  EXPECT_EQ(gate.in_flight(), 2);
  gate.Close();
  EXPECT_TRUE(gate.closed());
  EXPECT_FALSE(gate.TryEnter());  // refused calls are not counted
  EXPECT_EQ(gate.in_flight(), 2);
  const auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(10);
  EXPECT_FALSE(gate.WaitIdle(soon));  // two calls still in flight
  std::thread finisher([&] {
    gate.Leave();
    gate.Leave();
  });
  EXPECT_TRUE(gate.WaitIdle(std::chrono::steady_clock::now() + std::chrono::seconds(10)));
  finisher.join();
  EXPECT_EQ(gate.in_flight(), 0);
}

}  // namespace
}  // namespace seam::server
