#include "plan/nnls.h"

#include <algorithm>
#include <cmath>

namespace seam::plan {
namespace {

using Matrix = std::vector<std::vector<double>>;

bool Consistent(const LeastSquaresProblem& p) {
  if (p.rows.empty() || p.rows.size() != p.targets.size() || p.rows.size() != p.weights.size()) {
    return false;
  }
  for (const auto& row : p.rows) {
    if (row.size() != p.rows[0].size()) return false;
  }
  for (double w : p.weights) {
    if (!(w > 0) || !std::isfinite(w)) return false;
  }
  return !p.rows[0].empty();
}

// Unconstrained weighted least squares over the columns in `columns` (the others 0), by the
// normal equations scaled to a unit diagonal; nullopt when a pivot falls below `tolerance`.
std::optional<std::vector<double>> SolveOn(const LeastSquaresProblem& p,
                                           const std::vector<size_t>& columns, double tolerance) {
  const size_t m = columns.size();
  const size_t n = p.rows[0].size();
  Matrix mat(m, std::vector<double>(m + 1, 0.0));
  for (size_t r = 0; r < p.rows.size(); ++r) {
    const auto& row = p.rows[r];
    for (size_t i = 0; i < m; ++i) {
      const double wi = p.weights[r] * row[columns[i]];
      if (wi == 0) continue;
      for (size_t j = 0; j < m; ++j) mat[i][j] += wi * row[columns[j]];
      mat[i][m] += wi * p.targets[r];
    }
  }
  std::vector<double> scale(m);
  for (size_t i = 0; i < m; ++i) {
    if (!(mat[i][i] > 0)) return std::nullopt;
    scale[i] = 1 / std::sqrt(mat[i][i]);
  }
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = 0; j < m; ++j) mat[i][j] *= scale[i] * scale[j];
    mat[i][m] *= scale[i];
  }
  // Gaussian elimination without pivoting: the scaled normal matrix is symmetric positive
  // (semi)definite, and a small pivot means a column depends on the ones before it.
  for (size_t col = 0; col < m; ++col) {
    if (!(mat[col][col] > tolerance)) return std::nullopt;
    for (size_t row = col + 1; row < m; ++row) {
      const double f = mat[row][col] / mat[col][col];
      for (size_t k = col; k <= m; ++k) mat[row][k] -= f * mat[col][k];
    }
  }
  std::vector<double> z(m);
  for (size_t i = m; i-- > 0;) {
    double v = mat[i][m];
    for (size_t k = i + 1; k < m; ++k) v -= mat[i][k] * z[k];
    z[i] = v / mat[i][i];
  }
  std::vector<double> x(n, 0.0);
  for (size_t i = 0; i < m; ++i) x[columns[i]] = z[i] * scale[i];
  return x;
}

// The gradient of the (negated, halved) loss: A^T W (y - A x).
std::vector<double> Gradient(const LeastSquaresProblem& p, const std::vector<double>& x) {
  std::vector<double> g(x.size(), 0.0);
  for (size_t r = 0; r < p.rows.size(); ++r) {
    double residual = p.targets[r];
    for (size_t j = 0; j < x.size(); ++j) residual -= p.rows[r][j] * x[j];
    for (size_t j = 0; j < x.size(); ++j) g[j] += p.weights[r] * p.rows[r][j] * residual;
  }
  return g;
}

}  // namespace

bool ColumnsIndependent(const LeastSquaresProblem& problem, double tolerance) {
  if (!Consistent(problem)) return false;
  std::vector<size_t> all(problem.rows[0].size());
  for (size_t j = 0; j < all.size(); ++j) all[j] = j;
  return SolveOn(problem, all, tolerance).has_value();
}

std::optional<std::vector<double>> SolveNonNegative(const LeastSquaresProblem& problem) {
  if (!ColumnsIndependent(problem)) return std::nullopt;
  const size_t n = problem.rows[0].size();
  // The gradient's scale, for a tolerance that does not depend on units.
  double target_scale = 0;
  for (size_t r = 0; r < problem.rows.size(); ++r) {
    target_scale += problem.weights[r] * problem.targets[r] * problem.targets[r];
  }
  std::vector<double> column_norm(n, 0.0);
  for (size_t r = 0; r < problem.rows.size(); ++r) {
    for (size_t j = 0; j < n; ++j) {
      column_norm[j] += problem.weights[r] * problem.rows[r][j] * problem.rows[r][j];
    }
  }
  std::vector<double> x(n, 0.0);
  std::vector<bool> passive(n, false);
  // Lawson and Hanson: each outer step frees the variable that most wants to grow; the inner loop
  // steps back towards feasibility when the free set's solution turns a variable negative. Every
  // outer step strictly decreases the loss, so it ends; the bound is a guard.
  for (size_t outer = 0; outer < 3 * n + 10; ++outer) {
    const std::vector<double> g = Gradient(problem, x);
    size_t best = n;
    double best_value = 0;
    for (size_t j = 0; j < n; ++j) {
      const double normalised = g[j] / std::sqrt(column_norm[j] * target_scale);
      if (!passive[j] && normalised > 1e-12 && normalised > best_value) {
        best = j;
        best_value = normalised;
      }
    }
    if (best == n) break;
    passive[best] = true;
    for (size_t inner = 0; inner < n + 1; ++inner) {
      std::vector<size_t> columns;
      for (size_t j = 0; j < n; ++j) {
        if (passive[j]) columns.push_back(j);
      }
      std::optional<std::vector<double>> z = SolveOn(problem, columns, 1e-12);
      if (!z) return std::nullopt;  // cannot happen with independent columns; guard anyway
      bool feasible = true;
      double alpha = 1;
      for (size_t j : columns) {
        if ((*z)[j] <= 0) {
          feasible = false;
          alpha = std::min(alpha, x[j] / (x[j] - (*z)[j]));
        }
      }
      if (feasible) {
        x = *z;
        break;
      }
      for (size_t j = 0; j < n; ++j) x[j] += alpha * ((*z)[j] - x[j]);
      for (size_t j : columns) {
        if (x[j] <= 1e-15 * (1 + std::fabs(x[j]))) {
          x[j] = 0;
          passive[j] = false;
        }
      }
    }
  }
  return x;
}

}  // namespace seam::plan
