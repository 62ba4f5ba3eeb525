// Golden planner cases: each src/plan/testdata/*.plan file is one case (see plan_fixture.h).
#include <gtest/gtest.h>

#include <filesystem>

#include "common/file_util.h"
#include "plan/plan_fixture.h"

namespace seam::plan {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> Cases() {
  std::vector<std::string> cases;
  for (const auto& entry :
       fs::directory_iterator(std::string(SEAM_SOURCE_DIR) + "/src/plan/testdata")) {
    if (entry.path().extension() == ".plan") cases.push_back(entry.path().stem().string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

class GoldenPlanTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenPlanTest, MatchesExpectation) {
  const std::string path =
      std::string(SEAM_SOURCE_DIR) + "/src/plan/testdata/" + GetParam() + ".plan";
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto fixture = ParsePlanFixture(*text);
  ASSERT_TRUE(fixture.ok()) << fixture.status().ToString();
  auto plan = MakePlan(fixture->request);
  if (!fixture->expected_error.empty()) {
    ASSERT_FALSE(plan.ok()) << "expected an error containing: " << fixture->expected_error;
    EXPECT_NE(plan.status().message().find(fixture->expected_error), std::string::npos)
        << plan.status().message();
    return;
  }
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const PlanRequest& r = fixture->request;
  for (size_t v = 0; v < r.graph.nodes.size(); ++v) {
    auto it = fixture->expected_placement.find(r.graph.nodes[v].name);
    if (it == fixture->expected_placement.end()) continue;
    EXPECT_EQ(r.tiers[plan->tier_of_node[v]].name, it->second) << "node " << r.graph.nodes[v].name;
  }
  if (fixture->expected_latency_ms >= 0) {
    EXPECT_NEAR(plan->latency_ms, fixture->expected_latency_ms, 1e-6);
  }
  if (fixture->expected_objective >= 0) {
    EXPECT_NEAR(plan->objective_value, fixture->expected_objective, 1e-9);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GoldenPlanTest, ::testing::ValuesIn(Cases()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace seam::plan
