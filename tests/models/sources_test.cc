// Source models keep values plausible and consistent over time: a bus moves along its route at
// road speeds, a river rises under heavy rain and recedes after it, a parking spot's status flips
// now and then with the day's rhythm. Each test drives one model through many reports directly,
// with a hand-made context, and checks physical bounds that white noise would break.
#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

#include "citybed/models/sources.h"
#include "citybed/sim/network.h"
#include "citybed/sim/random.h"

using namespace citybed::models;
using citybed::sim::Rng;

namespace {
constexpr int64_t kMidnightUs = 1774969200LL * 1'000'000;  // 2026-04-01 00:00 in Japan (UTC+9)

const AttrOut& Attr(const EntityUpdate& u, std::string_view name) {
  for (const AttrOut& a : u.attrs)
    if (a.name == name) return a;
  FAIL("no attribute " << name << " in a " << u.type << " report");
  return u.attrs.front();
}

struct Driver {
  const SourceModel& model;
  SourceContext ctx;
  std::vector<unsigned char> state;
  Rng rng;

  explicit Driver(std::string_view kind, uint64_t seed = 1)
      : model(*FindSourceModel(kind)), state(model.state_size() + 1), rng(citybed::sim::RngStreams(seed).Stream(kind)) {
    ctx.region = "test";
    ctx.region_center = {139.77, 35.68};
    ctx.region_radius_km = 10;
    ctx.home = {139.70, 35.69};
    model.Init(ctx, state.data(), rng);
  }
  EntityUpdate At(double hour) {
    ctx.hour = std::fmod(hour, 24.0);
    ctx.unix_us = kMidnightUs + static_cast<int64_t>(hour * 3.6e9);
    EntityUpdate u;
    u.type = model.entity_type();
    model.Report(ctx, state.data(), rng, u);
    return u;
  }
};

double Km(LonLat a, LonLat b) { return citybed::sim::Network::GreatCircleKm(a.lat, a.lon, b.lat, b.lon); }
}  // namespace

TEST_CASE("A bus moves along its route at road speeds and stays near its depot", "[models][sources]") {
  Driver bus("bus");
  bus.ctx.period_s = 10;
  LonLat last = Attr(bus.At(8.0), "location").point;
  double path_km = 0;
  for (int k = 1; k <= 360; ++k) {  // one hour, a report every 10 s
    const EntityUpdate u = bus.At(8.0 + k * 10 / 3600.0);
    const LonLat p = Attr(u, "location").point;
    const double step = Km(last, p);
    INFO("report " << k);
    CHECK(step <= 60.0 * 10 / 3600 + 0.001);     // never faster than 60 km/h (plus rounding)
    CHECK(Attr(u, "speed").number <= 60.0);
    CHECK(Km(bus.ctx.home, p) <= 2 * 5.5 + 0.01);  // a loop of at most 5.5 km radius through the depot
    path_km += step;
    last = p;
  }
  CHECK(path_km > 5);   // in service it does cover ground: at least 5 km in the hour
  CHECK(path_km < 60);
}

TEST_CASE("A river rises under heavy rain and recedes after it", "[models][sources]") {
  Driver gauge("river-gauge");
  gauge.ctx.period_s = 60;
  auto level = [](const EntityUpdate& u) { return Attr(u, "currentLevel").number; };
  const EntityUpdate first = gauge.At(12.0);
  const double base = level(first), alert = Attr(first, "alertLevel").number;
  CHECK(Attr(first, "floodLevelStatus").text == "normal");

  double prev = base, peak = base;
  for (int k = 1; k <= 120; ++k) {  // two hours of dry weather: the level stays put
    const double l = level(gauge.At(12.0 + k / 60.0));
    CHECK(std::abs(l - prev) < 0.06);
    prev = l;
  }
  CHECK(std::abs(prev - base) < 0.2);

  gauge.ctx.event = {"heavy-rain", 1.0, 0};
  int rising = 0;
  for (int k = 1; k <= 90; ++k) {  // 90 minutes of heavy rain
    gauge.ctx.event.elapsed_s = k * 60;
    const EntityUpdate u = gauge.At(14.0 + k / 60.0);
    const double l = level(u);
    CHECK(std::abs(l - prev) < 0.7);  // rises by steps, not jumps
    if (k <= 20) rising += l > prev;  // then it levels off near its flood height
    prev = l;
    peak = std::max(peak, l);
  }
  CHECK(rising >= 19);
  CHECK(peak > base + 3);
  CHECK(Attr(gauge.At(15.6), "floodLevelStatus").text == "danger");

  gauge.ctx.event = {};
  int falling = 0;
  for (int k = 1; k <= 360; ++k) {  // six hours after the rain
    const double l = level(gauge.At(15.6 + k / 60.0));
    CHECK(std::abs(l - prev) < 0.2);  // recedes more slowly than it rose
    if (k <= 60) falling += l < prev;  // then it settles near its base, with noise
    prev = l;
  }
  CHECK(falling >= 55);
  CHECK(prev < alert);
  CHECK(prev > base - 0.2);
}

TEST_CASE("A parking spot flips now and then, fuller by day than by night", "[models][sources]") {
  auto occupancy = [](double hour) {
    int occupied = 0, flips = 0, n = 0;
    for (uint64_t spot = 0; spot < 200; ++spot) {
      Driver p("parking-spot", 100 + spot);
      p.ctx.period_s = 120;
      bool last = Attr(p.At(hour), "status").text == "occupied";
      for (int k = 1; k <= 30; ++k) {  // an hour of reports every two minutes
        const bool now = Attr(p.At(hour + k / 30.0), "status").text == "occupied";
        flips += now != last;
        occupied += now;
        last = now;
        ++n;
      }
    }
    return std::pair{static_cast<double>(occupied) / n, static_cast<double>(flips) / n};
  };
  const auto [night, night_flips] = occupancy(3.0);
  const auto [day, day_flips] = occupancy(13.0);
  CHECK(day > night + 0.2);
  for (double f : {night_flips, day_flips}) {
    CHECK(f > 0.03);  // status does change ...
    CHECK(f < 0.4);   // ... but is not redrawn at every report
  }
}
