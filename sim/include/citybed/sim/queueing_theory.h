// Closed forms of queueing theory, for checking simulations and for the analytic side of
// capacity planning. Rates are per second; results in seconds.
#pragma once

namespace citybed::sim {

// Erlang C: probability that an arrival to an M/M/c queue must wait. a = lambda/mu is the
// offered load in Erlangs; requires a < c (otherwise the queue is unstable and 1 is returned).
// Numerically stable for any c (computed through the Erlang B recursion): O(c).
double ErlangC(int servers, double offered_load);

// Mean waiting time in queue of M/M/c: ErlangC / (c·mu − lambda). Infinity when unstable.
double MMcMeanWait(int servers, double lambda, double mu);

}  // namespace citybed::sim
