// LatencyModel on synthetic profiles: exact fits recover a, the scales and c, zone by zone and
// for both starts; the bounds a >= 0 and c >= 0; zones merged when the samples cannot pin them;
// fallbacks when the segments cannot separate the terms; clear errors for unusable profiles.
#include "plan/latency_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <optional>

namespace seam::plan {
namespace {

// Boundary bytes of segment [first, last] in the synthetic profiles: varied, not a function of the
// segment's length alone, so that c is separable from a and the scales.
int64_t Bytes(int first, int last) { return 1000 * (first % 3 + 1) + 700 * (last % 4); }

// The "true" latency of a synthetic tier: a + c * bytes + sum of scale(i, start) * node_ms[i].
struct Truth {
  double a = 0;
  std::optional<double> c;  // boundary bytes are recorded only when c is given
  std::function<double(int, SegmentStart)> scale;
};

struct Planned {
  int first = 0;
  int last = 0;
  const char* kind = "";
};

profile::Profile Synthetic(const std::vector<double>& node_ms, const Truth& truth,
                           const std::vector<Planned>& segments) {
  profile::Profile p;
  p.tier = "test";
  p.model_nodes = static_cast<int>(node_ms.size());
  for (size_t i = 0; i < node_ms.size(); ++i) {
    std::string name = "n";  // appended, not "n" + ...: GCC 12 -Wrestrict false positive
    name += std::to_string(i);
    p.nodes.push_back({name, "Conv", {node_ms[i], node_ms[i] * 1.1}});
  }
  p.per_run_overhead = {0.01, 0.02};
  auto time = [&](int first, int last) {
    const SegmentStart start = first == 0 ? SegmentStart::kModelInput : SegmentStart::kInside;
    double ms = truth.a + truth.c.value_or(0) * Bytes(first, last);
    for (int i = first; i <= last; ++i) ms += truth.scale(i, start) * node_ms[i];
    return ms;
  };
  const double whole = node_ms.empty() ? 1.0 : time(0, p.model_nodes - 1);
  p.whole_model = {whole, whole};
  for (const auto& s : segments) {
    const double ms = time(s.first, s.last);
    p.segments.push_back({s.first, s.last, {ms, ms}});
    if (truth.c) p.segments.back().boundary_bytes = Bytes(s.first, s.last);
    p.segments.back().kind = s.kind;
  }
  return p;
}

Truth Uniform(double a, double b, std::optional<double> c = std::nullopt) {
  return {a, c, [b](int, SegmentStart) { return b; }};
}

const std::vector<double> kNodes = {1.0, 0.2, 0.5, 2.0, 0.1, 0.4, 3.0, 0.3};
const std::vector<Planned> kSampled = {{0, 7, "whole"}, {1, 1}, {2, 5}, {3, 6}, {5, 7}, {1, 4}};

void ExpectPredictsExactly(const LatencyModel& model, const std::vector<double>& node_ms,
                           const Truth& truth) {
  const int n = static_cast<int>(node_ms.size());
  for (int first = 0; first < n; ++first) {
    for (int last = first; last < n; ++last) {
      const SegmentStart start = first == 0 ? SegmentStart::kModelInput : SegmentStart::kInside;
      double want = truth.a + truth.c.value_or(0) * Bytes(first, last);
      for (int i = first; i <= last; ++i) want += truth.scale(i, start) * node_ms[i];
      EXPECT_NEAR(model.PredictMs(first, last, Bytes(first, last)), want, 1e-9 * (1 + want))
          << "[" << first << "," << last << "]";
    }
  }
}

TEST(LatencyModelTest, ExactFitRecoversOverheadScaleAndBoundaryTerm) {
  const Truth truth = Uniform(0.05, 0.7, 2e-6);
  auto model = FitLatencyModel(Synthetic(kNodes, truth, kSampled));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->method(),
            "non-negative least squares: 1 zone from the model input, 1 zone inside");
  EXPECT_NEAR(model->overhead_ms(), 0.05, 1e-9);
  EXPECT_NEAR(model->ms_per_boundary_byte(), 2e-6, 1e-14);
  EXPECT_NEAR(model->ScaleAt(3, SegmentStart::kInside), 0.7, 1e-9);
  EXPECT_NEAR(model->ScaleAt(3, SegmentStart::kModelInput), 0.7, 1e-9);
  EXPECT_EQ(model->num_nodes(), 8);
  ExpectPredictsExactly(*model, kNodes, truth);
}

TEST(LatencyModelTest, PredictionIsOverheadPlusBoundaryPlusNodeShares) {
  auto model = FitLatencyModel(Synthetic(kNodes, Uniform(0.05, 0.7, 2e-6), kSampled));
  ASSERT_TRUE(model.ok());
  for (int first = 0; first < 8; ++first) {
    const SegmentStart start = first == 0 ? SegmentStart::kModelInput : SegmentStart::kInside;
    double sum = model->overhead_ms() + model->ms_per_boundary_byte() * 1234;
    for (int last = first; last < 8; ++last) {
      sum += model->PredictNodeMs(last, start);
      EXPECT_NEAR(model->PredictMs(first, last, 1234), sum, 1e-12) << first << ".." << last;
    }
  }
}

// The point of zones and of the two starts: a gain that varies along the model, and segments that
// begin at a cut losing part of it (as ONNX Runtime's NCHWc layout does in BlazeFace).
TEST(LatencyModelTest, ZonesAndStartsFromPrefixesAndTiles) {
  const std::vector<double> nodes = {1.0, 0.2, 0.5, 2.0, 0.1, 0.4, 3.0, 0.3, 0.6, 0.8, 0.2, 0.9};
  Truth truth{0.02, 3e-6, [](int i, SegmentStart start) {
                const double inside[] = {1.0, 0.8, 0.4};
                const double input[] = {0.5, 0.7, 0.4};
                const int zone = i < 4 ? 0 : i < 8 ? 1 : 2;
                return start == SegmentStart::kModelInput ? input[zone] : inside[zone];
              }};
  auto p = Synthetic(nodes, truth,
                     {{0, 11, "whole"},
                      {0, 3, "prefix"},
                      {0, 7, "prefix"},
                      {2, 3, "tile"},
                      {4, 7, "tile"},
                      {8, 11, "tile"},
                      {1, 5, "sample"},
                      {5, 10, "sample"},
                      {3, 3, "sample"},
                      {6, 9, "sample"}});
  auto model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->method(),
            "non-negative least squares: 3 zones from the model input, 3 zones inside");
  EXPECT_EQ(model->zone_starts(SegmentStart::kModelInput), (std::vector<int>{0, 4, 8}));
  EXPECT_EQ(model->zone_starts(SegmentStart::kInside), (std::vector<int>{0, 4, 8}));
  EXPECT_NEAR(model->ScaleAt(0, SegmentStart::kModelInput), 0.5, 1e-9);
  EXPECT_NEAR(model->ScaleAt(0, SegmentStart::kInside), 1.0, 1e-9);
  EXPECT_NEAR(model->ScaleAt(9, SegmentStart::kInside), 0.4, 1e-9);
  ExpectPredictsExactly(*model, nodes, truth);
}

