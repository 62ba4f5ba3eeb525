// The non-negative least squares behind the latency model's fit.
#include "plan/nnls.h"

#include <gtest/gtest.h>

namespace seam::plan {
namespace {

LeastSquaresProblem Problem(const std::vector<std::vector<double>>& rows,
                            const std::vector<double>& targets) {
  return {rows, targets, std::vector<double>(rows.size(), 1.0)};
}

TEST(NonNegativeLeastSquaresTest, RecoversAnExactNonNegativeSolution) {
  // y = 2 + 0.5 x1 + 3 x2, columns in very different units.
  std::vector<std::vector<double>> rows;
  std::vector<double> y;
  for (double x1 : {1.0, 4.0, 9.0}) {
    for (double x2 : {1e-6, 5e-6}) {
      rows.push_back({1, x1, x2 * 1e6});
      y.push_back(2 + 0.5 * x1 + 3 * x2 * 1e6);
    }
  }
  auto x = SolveNonNegative(Problem(rows, y));
  ASSERT_TRUE(x.has_value());
  EXPECT_NEAR((*x)[0], 2, 1e-9);
  EXPECT_NEAR((*x)[1], 0.5, 1e-9);
  EXPECT_NEAR((*x)[2], 3, 1e-9);
}

TEST(NonNegativeLeastSquaresTest, HoldsANegativeCoefficientAtZeroAndRefits) {
  // y = 1 + 2 x - 0.5 z: the best fit with z's coefficient >= 0 has it at 0, and then the others
  // are the least-squares fit of y on (1, x) alone.
  std::vector<std::vector<double>> rows = {{1, 0, 1}, {1, 1, 0}, {1, 2, 3}, {1, 3, 1}, {1, 4, 2}};
  std::vector<double> y;
  for (const auto& r : rows) y.push_back(1 + 2 * r[1] - 0.5 * r[2]);
  auto x = SolveNonNegative(Problem(rows, y));
  ASSERT_TRUE(x.has_value());
  EXPECT_EQ((*x)[2], 0);
  std::vector<std::vector<double>> reduced;
  for (const auto& r : rows) reduced.push_back({r[0], r[1]});
  auto ref = SolveNonNegative(Problem(reduced, y));
  ASSERT_TRUE(ref.has_value());
  EXPECT_NEAR((*x)[0], (*ref)[0], 1e-9);
  EXPECT_NEAR((*x)[1], (*ref)[1], 1e-9);
}

TEST(NonNegativeLeastSquaresTest, WeightsDecideBetweenConflictingRows) {
  // One coefficient, two rows that disagree: y = 1 and y = 3 for x = 1. The weighted mean wins.
  LeastSquaresProblem p{{{1}, {1}}, {1, 3}, {3, 1}};
  auto x = SolveNonNegative(p);
  ASSERT_TRUE(x.has_value());
  EXPECT_NEAR((*x)[0], 1.5, 1e-12);
}

TEST(NonNegativeLeastSquaresTest, DependentColumnsAreRefused) {
  auto p = Problem({{1, 2}, {2, 4}, {3, 6}}, {1, 2, 3});
  EXPECT_FALSE(ColumnsIndependent(p));
  EXPECT_FALSE(SolveNonNegative(p).has_value());
  EXPECT_FALSE(SolveNonNegative(Problem({{1, 0}, {2, 0}}, {1, 2})).has_value());  // a zero column
  EXPECT_FALSE(SolveNonNegative(Problem({}, {})).has_value());
  EXPECT_FALSE(SolveNonNegative({{{1}}, {1, 2}, {1}}).has_value());  // sizes disagree
}

}  // namespace
}  // namespace seam::plan
