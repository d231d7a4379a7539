// Network: a wide-area network model for the emulation — nodes (region gateways, backbone
// routers, the broker's site) joined by links with propagation latency, bandwidth and loss.
//
// Routes are computed once (Dijkstra on propagation latency, Boost.Graph) from each node to a
// destination and cached. A message of b bytes along a route costs, per link, propagation plus
// serialization b·8/bandwidth (store and forward); the path loses a message with probability
// 1 − Π(1 − loss). Delivery with retransmission: a lost attempt costs an RTO (doubling after
// each loss, like TCP's back-off) and the message fails after `max_retries` losses. Latency
// from coordinates: great-circle distance × 5 µs/km (light in fibre) plus a per-hop cost.
//
// A Network is built once and then read-only: Delay/Deliver are const and thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/sim/random.h"
#include "citybed/sim/time.h"

namespace citybed::sim {

struct LinkSpec {
  Duration latency;              // propagation, one way
  double bandwidth_bps = 1e10;   // bits per second
  double loss = 0;               // probability a message is lost on this link
};

struct Route {
  std::vector<int> nodes;        // from source to destination
  Duration propagation;          // sum of link latencies
  double serialization_s_per_byte = 0;  // sum over links of 8 / bandwidth
  double loss = 0;               // 1 − Π(1 − loss_i)
  bool reachable = false;

  // One-way delay of a message of `bytes` when nothing is lost.
  Duration Delay(uint64_t bytes) const {
    return propagation + Duration::Seconds(serialization_s_per_byte * static_cast<double>(bytes));
  }
};

struct Delivery {
  Duration delay;      // total, including retransmission timeouts
  int losses = 0;      // attempts lost
  bool delivered = true;
};

struct RetransmitPolicy {
  Duration rto = Duration::Milliseconds(200);  // first retransmission timeout
  int max_retries = 3;                         // losses tolerated before the message fails
};

class Network {
 public:
  // Adds a node; names must be unique. Returns its index.
  int AddNode(std::string name, std::optional<double> lat = std::nullopt, std::optional<double> lon = std::nullopt);
  // Adds a bidirectional link. Without `latency`, it is derived from the nodes' coordinates
  // (error if they have none).
  Expected<void> AddLink(int a, int b, std::optional<Duration> latency, double bandwidth_bps, double loss);

  std::optional<int> Find(const std::string& name) const;
  size_t node_count() const { return names_.size(); }
  const std::string& name(int node) const { return names_[static_cast<size_t>(node)]; }

  // The route of least propagation latency from `from` to `to`; computed once and cached.
  // Not thread-safe while routes are being computed: call ComputeRoutes first.
  const Route& RouteTo(int from, int to);
  void ComputeRoutes(int to);

  // Delivery of `bytes` along `route` with losses drawn from `rng`.
  static Delivery Deliver(const Route& route, uint64_t bytes, const RetransmitPolicy& policy, Rng& rng);

  // Longest least-latency path between any two nodes (the graph's diameter in latency).
  Duration Diameter();

  static constexpr double kFibreSecondsPerKm = 5e-6;
  static constexpr double kHopSeconds = 50e-6;
  static double GreatCircleKm(double lat1, double lon1, double lat2, double lon2);

 private:
  struct Edge {
    int a, b;
    LinkSpec spec;
  };
  std::vector<std::string> names_;
  std::vector<std::optional<std::pair<double, double>>> coords_;
  std::unordered_map<std::string, int> by_name_;
  std::vector<Edge> edges_;
  std::unordered_map<int, std::vector<Route>> routes_to_;  // destination -> route from each node
};

}  // namespace citybed::sim
