#include "citybed/sim/queueing_theory.h"

#include <limits>

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

}  // namespace citybed::sim
