#include "citybed/models/sources.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace citybed::models {

namespace {

constexpr double kPi = 3.14159265358979323846;

double Clamp(double v, double lo, double hi) { return std::max(lo, std::min(hi, v)); }

// Mean-reverting random walk (Ornstein-Uhlenbeck, unit time step): x moves towards `mean`
// with strength `pull` and noise `sigma`.
double Walk(double x, double mean, double pull, double sigma, sim::Rng& rng) {
  return x + pull * (mean - x) + sim::Normal{0, sigma}(rng);
}

class AirQuality final : public SourceModel {
 public:
  struct State {
    float no2, pm10, pm25, o3;
  };
  std::string_view kind() const override { return "air-quality"; }
  std::string_view entity_type() const override { return "AirQualityObserved"; }
  std::string_view domain() const override { return "environment"; }
  std::string_view id_prefix() const override { return "aq"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    auto* s = static_cast<State*>(state);
    s->no2 = static_cast<float>(20 + 15 * rng.Uniform01());
    s->pm10 = static_cast<float>(15 + 20 * rng.Uniform01());
    s->pm25 = static_cast<float>(8 + 10 * rng.Uniform01());
    s->o3 = static_cast<float>(30 + 40 * rng.Uniform01());
  }
  void Report(const SourceContext& ctx, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    // Traffic-driven pollutants follow the rush hours; ozone follows the sun.
    const double traffic = ProfileFactor("mobility", ctx.hour);
    const double sun = std::max(0.0, std::sin((ctx.hour - 6) / 12 * kPi));
    s->no2 = static_cast<float>(Clamp(Walk(s->no2, 12 + 18 * traffic, 0.1, 1.5, rng), 0, 400));
    s->pm10 = static_cast<float>(Clamp(Walk(s->pm10, 15 + 10 * traffic, 0.1, 1.0, rng), 0, 600));
    s->pm25 = static_cast<float>(Clamp(Walk(s->pm25, 7 + 6 * traffic, 0.1, 0.6, rng), 0, 500));
    s->o3 = static_cast<float>(Clamp(Walk(s->o3, 30 + 60 * sun, 0.1, 2.0, rng), 0, 400));
    out.Time("dateObserved", ctx.unix_us);
    out.Point("location", ctx.home);
    out.Number("no2", std::round(double{s->no2} * 10) / 10, "GQ");
    out.Number("pm10", std::round(double{s->pm10} * 10) / 10, "GQ");
    out.Number("pm25", std::round(double{s->pm25} * 10) / 10, "GQ");
    out.Number("o3", std::round(double{s->o3} * 10) / 10, "GQ");
  }
  size_t typical_bytes() const override { return 700; }
};

class ParkingSpot final : public SourceModel {
 public:
  struct State {
    uint8_t occupied;
  };
  std::string_view kind() const override { return "parking-spot"; }
  std::string_view entity_type() const override { return "ParkingSpot"; }
  std::string_view domain() const override { return "mobility"; }
  std::string_view id_prefix() const override { return "ps"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    static_cast<State*>(state)->occupied = rng.Uniform01() < 0.5;
  }
  void Report(const SourceContext& ctx, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    // Occupancy drifts towards a daytime high; a spot flips with a probability that keeps it there.
    const double target = Clamp(0.35 + 0.45 * ProfileFactor("daytime", ctx.hour) / ProfilePeak("daytime"), 0.05, 0.95);
    const double flip = s->occupied ? (1 - target) * 0.3 : target * 0.3;
    if (rng.Uniform01() < flip) s->occupied = !s->occupied;
    char site[96];
    std::snprintf(site, sizeof site, "urn:ngsi-ld:OffStreetParking:%.*s:site-%03u", static_cast<int>(ctx.region.size()),
                  ctx.region.data(), ctx.index / 50);
    out.Point("location", ctx.home);
    out.Text("status", s->occupied ? "occupied" : "free");
    out.Text("category", "onStreet", false);
    out.Relationship("refParkingSite", site);
  }
  size_t typical_bytes() const override { return 450; }
};

class Weather final : public SourceModel {
 public:
  struct State {
    float temperature, humidity, rain;
  };
  std::string_view kind() const override { return "weather"; }
  std::string_view entity_type() const override { return "WeatherObserved"; }
  std::string_view domain() const override { return "environment"; }
  std::string_view id_prefix() const override { return "wx"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    auto* s = static_cast<State*>(state);
    s->temperature = static_cast<float>(14 + 4 * rng.Uniform01());
    s->humidity = static_cast<float>(0.5 + 0.2 * rng.Uniform01());
    s->rain = 0;
  }
  void Report(const SourceContext& ctx, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    const double daily = 16 + 6 * std::sin((ctx.hour - 9) / 24 * 2 * kPi);
    s->temperature = static_cast<float>(Walk(s->temperature, daily, 0.1, 0.2, rng));
    s->humidity = static_cast<float>(Clamp(Walk(s->humidity, s->rain > 0 ? 0.9 : 0.6, 0.1, 0.02, rng), 0.05, 1.0));
    s->rain = static_cast<float>(std::max(0.0, Walk(s->rain, 0, 0.2, 0.3, rng)));
    out.Time("dateObserved", ctx.unix_us);
    out.Point("location", ctx.home);
    out.Number("temperature", std::round(double{s->temperature} * 10) / 10, "CEL");
    out.Number("relativeHumidity", std::round(double{s->humidity} * 100) / 100, "P1");
    out.Number("precipitation", std::round(double{s->rain} * 10) / 10, "MMT");
  }
  size_t typical_bytes() const override { return 650; }
};

const std::vector<const SourceModel*>& Catalog() {
  static const AirQuality air;
  static const ParkingSpot parking;
  static const Weather weather;
  static const std::vector<const SourceModel*> all = {&air, &parking, &weather};
  return all;
}

// Relative activity by hour (24 values each), normalised to mean 1 at first use.
struct Profile {
  const char* name;
  double hours[24];
};
constexpr Profile kProfiles[] = {
    {"flat", {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
    // Commuting: peaks at 07-09 and 17-19.
    {"mobility", {0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.2, 2.4, 1.4, 1.0, 1.0,
                  1.1, 1.0, 1.0, 1.1, 1.5, 2.2, 2.3, 1.5, 1.0, 0.7, 0.5, 0.3}},
    // Households: low at night, a morning bump and the evening peak at 18-21.
    {"energy", {0.5, 0.4, 0.4, 0.4, 0.4, 0.6, 0.9, 1.2, 1.1, 0.9, 0.9, 1.0,
                1.0, 0.9, 0.9, 1.0, 1.2, 1.6, 1.9, 2.0, 1.8, 1.4, 1.0, 0.7}},
    // Offices, shops, schools: 08-18.
    {"daytime", {0.2, 0.2, 0.2, 0.2, 0.2, 0.3, 0.6, 1.2, 1.7, 1.8, 1.8, 1.8,
                 1.7, 1.8, 1.8, 1.7, 1.5, 1.2, 0.8, 0.6, 0.4, 0.3, 0.3, 0.2}},
    // People at home and out in the evening: apps, payments, watching.
    {"residential", {0.3, 0.2, 0.1, 0.1, 0.1, 0.3, 0.8, 1.2, 1.1, 1.0, 1.0, 1.2,
                     1.4, 1.1, 1.0, 1.0, 1.1, 1.4, 1.7, 1.8, 1.7, 1.4, 1.0, 0.6}},
};

const Profile* FindProfile(std::string_view name) {
  for (const Profile& p : kProfiles) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

double MeanOf(const Profile& p) {
  double sum = 0;
  for (double h : p.hours) sum += h;
  return sum / 24;
}

}  // namespace

void SourceModel::Init(const SourceContext&, void*, sim::Rng&) const {}

const std::vector<std::string>& DomainNames() {
  static const std::vector<std::string> names = {"mobility", "environment", "utilities", "disaster",
                                                 "safety",   "health",      "payments-learning"};
  return names;
}

int DomainIndex(std::string_view domain) {
  const auto& names = DomainNames();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == domain) return static_cast<int>(i);
  }
  return -1;
}

const SourceModel* FindSourceModel(std::string_view kind) {
  for (const SourceModel* m : Catalog()) {
    if (m->kind() == kind) return m;
  }
  return nullptr;
}

std::vector<std::string> SourceKindNames() {
  std::vector<std::string> out;
  for (const SourceModel* m : Catalog()) out.emplace_back(m->kind());
  return out;
}

std::vector<const SourceModel*> SourceModels() { return Catalog(); }

std::string EntityId(const SourceModel& m, std::string_view region, uint32_t index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%06u", index);
  std::string id = "urn:ngsi-ld:";
  id.append(m.entity_type()).append(":").append(region).append(":").append(m.id_prefix()).append(buf);
  return id;
}

std::vector<std::string> ProfileNames() {
  std::vector<std::string> out;
  for (const Profile& p : kProfiles) out.emplace_back(p.name);
  return out;
}

double ProfileFactor(std::string_view name, double hour) {
  const Profile* p = FindProfile(name.empty() ? "flat" : name);
  if (p == nullptr) return 1;
  hour = std::fmod(std::fmod(hour, 24) + 24, 24);
  // Linear interpolation between hour centres, so rates change smoothly.
  const double x = hour - 0.5;
  const int h0 = static_cast<int>(std::floor(x));
  const double f = x - h0;
  const double a = p->hours[(h0 + 24) % 24], b = p->hours[(h0 + 1 + 24) % 24];
  return (a + f * (b - a)) / MeanOf(*p);
}

double ProfilePeak(std::string_view name) {
  const Profile* p = FindProfile(name.empty() ? "flat" : name);
  if (p == nullptr) return 1;
  return *std::max_element(std::begin(p->hours), std::end(p->hours)) / MeanOf(*p);
}

}  // namespace citybed::models
