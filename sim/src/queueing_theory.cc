#include "citybed/sim/queueing_theory.h"

#include "citybed/sim/stats.h"

#include <Eigen/Dense>
#include <array>
#include <algorithm>
#include <cmath>
#include <limits>
#include <unsupported/Eigen/LevenbergMarquardt>

namespace citybed::sim {

// Through the Erlang B recursion B(k) = a·B(k−1) / (k + a·B(k−1)), B(0) = 1, every step of
// which stays in [0, 1]: no a^c or c! to overflow, for any number of servers. Then
// C = B / (1 − ρ(1 − B)) with ρ = a/c.
double ErlangC(int servers, double a) {
  if (servers <= 0) return 1.0;
  const double c = servers;
  if (!(a < c)) return 1.0;
  if (a <= 0) return 0.0;
  double b = 1.0;
  for (int k = 1; k <= servers; ++k) b = a * b / (k + a * b);
  const double rho = a / c;
  return b / (1 - rho * (1 - b));
}

double MMcMeanWait(int servers, double lambda, double mu) {
  if (lambda >= servers * mu) return std::numeric_limits<double>::infinity();
  return ErlangC(servers, lambda / mu) / (servers * mu - lambda);
}

double AllenCunneenWait(int servers, double lambda, double mean_service, double ca2, double cs2) {
  return MMcMeanWait(servers, lambda, 1.0 / mean_service) * (ca2 + cs2) / 2;
}

double UslFit::Peak() const {
  if (beta <= 0) return alpha > 0 ? gamma / alpha : std::numeric_limits<double>::infinity();
  const double n = std::max(1.0, std::sqrt(std::max(0.0, 1 - alpha) / beta));
  // The peak is at an integer concurrency: the better neighbour.
  return std::max(At(std::max(1.0, std::floor(n))), At(std::ceil(n)));
}

namespace {

// Residuals of X(N) for the parameters that are free; the others are held at `fixed`.
struct UslFunctor : Eigen::DenseFunctor<double> {
  const std::vector<double>& n;
  const std::vector<double>& x;
  std::array<bool, 3> free;
  std::array<double, 3> fixed;
  UslFunctor(const std::vector<double>& n_, const std::vector<double>& x_, std::array<bool, 3> f, std::array<double, 3> v,
             int params)
      : Eigen::DenseFunctor<double>(params, static_cast<int>(n_.size())), n(n_), x(x_), free(f), fixed(v) {}
  std::array<double, 3> Full(const Eigen::VectorXd& p) const {
    std::array<double, 3> out = fixed;
    int k = 0;
    for (int i = 0; i < 3; ++i) {
      if (free[static_cast<size_t>(i)]) out[static_cast<size_t>(i)] = p[k++];
    }
    return out;
  }
  static double Model(const std::array<double, 3>& q, double N) {
    return q[0] * N / (1 + q[1] * (N - 1) + q[2] * N * (N - 1));
  }
  int operator()(const Eigen::VectorXd& p, Eigen::VectorXd& r) const {
    const auto q = Full(p);
    for (size_t i = 0; i < n.size(); ++i) r[static_cast<Eigen::Index>(i)] = Model(q, n[i]) - x[i];
    return 0;
  }
  int df(const Eigen::VectorXd& p, Eigen::MatrixXd& j) const {
    const auto q = Full(p);
    for (size_t i = 0; i < n.size(); ++i) {
      const double N = n[i], d = 1 + q[1] * (N - 1) + q[2] * N * (N - 1);
      const std::array<double, 3> g = {N / d, -q[0] * N * (N - 1) / (d * d), -q[0] * N * N * (N - 1) / (d * d)};
      int k = 0;
      for (size_t c = 0; c < 3; ++c) {
        if (free[c]) j(static_cast<Eigen::Index>(i), k++) = g[c];
      }
    }
    return 0;
  }
};

}  // namespace

UslFit FitUsl(const std::vector<double>& concurrency, const std::vector<double>& throughput) {
  UslFit fit;
  const size_t m = std::min(concurrency.size(), throughput.size());
  if (m < 3) return fit;
  std::vector<double> n(concurrency.begin(), concurrency.begin() + static_cast<long>(m));
  std::vector<double> x(throughput.begin(), throughput.begin() + static_cast<long>(m));
  // Start: gamma from the smallest concurrency, alpha from the largest, beta 0.
  const size_t lo = static_cast<size_t>(std::min_element(n.begin(), n.end()) - n.begin());
  const size_t hi = static_cast<size_t>(std::max_element(n.begin(), n.end()) - n.begin());
  const double g0 = std::max(1e-9, x[lo] / std::max(1.0, n[lo]));
  const double a0 = n[hi] > 1 ? std::clamp((g0 * n[hi] / std::max(1e-9, x[hi]) - 1) / (n[hi] - 1), 0.0, 1.0) : 0.1;
  std::array<bool, 3> free = {true, true, true};
  std::array<double, 3> value = {g0, a0, 1e-6};
  Eigen::MatrixXd jac;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const int params = static_cast<int>(std::count(free.begin(), free.end(), true));
    UslFunctor f(n, x, free, value, params);
    Eigen::VectorXd p(params);
    int k = 0;
    for (size_t i = 0; i < 3; ++i) {
      if (free[i]) p[k++] = value[i];
    }
    Eigen::LevenbergMarquardt<UslFunctor> lm(f);
    lm.setMaxfev(2000);
    const auto status = lm.minimize(p);
    fit.converged = status != Eigen::LevenbergMarquardtSpace::ImproperInputParameters &&
                    status != Eigen::LevenbergMarquardtSpace::TooManyFunctionEvaluation;
    value = f.Full(p);
    jac.resize(static_cast<Eigen::Index>(m), params);
    f.df(p, jac);
    // A negative contention or coherency is not physical: hold it at 0 and fit the rest again.
    bool again = false;
    for (size_t i = 1; i < 3; ++i) {
      if (free[i] && value[i] < 0) {
        free[i] = false;
        value[i] = 0;
        again = true;
      }
    }
    if (!again) break;
  }
  fit.gamma = value[0];
  fit.alpha = value[1];
  fit.beta = value[2];
  double ssr = 0, mean = 0, sst = 0;
  for (double v : x) mean += v / static_cast<double>(m);
  for (size_t i = 0; i < m; ++i) {
    const double r = fit.At(n[i]) - x[i];
    ssr += r * r;
    sst += (x[i] - mean) * (x[i] - mean);
  }
  fit.r2 = sst > 0 ? 1 - ssr / sst : 1;
  const long params = jac.cols();
  const long dof = static_cast<long>(m) - params;
  if (dof > 0) {
    const Eigen::MatrixXd jtj = jac.transpose() * jac;
    Eigen::FullPivLU<Eigen::MatrixXd> lu(jtj);
    if (lu.isInvertible()) {
      const Eigen::MatrixXd cov = lu.inverse() * (ssr / static_cast<double>(dof));
      const double t = StudentTQuantile(0.95, static_cast<double>(dof));  // Boost.Math's t, compiled in stats.cc
      std::array<double*, 3> ci = {&fit.gamma_ci, &fit.alpha_ci, &fit.beta_ci};
      int k = 0;
      for (size_t i = 0; i < 3; ++i) {
        if (free[i]) {
          *ci[i] = t * std::sqrt(std::max(0.0, cov(k, k)));
          ++k;
        }
      }
    }
  }
  return fit;
}

}  // namespace citybed::sim