TEST(LatencyModelTest, ZonesTheSamplesCannotPinAreMerged) {
  // Tiles mark inside zones [0,1], [2,2] and [3,7], but no segment starting inside reaches nodes
  // 3..7: that zone's scale is unknown, so zones are merged until every scale is pinned.
  const Truth truth = Uniform(0.05, 0.7, 2e-6);
  auto model = FitLatencyModel(Synthetic(
      kNodes, truth,
      {{0, 7, "whole"}, {0, 1, "sample"}, {1, 1, "tile"}, {2, 2, "tile"}, {1, 2, "sample"}}));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->zone_starts(SegmentStart::kInside), (std::vector<int>{0}));
  ExpectPredictsExactly(*model, kNodes, truth);
}

TEST(LatencyModelTest, BoundaryTermIsNeverNegative) {
  // Segments with more boundary bytes run faster: the unconstrained c is negative.
  auto model = FitLatencyModel(Synthetic(kNodes, Uniform(0.05, 0.7, -2e-6), kSampled));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->ms_per_boundary_byte(), 0);
  EXPECT_GE(model->overhead_ms(), 0);
  EXPECT_GT(model->ScaleAt(0, SegmentStart::kInside), 0);
}

TEST(LatencyModelTest, OverheadIsNeverNegative) {
  auto p = Synthetic(kNodes, Uniform(0, 0.5), kSampled);
  p.segments[1].time = {0.01, 0.01};  // node 1 alone: far cheaper than proportional, a < 0
  auto model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->overhead_ms(), 0);
  EXPECT_GT(model->ScaleAt(1, SegmentStart::kInside), 0);
}

