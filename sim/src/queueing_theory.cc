#include "citybed/sim/queueing_theory.h"

#include <limits>

namespace citybed::sim {

double ErlangC(int servers, double a) {
  const double c = servers;
  if (a >= c) return 1.0;
  double sum = 0, term = 1;  // term = a^k / k!
  for (int k = 0; k < servers; ++k) {
    if (k > 0) term *= a / k;
    sum += term;
  }
  const double top = term * a / c / (1 - a / c);  // a^c / c! · 1/(1 − ρ)
  return top / (sum + top);
}

double MMcMeanWait(int servers, double lambda, double mu) {
  if (lambda >= servers * mu) return std::numeric_limits<double>::infinity();
  return ErlangC(servers, lambda / mu) / (servers * mu - lambda);
}

}  // namespace citybed::sim
