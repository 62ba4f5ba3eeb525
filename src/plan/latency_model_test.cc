// LatencyModel on synthetic profiles: exact fits recover a and b, fallbacks when the segments
// cannot separate them, and clear errors for profiles that cannot be used.
#include "plan/latency_model.h"

#include <gtest/gtest.h>

#include <cmath>

namespace seam::plan {
namespace {

// A profile of `node_ms.size()` nodes whose segments take exactly a + b * sum(node medians).
profile::Profile Synthetic(const std::vector<double>& node_ms, double a, double b,
                           const std::vector<std::pair<int, int>>& segments) {
  profile::Profile p;
  p.tier = "test";
  p.model_nodes = static_cast<int>(node_ms.size());
  double total = 0;
  for (size_t i = 0; i < node_ms.size(); ++i) {
    std::string name = "n";  // appended, not "n" + ...: GCC 12 -Wrestrict false positive
    name += std::to_string(i);
    p.nodes.push_back({name, "Conv", {node_ms[i], node_ms[i] * 1.1}});
    total += node_ms[i];
  }
  p.per_run_overhead = {0.01, 0.02};
  p.whole_model = {a + b * total, a + b * total};
  for (const auto& [first, last] : segments) {
    double sum = 0;
    for (int i = first; i <= last; ++i) sum += node_ms[i];
    p.segments.push_back({first, last, {a + b * sum, a + b * sum}});
  }
  return p;
}

const std::vector<double> kNodes = {1.0, 0.2, 0.5, 2.0, 0.1, 0.4, 3.0, 0.3};

TEST(LatencyModelTest, ExactFitRecoversInterceptAndScale) {
  auto model = FitLatencyModel(Synthetic(kNodes, 0.05, 0.7, {{0, 7}, {1, 1}, {2, 5}, {3, 6}}));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->method(), "least-squares");
  EXPECT_NEAR(model->overhead_ms(), 0.05, 1e-9);
  EXPECT_NEAR(model->scale(), 0.7, 1e-9);
  EXPECT_EQ(model->num_nodes(), 8);
  // Any segment, measured or not.
  EXPECT_NEAR(model->PredictMs(4, 7), 0.05 + 0.7 * 3.8, 1e-9);
  EXPECT_NEAR(model->PredictMs(0, 0), 0.05 + 0.7 * 1.0, 1e-9);
}

TEST(LatencyModelTest, PredictionIsOverheadPlusAdditiveNodeShares) {
  auto model = FitLatencyModel(Synthetic(kNodes, 0.05, 0.7, {{0, 7}, {1, 1}, {2, 5}}));
  ASSERT_TRUE(model.ok());
  for (int first = 0; first < 8; ++first) {
    double sum = model->overhead_ms();
    for (int last = first; last < 8; ++last) {
      sum += model->PredictNodeMs(last);
      EXPECT_NEAR(model->PredictMs(first, last), sum, 1e-9) << first << ".." << last;
    }
  }
}

TEST(LatencyModelTest, NegativeInterceptIsClampedToZero) {
  // Segments that look cheaper than proportional: the unconstrained fit has a < 0.
  auto p = Synthetic(kNodes, 0, 0.5, {{0, 7}, {1, 1}, {3, 3}});
  p.segments[1].time = {0.05, 0.05};  // node 1 alone: 0.2 ms unoptimised, 0.1 predicted
  auto model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->method(), "least-squares, a clamped to 0");
  EXPECT_EQ(model->overhead_ms(), 0);
  EXPECT_GT(model->scale(), 0);
}

TEST(LatencyModelTest, FallsBackWithOnlyTheWholeModel) {
  auto p = Synthetic(kNodes, 0.05, 0.7, {{0, 7}});
  auto model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE(model->method().starts_with("fallback")) << model->method();
  EXPECT_DOUBLE_EQ(model->overhead_ms(), 0.01);  // the per-run overhead
  EXPECT_NEAR(model->PredictMs(0, 7), p.whole_model.median_ms, 1e-9);
  EXPECT_NEAR(model->scale(), (p.whole_model.median_ms - 0.01) / 7.5, 1e-9);
}

TEST(LatencyModelTest, FallsBackWithoutSegmentsUsingTheWholeModel) {
  auto p = Synthetic(kNodes, 0.05, 0.7, {});
  auto model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE(model->method().starts_with("fallback"));
  EXPECT_NEAR(model->PredictMs(0, 7), p.whole_model.median_ms, 1e-9);
}

TEST(LatencyModelTest, SegmentsOfEqualNodeTimeCannotSeparateTheTerms) {
  // Every segment, the whole model included, sums to 1 ms of node time: a and b are not
  // identifiable, so the fit falls back.
  auto p = Synthetic({1, 0, 0, 0}, 0.05, 0.7, {{0, 0}, {0, 1}, {0, 3}});
  auto model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE(model->method().starts_with("fallback")) << model->method();
  EXPECT_NEAR(model->PredictMs(0, 3), p.whole_model.median_ms, 1e-9);
}

TEST(LatencyModelTest, OverheadAboveWholeModelFallsBackToProportional) {
  auto p = Synthetic(kNodes, 0, 0.7, {});
  p.per_run_overhead = {100, 100};
  auto model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->overhead_ms(), 0);
  EXPECT_NEAR(model->PredictMs(0, 7), p.whole_model.median_ms, 1e-9);
}

TEST(LatencyModelTest, OutOfRangeIsNaN) {
  auto model = FitLatencyModel(Synthetic(kNodes, 0.05, 0.7, {{0, 7}, {1, 1}}));
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE(std::isnan(model->PredictMs(-1, 2)));
  EXPECT_TRUE(std::isnan(model->PredictMs(3, 2)));
  EXPECT_TRUE(std::isnan(model->PredictMs(0, 8)));
  EXPECT_TRUE(std::isnan(model->PredictNodeMs(8)));
}

void ExpectInvalid(const profile::Profile& p, const std::string& message) {
  auto model = FitLatencyModel(p);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find(message), std::string::npos) << model.status().message();
}

TEST(LatencyModelTest, RejectsBadProfiles) {
  const auto good = Synthetic(kNodes, 0.05, 0.7, {{0, 7}, {1, 1}});
  ExpectInvalid(Synthetic({}, 0, 1, {}), "no node timings");
  auto p = good;
  p.model_nodes = 9;
  ExpectInvalid(p, "model.nodes is 9 but it times 8 nodes");
  p = good;
  p.segments.push_back({3, 8, {1, 1}});
  ExpectInvalid(p, "segment [3,8] is not a range of its 8 nodes");
  p = good;
  p.segments.push_back({4, 3, {1, 1}});
  ExpectInvalid(p, "segment [4,3]");
  p = good;
  p.nodes[2].time.median_ms = -1;
  ExpectInvalid(p, "node 'n2' has a negative or non-finite time");
  p = good;
  p.nodes[2].time.median_ms = NAN;
  ExpectInvalid(p, "node 'n2'");
  p = good;
  p.segments[1].time.median_ms = INFINITY;
  ExpectInvalid(p, "segment [1,1] has a negative or non-finite time");
  p = good;
  p.whole_model.median_ms = -2;
  ExpectInvalid(p, "bad whole-model time");
  p = Synthetic({0, 0, 0}, 0.05, 0.7, {});
  ExpectInvalid(p, "every node time is 0");
  p = Synthetic(kNodes, 0, 0.7, {});
  p.whole_model = {0, 0};
  ExpectInvalid(p, "no whole-model time");
}

}  // namespace
}  // namespace seam::plan
