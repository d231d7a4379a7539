#include "citybed/sim/network.h"

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <algorithm>
#include <cmath>
#include <limits>

namespace citybed::sim {

namespace {
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                    boost::property<boost::edge_weight_t, double, boost::property<boost::edge_index_t, int>>>;
}  // namespace

double Network::GreatCircleKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kDeg = 3.14159265358979323846 / 180.0;
  const double dlat = (lat2 - lat1) * kDeg, dlon = (lon2 - lon1) * kDeg;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1 * kDeg) * std::cos(lat2 * kDeg) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * 6371.0088 * std::asin(std::min(1.0, std::sqrt(h)));
}

int Network::AddNode(std::string name, std::optional<double> lat, std::optional<double> lon) {
  const int id = static_cast<int>(names_.size());
  by_name_[name] = id;
  names_.push_back(std::move(name));
  if (lat && lon) coords_.emplace_back(std::make_pair(*lat, *lon)); else coords_.emplace_back(std::nullopt);
  routes_to_.clear();
  return id;
}

Expected<void> Network::AddLink(int a, int b, std::optional<Duration> latency, double bandwidth_bps, double loss) {
  const int n = static_cast<int>(names_.size());
  if (a < 0 || b < 0 || a >= n || b >= n) return Unexpected(Error::InvalidArgument("link between unknown nodes"));
  if (!(bandwidth_bps > 0)) return Unexpected(Error::InvalidArgument("link bandwidth must be > 0"));
  if (!(loss >= 0 && loss < 1)) return Unexpected(Error::InvalidArgument("link loss must be in [0, 1)"));
  LinkSpec spec{Duration(), bandwidth_bps, loss};
  if (latency) {
    spec.latency = *latency;
  } else {
    const auto& ca = coords_[static_cast<size_t>(a)];
    const auto& cb = coords_[static_cast<size_t>(b)];
    if (!ca || !cb) {
      return Unexpected(Error::InvalidArgument("link " + names_[static_cast<size_t>(a)] + " - " +
                                               names_[static_cast<size_t>(b)] +
                                               " has no latency and its nodes have no coordinates"));
    }
    const double km = GreatCircleKm(ca->first, ca->second, cb->first, cb->second);
    spec.latency = Duration::Seconds(km * kFibreSecondsPerKm + kHopSeconds);
  }
  edges_.push_back({a, b, spec});
  routes_to_.clear();
  return {};
}

std::optional<int> Network::Find(const std::string& name) const {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) return std::nullopt;
  return it->second;
}

void Network::ComputeRoutes(int to) {
  if (routes_to_.count(to)) return;
  const size_t n = names_.size();
  Graph g(n);
  for (size_t i = 0; i < edges_.size(); ++i) {
    boost::add_edge(static_cast<size_t>(edges_[i].a), static_cast<size_t>(edges_[i].b),
                    Graph::edge_property_type(edges_[i].spec.latency.seconds(), static_cast<int>(i)), g);
  }
  std::vector<size_t> pred(n);
  std::vector<double> dist(n);
  boost::dijkstra_shortest_paths(g, static_cast<size_t>(to),
                                 boost::predecessor_map(pred.data()).distance_map(dist.data()));
  // Index of the cheapest edge joining two nodes (parallel links: the fastest one).
  auto edge_between = [&](size_t u, size_t v) -> const Edge* {
    const Edge* best = nullptr;
    for (const Edge& e : edges_) {
      if ((static_cast<size_t>(e.a) == u && static_cast<size_t>(e.b) == v) ||
          (static_cast<size_t>(e.a) == v && static_cast<size_t>(e.b) == u)) {
        if (best == nullptr || e.spec.latency < best->spec.latency) best = &e;
      }
    }
    return best;
  };
  std::vector<Route> routes(n);
  for (size_t from = 0; from < n; ++from) {
    Route& r = routes[from];
    if (from != static_cast<size_t>(to) && pred[from] == from) continue;  // unreachable
    r.reachable = true;
    double keep = 1.0;
    size_t v = from;
    r.nodes.push_back(static_cast<int>(v));
    while (v != static_cast<size_t>(to)) {  // predecessors point towards `to`
      const size_t u = pred[v];
      const Edge* e = edge_between(u, v);
      r.propagation += e->spec.latency;
      r.serialization_s_per_byte += 8.0 / e->spec.bandwidth_bps;
      keep *= 1 - e->spec.loss;
      v = u;
      r.nodes.push_back(static_cast<int>(v));
    }
    r.loss = 1 - keep;
  }
  routes_to_[to] = std::move(routes);
}

const Route& Network::RouteTo(int from, int to) {
  ComputeRoutes(to);
  return routes_to_.at(to)[static_cast<size_t>(from)];
}

Delivery Network::Deliver(const Route& route, uint64_t bytes, const RetransmitPolicy& policy, Rng& rng) {
  Delivery d;
  if (!route.reachable) {
    d.delivered = false;
    return d;
  }
  Duration rto = policy.rto;
  while (route.loss > 0 && rng.Uniform01() < route.loss) {
    ++d.losses;
    d.delay += rto;  // the sender notices after an RTO and sends again
    rto = rto * int64_t{2};
    if (d.losses > policy.max_retries) {
      d.delivered = false;
      return d;
    }
  }
  d.delay += route.Delay(bytes);
  return d;
}

Duration Network::Diameter() {
  Duration worst;
  for (size_t to = 0; to < names_.size(); ++to) {
    ComputeRoutes(static_cast<int>(to));
    for (const Route& r : routes_to_.at(static_cast<int>(to))) {
      if (r.reachable && r.propagation > worst) worst = r.propagation;
    }
  }
  return worst;
}

}  // namespace citybed::sim