TEST(LatencyModelTest, ProfilesWithoutBoundaryBytesFitWithoutTheTerm) {
  // Profiles written before boundary_bytes existed, or with one segment lacking them.
  auto model = FitLatencyModel(Synthetic(kNodes, Uniform(0.05, 0.7), kSampled));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->ms_per_boundary_byte(), 0);
  EXPECT_NE(model->method().find("no boundary bytes, c = 0"), std::string::npos) << model->method();
  EXPECT_NEAR(model->overhead_ms(), 0.05, 1e-9);
  auto p = Synthetic(kNodes, Uniform(0.05, 0.7, 2e-6), kSampled);
  p.segments[2].boundary_bytes.reset();
  model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->ms_per_boundary_byte(), 0);
}

TEST(LatencyModelTest, FallsBackWithOnlyTheWholeModel) {
  auto p = Synthetic(kNodes, Uniform(0.05, 0.7), {{0, 7, "whole"}});
  auto model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE(model->method().starts_with("fallback")) << model->method();
  EXPECT_DOUBLE_EQ(model->overhead_ms(), 0.01);  // the per-run overhead
  EXPECT_NEAR(model->PredictMs(0, 7, 0), p.whole_model.median_ms, 1e-9);
  EXPECT_NEAR(model->ScaleAt(0, SegmentStart::kInside), (p.whole_model.median_ms - 0.01) / 7.5,
              1e-9);
}

TEST(LatencyModelTest, FallsBackWithoutSegmentsUsingTheWholeModel) {
  auto p = Synthetic(kNodes, Uniform(0.05, 0.7), {});
  auto model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE(model->method().starts_with("fallback"));
  EXPECT_NEAR(model->PredictMs(0, 7, 0), p.whole_model.median_ms, 1e-9);
}

TEST(LatencyModelTest, SegmentsOfEqualNodeTimeCannotSeparateTheTerms) {
  // Every segment, the whole model included, sums to 1 ms of node time: a and the scale are not
  // identifiable, so the fit falls back.
  auto p = Synthetic({1, 0, 0, 0}, Uniform(0.05, 0.7), {{0, 0}, {0, 1}, {0, 3}, {0, 2}});
  auto model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE(model->method().starts_with("fallback")) << model->method();
  EXPECT_NEAR(model->PredictMs(0, 3, 0), p.whole_model.median_ms, 1e-9);
}

TEST(LatencyModelTest, OverheadAboveWholeModelFallsBackToProportional) {
  auto p = Synthetic(kNodes, Uniform(0, 0.7), {});
  p.per_run_overhead = {100, 100};
  auto model = FitLatencyModel(p);
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->overhead_ms(), 0);
  EXPECT_NEAR(model->PredictMs(0, 7, 0), p.whole_model.median_ms, 1e-9);
}

TEST(LatencyModelTest, OutOfRangeIsNaN) {
  auto model = FitLatencyModel(Synthetic(kNodes, Uniform(0.05, 0.7, 2e-6), kSampled));
  ASSERT_TRUE(model.ok());
  EXPECT_TRUE(std::isnan(model->PredictMs(-1, 2, 0)));
  EXPECT_TRUE(std::isnan(model->PredictMs(3, 2, 0)));
  EXPECT_TRUE(std::isnan(model->PredictMs(0, 8, 0)));
  EXPECT_TRUE(std::isnan(model->PredictMs(0, 2, -1)));
  EXPECT_TRUE(std::isnan(model->PredictNodeMs(8, SegmentStart::kInside)));
  EXPECT_TRUE(std::isnan(model->ScaleAt(-1, SegmentStart::kModelInput)));
}

void ExpectInvalid(const profile::Profile& p, const std::string& message) {
  auto model = FitLatencyModel(p);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find(message), std::string::npos) << model.status().message();
}

TEST(LatencyModelTest, RejectsBadProfiles) {
  const auto good = Synthetic(kNodes, Uniform(0.05, 0.7), {{0, 7}, {1, 1}});
  ExpectInvalid(Synthetic({}, Uniform(0, 1), {}), "no node timings");
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
  p = Synthetic({0, 0, 0}, Uniform(0.05, 0.7), {});
  ExpectInvalid(p, "every node time is 0");
  p = Synthetic(kNodes, Uniform(0, 0.7), {});
  p.whole_model = {0, 0};
  ExpectInvalid(p, "no whole-model time");
}

}  // namespace
}  // namespace seam::plan
