// The planner's segment-edge terms: what a cut costs besides the transfer (the latency model's c,
// boundary_ms_per_byte), and the faster start of the lowest tier used (input_node_ms).
#include <gtest/gtest.h>

#include "plan/plan_fixture.h"
#include "plan/planner.h"

namespace seam::plan {
namespace {

// A chain whose first cut crosses a large tensor and the second a small one; the raw input stays
// on the device, so the choice is where the device stops.
constexpr const char* kChain = R"(
input image 100000
node conv1 reads image writes c1:1000000
node conv2 reads c1 writes c2:10000
node fc reads c2 writes probs:40:output
tier device times conv1=5 conv2=20 fc=20
tier cloud  times conv1=1 conv2=2 fc=1
link device-cloud 1gbit,1ms
keep-input-on-device
)";

PlanRequest Chain(double boundary_ms_per_byte) {
  auto fixture = ParsePlanFixture(kChain);
  EXPECT_TRUE(fixture.ok()) << fixture.status().ToString();
  PlanRequest r = fixture->request;
  for (auto& tier : r.tiers) tier.boundary_ms_per_byte = boundary_ms_per_byte;
  return r;
}

std::vector<int> Placement(const PlanRequest& r) {
  auto plan = MakePlan(r);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  return plan.ok() ? plan->tier_of_node : std::vector<int>{};
}

TEST(BoundaryCostTest, EdgeCostMovesTheSplitToTheSmallerTensor) {
  // Free edges: cut after conv1 (c1 takes 8 ms over the link, still cheaper than conv2 on the
  // device). 10 ns per byte: c1 costs 10 ms to write out and 10 ms to read in, so the device
  // keeps conv2 and the cut moves to c2.
  EXPECT_EQ(Placement(Chain(0)), (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(Placement(Chain(1e-5)), (std::vector<int>{0, 0, 1}));
}

TEST(BoundaryCostTest, EachSegmentPaysForWhatItTakesInAndGivesOut) {
  const PlanRequest r = Chain(1e-5);
  auto plan = MakePlan(r);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  // Device [conv1, conv2]: image in, c2 out. Cloud [fc]: c2 in, probs out.
  EXPECT_NEAR(plan->compute_ms[0], 25 + 1e-5 * 100000, 1e-9);
  EXPECT_NEAR(plan->compute_ms[1], 1 + 1e-5 * 40, 1e-9);
  ASSERT_FALSE(plan->moves.empty());
  EXPECT_EQ(r.graph.tensors[plan->moves[0].tensor].name, "c2");
  EXPECT_NEAR(plan->moves[0].boundary_ms, 2 * 1e-5 * 10000, 1e-12);
  // The result returning to the device passes through no segment.
  EXPECT_EQ(plan->moves.back().boundary_ms, 0);
  // Everything on the device: one segment, the image in and probs out.
  PlanRequest device_only = r;
  device_only.tiers.resize(1);
  device_only.links.clear();
  auto alone = MakePlan(device_only);
  ASSERT_TRUE(alone.ok());
  EXPECT_NEAR(alone->latency_ms, 45 + 1e-5 * (100000 + 40), 1e-9);
}

TEST(BoundaryCostTest, TheLowestTierUsedRunsItsSegmentFromTheModelInput) {
  // The cloud runs conv1 at 4 ms inside a segment that starts at a cut, but at 1 ms when its
  // segment starts at the model input. Sending the image to the cloud (0.8 ms) is only worth it
  // with the faster start: 1 + 2 + 1 + 0.8 + 1 (round trip) = 5.8 ms against the device's 5 + 2 +
  // ... The planner must price full offload with input_node_ms, a split with node_ms.
  auto fixture = ParsePlanFixture(R"(
input image 100000
node conv1 reads image writes c1:1000000
node conv2 reads c1 writes c2:10000
node fc reads c2 writes probs:40:output
tier device times conv1=3 conv2=2 fc=2
tier cloud  times conv1=4 conv2=2 fc=1
link device-cloud 1gbit,1ms
)");
  ASSERT_TRUE(fixture.ok());
  PlanRequest r = fixture->request;
  EXPECT_EQ(Placement(r), (std::vector<int>{0, 0, 0}));  // 7 ms against 4 + 2 + 1 + 1.8 = 8.8
  r.tiers[1].input_node_ms = {1, 2, 1};
  auto plan = MakePlan(r);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->tier_of_node, (std::vector<int>{1, 1, 1}));
  EXPECT_NEAR(plan->latency_ms, 1 + 2 + 1 + 0.8 + 1 + 0.00032, 1e-9);
  // In a split the cloud's segment starts at a cut: its slower times apply.
  r.keep_input_on_device = true;
  plan = MakePlan(r);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->tier_of_node, (std::vector<int>{0, 0, 0}));
}

}  // namespace
}  // namespace seam::plan
