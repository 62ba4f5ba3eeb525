// Weighted non-negative least squares: the fitting the latency model (latency_model.h) needs,
// small and dense (tens of rows, a dozen columns).
//
// Pure; thread-safe.
#pragma once

#include <optional>
#include <vector>

namespace seam::plan {

struct LeastSquaresProblem {
  std::vector<std::vector<double>> rows;  // the design matrix A, one row per observation
  std::vector<double> targets;            // y
  std::vector<double> weights;            // w > 0 per row
};

// Whether the columns of A (weighted) are linearly independent, judged after scaling each to unit
// norm (so that columns in ms and in bytes compare): the smallest pivot of the scaled normal
// matrix must exceed `tolerance`. A column of zeros is dependent.
bool ColumnsIndependent(const LeastSquaresProblem& problem, double tolerance = 1e-9);

// argmin over x >= 0 of sum_i w_i (y_i - A_i x)^2, by Lawson and Hanson's active-set method.
// nullopt when the columns are not independent (ColumnsIndependent) or the sizes disagree.
std::optional<std::vector<double>> SolveNonNegative(const LeastSquaresProblem& problem);

}  // namespace seam::plan
