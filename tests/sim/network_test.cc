#include <catch2/catch.hpp>

#include "citybed/sim/network.h"

using namespace citybed::sim;
using namespace std::chrono_literals;

TEST_CASE("A route's delay is propagation plus serialization on every link", "[sim]") {
  Network net;
  const int gw = net.AddNode("gw"), core = net.AddNode("core"), broker = net.AddNode("broker");
  REQUIRE(net.AddLink(gw, core, Duration(3ms), 100e6, 0));     // 100 Mbit/s
  REQUIRE(net.AddLink(core, broker, Duration(1ms), 10e9, 0));  // 10 Gbit/s
  const Route& r = net.RouteTo(gw, broker);
  REQUIRE(r.reachable);
  CHECK(r.nodes == std::vector<int>{gw, core, broker});
  CHECK(r.propagation == Duration(4ms));
  // 1000 bytes: 8000 bits / 100e6 = 80 us, plus 8000 / 10e9 = 0.8 us, plus 4 ms.
  CHECK(r.Delay(1000).ns() == 4'000'000 + 80'000 + 800);
  CHECK(r.loss == 0);
}

TEST_CASE("Routes follow the least propagation latency and unreachable nodes are marked", "[sim]") {
  Network net;
  const int a = net.AddNode("a"), b = net.AddNode("b"), c = net.AddNode("c"), d = net.AddNode("d"),
            island = net.AddNode("island");
  REQUIRE(net.AddLink(a, b, Duration(10ms), 1e9, 0));
  REQUIRE(net.AddLink(a, c, Duration(2ms), 1e9, 0.01));
  REQUIRE(net.AddLink(c, b, Duration(3ms), 1e9, 0.02));
  REQUIRE(net.AddLink(b, d, Duration(1ms), 1e9, 0));
  const Route& r = net.RouteTo(a, d);
  CHECK(r.nodes == std::vector<int>{a, c, b, d});
  CHECK(r.propagation == Duration(6ms));
  CHECK(r.loss == Approx(1 - 0.99 * 0.98));
  CHECK_FALSE(net.RouteTo(island, d).reachable);
  CHECK(net.Diameter() == Duration(6ms));
}

TEST_CASE("Latency is derived from coordinates when not given", "[sim]") {
  Network net;
  const int tokyo = net.AddNode("tokyo", 35.68, 139.77), osaka = net.AddNode("osaka", 34.70, 135.50);
  const int nowhere = net.AddNode("nowhere");
  REQUIRE(net.AddLink(tokyo, osaka, std::nullopt, 10e9, 0));
  const double km = Network::GreatCircleKm(35.68, 139.77, 34.70, 135.50);
  CHECK(km == Approx(403).epsilon(0.01));
  CHECK(net.RouteTo(tokyo, osaka).propagation.seconds() == Approx(km * 5e-6 + 50e-6));
  CHECK_FALSE(net.AddLink(tokyo, nowhere, std::nullopt, 1e9, 0));
  CHECK_FALSE(net.AddLink(tokyo, osaka, Duration(1ms), 0, 0));
  CHECK_FALSE(net.AddLink(tokyo, osaka, Duration(1ms), 1e9, 1.0));
}

TEST_CASE("Losses cost retransmission timeouts and fail after the last retry", "[sim]") {
  Route r;
  r.reachable = true;
  r.propagation = Duration(5ms);
  r.loss = 0.3;
  RetransmitPolicy p{Duration(200ms), 3};
  Rng rng(7);
  int delivered = 0, failed = 0, with_losses = 0, wrong_delay = 0, wrong_failure = 0;
  for (int i = 0; i < 100000; ++i) {
    const Delivery d = Network::Deliver(r, 0, p, rng);
    if (!d.delivered) {
      ++failed;
      if (d.losses != 4) ++wrong_failure;
      continue;
    }
    ++delivered;
    if (d.losses > 0) ++with_losses;
    // 5 ms plus 200, 400, 800 ms for each loss.
    const int64_t expect_ms = 5 + (d.losses >= 1 ? 200 : 0) + (d.losses >= 2 ? 400 : 0) + (d.losses >= 3 ? 800 : 0);
    if (d.delay != Duration::Milliseconds(static_cast<double>(expect_ms))) ++wrong_delay;
  }
  CHECK(wrong_delay == 0);
  CHECK(wrong_failure == 0);
  CHECK(failed / 100000.0 == Approx(0.3 * 0.3 * 0.3 * 0.3).epsilon(0.1));
  CHECK(with_losses / 100000.0 == Approx(0.3 - 0.3 * 0.3 * 0.3 * 0.3).epsilon(0.05));
}
