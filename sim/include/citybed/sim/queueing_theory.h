// Closed forms of queueing theory, for checking simulations and for the analytic side of
// capacity planning. Rates are per second; results in seconds.
#pragma once

#include <vector>

namespace citybed::sim {

// Erlang C: probability that an arrival to an M/M/c queue must wait. a = lambda/mu is the
// offered load in Erlangs; requires a < c (otherwise the queue is unstable and 1 is returned).
// Numerically stable for any c (computed through the Erlang B recursion): O(c).
double ErlangC(int servers, double offered_load);

// Mean waiting time in queue of M/M/c: ErlangC / (c·mu − lambda). Infinity when unstable.
double MMcMeanWait(int servers, double lambda, double mu);

// Allen–Cunneen approximation of G/G/c's mean wait: the M/M/c wait scaled by (ca² + cs²)/2,
// with ca², cs² the squared coefficients of variation of inter-arrival and service times.
double AllenCunneenWait(int servers, double lambda, double mean_service, double ca2, double cs2);

// The Universal Scalability Law (Gunther): throughput at concurrency N,
//   X(N) = gamma·N / (1 + alpha·(N − 1) + beta·N·(N − 1)),
// gamma the throughput of one, alpha contention, beta coherency. Peak at N* = sqrt((1 − alpha)/beta).
struct UslFit {
  double gamma = 0, alpha = 0, beta = 0;
  // Half-widths of the 95 % confidence intervals (asymptotic, from the Jacobian at the optimum;
  // 0 when there are no more points than parameters).
  double gamma_ci = 0, alpha_ci = 0, beta_ci = 0;
  double r2 = 0;              // coefficient of determination of the fit
  bool converged = false;
  double At(double n) const { return gamma * n / (1 + alpha * (n - 1) + beta * n * (n - 1)); }
  // The highest throughput over N >= 1 (the peak, or the limit gamma/alpha when beta is 0).
  double Peak() const;
};
// Least squares (Levenberg–Marquardt, Eigen) of X(N) through the measured points; alpha and
// beta are kept non-negative. Needs at least 3 points.
UslFit FitUsl(const std::vector<double>& concurrency, const std::vector<double>& throughput);

}  // namespace citybed::sim
