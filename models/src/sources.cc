#include "citybed/models/sources.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <cstdio>
#include <string>

namespace citybed::models {

namespace {


double Clamp(double v, double lo, double hi) { return std::max(lo, std::min(hi, v)); }
double Round(double v, double step) { return std::round(v / step) * step; }

// Mean-reverting random walk (Ornstein-Uhlenbeck, unit time step): x moves towards `mean`
// with strength `pull` and noise `sigma`.
double Walk(double x, double mean, double pull, double sigma, sim::Rng& rng) {
  return x + pull * (mean - x) + sim::Normal{0, sigma}(rng);
}

std::string RegionId(std::string_view type, std::string_view region, const char* code, uint32_t n) {
  char buf[48];
  std::snprintf(buf, sizeof buf, ":%s-%06u", code, n);
  std::string id = "urn:ngsi-ld:";
  id.append(type).append(":").append(region).append(buf);
  return id;
}

// A point `km` away from `p` in direction `angle` (radians from north).
LonLat Offset(LonLat p, double km, double angle) {
  return {p.lon + km * std::sin(angle) / (111.195 * std::cos(p.lat * std::numbers::pi / 180)), p.lat + km * std::cos(angle) / 111.195};
}

LonLat Round6(LonLat p) { return {std::round(p.lon * 1e6) / 1e6, std::round(p.lat * 1e6) / 1e6}; }

double Daylight(double hour) { return std::max(0.0, std::sin((hour - 6) / 12 * std::numbers::pi)); }

bool Event(const SourceContext& c, std::string_view kind) { return c.event.kind == kind && c.event.intensity > 0; }

// ---- 1. mobility & delivery ---------------------------------------------------------------

class TrafficFlow final : public SourceModel {
 public:
  struct State {
    float intensity, speed;
  };
  std::string_view kind() const override { return "traffic-flow"; }
  std::string_view entity_type() const override { return "TrafficFlowObserved"; }
  std::string_view domain() const override { return "mobility"; }
  std::string_view id_prefix() const override { return "tf"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    auto* s = static_cast<State*>(state);
    s->intensity = static_cast<float>(50 + 50 * rng.Uniform01());
    s->speed = 45;
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    // Vehicles per hour follow the commuting profile; speed drops as the road fills.
    double demand = 600 * ProfileFactor("mobility", c.hour);
    if (Event(c, "earthquake")) demand *= 1 + c.event.intensity;
    s->intensity = static_cast<float>(std::max(0.0, Walk(s->intensity, demand, 0.3, 20, rng)));
    const double occupancy = Clamp(s->intensity / 1800.0, 0.01, 0.98);
    s->speed = static_cast<float>(Clamp(Walk(s->speed, 60 * (1 - occupancy * occupancy), 0.4, 2, rng), 3, 110));
    out.Time("dateObserved", c.unix_us);
    out.Time("dateObservedFrom", c.unix_us - static_cast<int64_t>(c.period_s * 1e6));
    out.Time("dateObservedTo", c.unix_us);
    out.Point("location", c.home);
    out.Number("laneId", 1 + c.index % 3);
    out.Number("intensity", std::round(s->intensity * c.period_s / 3600.0));
    out.Number("occupancy", Round(occupancy, 0.01));
    out.Number("averageVehicleSpeed", Round(s->speed, 0.1), "KMH");
    out.Bool("congested", occupancy > 0.6);
  }
  size_t typical_bytes() const override { return 900; }
};

// Buses run round a circular route through their depot, about 10 s between position reports.
class Bus final : public SourceModel {
 public:
  std::optional<LonLat> FixedPlace(const SourceContext&) const override { return std::nullopt; }
  struct State {
    float angle, radius_km, speed;
    int64_t last_us;
  };
  std::string_view kind() const override { return "bus"; }
  std::string_view entity_type() const override { return "Vehicle"; }
  std::string_view domain() const override { return "mobility"; }
  std::string_view id_prefix() const override { return "bus"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext& c, void* state, sim::Rng& rng) const override {
    auto* s = static_cast<State*>(state);
    s->angle = static_cast<float>(2 * std::numbers::pi * rng.Uniform01());
    s->radius_km = static_cast<float>(1.5 + std::min(4.0, c.region_radius_km / 3) * rng.Uniform01());
    s->speed = 20;
    s->last_us = 0;
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    const bool service = c.hour >= 5.5 && c.hour < 24;
    const double dt_h = s->last_us ? static_cast<double>(c.unix_us - s->last_us) / 3.6e9 : 0.0;
    s->last_us = c.unix_us;
    double target = service ? 25 / std::max(0.5, ProfileFactor("mobility", c.hour) / 1.5) : 0;
    if (service && rng.Uniform01() < 0.15) target = 0;  // at a stop
    s->speed = static_cast<float>(Clamp(Walk(s->speed, target, 0.5, 3, rng), 0, 60));
    s->angle += static_cast<float>(s->speed * dt_h / s->radius_km);
    const LonLat centre = Offset(c.home, s->radius_km, 0);
    const LonLat pos = Round6(Offset(centre, s->radius_km, s->angle + std::numbers::pi));
    const double heading = std::fmod(std::fmod((s->angle + std::numbers::pi) * 180 / std::numbers::pi + 90, 360) + 360, 360);
    out.Text("vehicleType", "bus", false);
    out.TextList("category", {"public"});
    out.Point("location", pos);
    out.Number("speed", Round(s->speed, 0.1), "KMH");
    out.Number("heading", std::min(359.9, Round(heading, 0.1)));
    out.Text("serviceStatus", !service ? "parked" : (s->speed < 1 ? "parked" : "onRoute"));
    AttrOut& t = out.Add("observationDateTime", AttrOut::Kind::kDateTime);
    t.time_us = c.unix_us;
    t.observed = false;
  }
  size_t typical_bytes() const override { return 700; }
};

// Delivery vans drive from drop to drop across the region, lighter after each.
class DeliveryVan final : public SourceModel {
 public:
  std::optional<LonLat> FixedPlace(const SourceContext&) const override { return std::nullopt; }
  struct State {
    float lon, lat, to_lon, to_lat, cargo;
    int64_t last_us;
  };
  std::string_view kind() const override { return "delivery-van"; }
  std::string_view entity_type() const override { return "Vehicle"; }
  std::string_view domain() const override { return "mobility"; }
  std::string_view id_prefix() const override { return "van"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext& c, void* state, sim::Rng& rng) const override {
    auto* s = static_cast<State*>(state);
    s->lon = static_cast<float>(c.home.lon);
    s->lat = static_cast<float>(c.home.lat);
    const LonLat to = Offset(c.home, c.region_radius_km * 0.8 * std::sqrt(rng.Uniform01()), 2 * std::numbers::pi * rng.Uniform01());
    s->to_lon = static_cast<float>(to.lon);
    s->to_lat = static_cast<float>(to.lat);
    s->cargo = static_cast<float>(400 + 800 * rng.Uniform01());
    s->last_us = 0;
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    const double dt_h = s->last_us ? static_cast<double>(c.unix_us - s->last_us) / 3.6e9 : 0.0;
    s->last_us = c.unix_us;
    const bool working = c.hour >= 7 && c.hour < 21;
    const double speed = working ? Clamp(sim::Normal{30, 8}(rng), 5, 60) : 0;
    const double dx = (s->to_lon - s->lon) * 111.195 * std::cos(s->lat * std::numbers::pi / 180), dy = (s->to_lat - s->lat) * 111.195;
    const double dist = std::sqrt(dx * dx + dy * dy), step = speed * dt_h;
    if (dist <= step || dist < 0.01) {  // arrived: drop a parcel, pick the next address
      s->lon = s->to_lon;
      s->lat = s->to_lat;
      s->cargo = static_cast<float>(s->cargo > 60 ? s->cargo - 20 - 30 * rng.Uniform01() : 400 + 800 * rng.Uniform01());
      const LonLat to = Offset(c.home, c.region_radius_km * 0.8 * std::sqrt(rng.Uniform01()), 2 * std::numbers::pi * rng.Uniform01());
      s->to_lon = static_cast<float>(to.lon);
      s->to_lat = static_cast<float>(to.lat);
    } else if (step > 0) {
      s->lon += static_cast<float>((s->to_lon - s->lon) * step / dist);
      s->lat += static_cast<float>((s->to_lat - s->lat) * step / dist);
    }
    const double heading = std::fmod(std::atan2(dx, dy) * 180 / std::numbers::pi + 360, 360);
    out.Text("vehicleType", "van", false);
    out.TextList("category", {"private"});
    out.Point("location", Round6({s->lon, s->lat}));
    out.Number("speed", Round(speed, 0.1), "KMH");
    out.Number("heading", std::min(359.9, Round(heading, 0.1)));
    out.Number("cargoWeight", Round(std::max(1.0, static_cast<double>(s->cargo)), 0.1), "KGM");
    out.Text("serviceStatus", working ? "onRoute" : "parked");
    AttrOut& t = out.Add("observationDateTime", AttrOut::Kind::kDateTime);
    t.time_us = c.unix_us;
    t.observed = false;
  }
  size_t typical_bytes() const override { return 750; }
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
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    // Occupancy drifts towards a daytime high; a spot flips with a probability that keeps it there.
    const double target = Clamp(0.35 + 0.45 * ProfileFactor("daytime", c.hour) / ProfilePeak("daytime"), 0.05, 0.95);
    const double flip = s->occupied ? (1 - target) * 0.3 : target * 0.3;
    if (rng.Uniform01() < flip) s->occupied = !s->occupied;
    out.Point("location", c.home);
    out.Text("status", s->occupied ? "occupied" : "free");
    out.TextList("category", {"onStreet"});
    out.Relationship("refParkingSite", RegionId("OffStreetParking", c.region, "site", c.index / 50));
  }
  size_t typical_bytes() const override { return 450; }
};

class ParkingLot final : public SourceModel {
 public:
  struct State {
    uint16_t total, occupied;
  };
  std::string_view kind() const override { return "parking-lot"; }
  std::string_view entity_type() const override { return "OffStreetParking"; }
  std::string_view domain() const override { return "mobility"; }
  std::string_view id_prefix() const override { return "pl"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    auto* s = static_cast<State*>(state);
    s->total = static_cast<uint16_t>(50 + rng.Below(450));
    s->occupied = static_cast<uint16_t>(s->total / 3);
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    const double target = Clamp(0.2 + 0.7 * ProfileFactor("daytime", c.hour) / ProfilePeak("daytime"), 0, 1) * s->total;
    const double next = Clamp(Walk(s->occupied, target, 0.3, s->total * 0.02, rng), 0, s->total);
    s->occupied = static_cast<uint16_t>(std::lround(next));
    const double occupancy = static_cast<double>(s->occupied) / s->total;
    out.Point("location", c.home);
    out.Number("totalSpotNumber", s->total);
    out.Number("availableSpotNumber", s->total - s->occupied);
    out.Number("occupancy", Round(occupancy, 0.01));
    out.TextList("status", {occupancy >= 0.999 ? "full" : (occupancy > 0.9 ? "almostFull" : "spacesAvailable")});
    out.TextList("category", {"feeCharged", "forVisitors"});
  }
  size_t typical_bytes() const override { return 600; }
};

class BikeStation final : public SourceModel {
 public:
  struct State {
    uint8_t slots, bikes;
  };
  std::string_view kind() const override { return "bike-station"; }
  std::string_view entity_type() const override { return "BikeHireDockingStation"; }
  std::string_view domain() const override { return "mobility"; }
  std::string_view id_prefix() const override { return "bk"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    auto* s = static_cast<State*>(state);
    s->slots = static_cast<uint8_t>(10 + rng.Below(30));
    s->bikes = static_cast<uint8_t>(s->slots / 2);
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    // Residential stations empty in the morning rush and fill in the evening.
    const double morning = c.hour > 6 && c.hour < 10 ? -1 : (c.hour > 16 && c.hour < 20 ? 1 : 0);
    const int change = static_cast<int>(std::lround(sim::Normal{morning, 1.2}(rng)));
    s->bikes = static_cast<uint8_t>(Clamp(s->bikes + change, 0, s->slots));
    const char* status = s->bikes == 0 ? "empty" : s->bikes == s->slots ? "full"
                         : s->bikes <= 2 ? "almostEmpty" : s->slots - s->bikes <= 2 ? "almostFull" : "working";
    out.Point("location", c.home);
    out.Number("totalSlotNumber", s->slots);
    out.Number("availableBikeNumber", s->bikes);
    out.Number("freeSlotNumber", s->slots - s->bikes);
    out.Text("status", status);
  }
  size_t typical_bytes() const override { return 550; }
};

// ---- 2. environment -----------------------------------------------------------------------

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
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    // Traffic-driven pollutants follow the rush hours; ozone follows the sun; rain washes out dust.
    const double traffic = ProfileFactor("mobility", c.hour);
    const double wash = Event(c, "heavy-rain") ? 1 - 0.6 * c.event.intensity : 1;
    s->no2 = static_cast<float>(Clamp(Walk(s->no2, 12 + 18 * traffic, 0.1, 1.5, rng), 0, 400));
    s->pm10 = static_cast<float>(Clamp(Walk(s->pm10, (15 + 10 * traffic) * wash, 0.1, 1.0, rng), 0, 600));
    s->pm25 = static_cast<float>(Clamp(Walk(s->pm25, (7 + 6 * traffic) * wash, 0.1, 0.6, rng), 0, 500));
    s->o3 = static_cast<float>(Clamp(Walk(s->o3, 30 + 60 * Daylight(c.hour), 0.1, 2.0, rng), 0, 400));
    out.Time("dateObserved", c.unix_us);
    out.Point("location", c.home);
    out.Number("no2", Round(s->no2, 0.1), "GQ");
    out.Number("pm10", Round(s->pm10, 0.1), "GQ");
    out.Number("pm25", Round(s->pm25, 0.1), "GQ");
    out.Number("o3", Round(s->o3, 0.1), "GQ");
  }
  size_t typical_bytes() const override { return 700; }
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
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    const double daily = 16 + 6 * std::sin((c.hour - 9) / 24 * 2 * std::numbers::pi);
    const double storm = Event(c, "heavy-rain") ? 60 * c.event.intensity : 0;  // mm/h
    s->temperature = static_cast<float>(Walk(s->temperature, daily - storm / 20, 0.1, 0.2, rng));
    s->rain = static_cast<float>(std::max(0.0, Walk(s->rain, storm, 0.3, 0.3 + storm / 10, rng)));
    s->humidity = static_cast<float>(Clamp(Walk(s->humidity, s->rain > 1 ? 0.95 : 0.6, 0.1, 0.02, rng), 0.05, 1.0));
    out.Time("dateObserved", c.unix_us);
    out.Point("location", c.home);
    out.Number("temperature", Round(s->temperature, 0.1), "CEL");
    out.Number("relativeHumidity", Round(s->humidity, 0.01), "P1");
    out.Number("precipitation", Round(s->rain, 0.1), "MMT");
  }
  size_t typical_bytes() const override { return 650; }
};

class Noise final : public SourceModel {
 public:
  struct State {
    float laeq;
  };
  std::string_view kind() const override { return "noise"; }
  std::string_view entity_type() const override { return "NoiseLevelObserved"; }
  std::string_view domain() const override { return "environment"; }
  std::string_view id_prefix() const override { return "nz"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    static_cast<State*>(state)->laeq = static_cast<float>(50 + 10 * rng.Uniform01());
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    const double target = 42 + 10 * std::log10(1 + 9 * ProfileFactor("mobility", c.hour) / ProfilePeak("mobility"));
    s->laeq = static_cast<float>(Clamp(Walk(s->laeq, target, 0.3, 1.0, rng), 30, 100));
    out.Time("dateObservedFrom", c.unix_us - static_cast<int64_t>(c.period_s * 1e6));
    out.Time("dateObservedTo", c.unix_us);
    out.Point("location", c.home);
    out.Number("LAeq", Round(s->laeq, 0.1), "2N");
    out.Number("LAmax", Round(s->laeq + 8 + 6 * rng.Uniform01(), 0.1), "2N");
    out.Number("LAS", Round(s->laeq + sim::Normal{0, 2}(rng), 0.1), "2N");
  }
  size_t typical_bytes() const override { return 650; }
};

// ---- 3. utilities: water, energy, lighting, recycling -------------------------------------

class WaterMeter final : public SourceModel {
 public:
  struct State {
    uint8_t leaking;
  };
  std::string_view kind() const override { return "water-meter"; }
  std::string_view entity_type() const override { return "WaterConsumptionObserved"; }
  std::string_view domain() const override { return "utilities"; }
  std::string_view id_prefix() const override { return "wm"; }
  size_t state_size() const override { return sizeof(State); }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    if (!s->leaking && rng.Uniform01() < 0.001) s->leaking = 1;
    else if (s->leaking && rng.Uniform01() < 0.05) s->leaking = 0;
    // A household uses ~250 litres a day, shaped like the residential profile; a leak adds flow.
    const double litres = 250.0 / 86400 * c.period_s * ProfileFactor("residential", c.hour) *
                              std::exp(sim::Normal{0, 0.3}(rng)) + (s->leaking ? 5.0 * c.period_s / 3600 : 0);
    out.Time("dateObserved", c.unix_us);
    out.Point("location", c.home);
    out.Number("waterConsumption", std::round(std::max(0.0, litres)), "LTR");
    out.Number("alarmInProgress", s->leaking ? 1 : 0);
    out.Number("alarmTamper", 0);
    out.Text("alarmFlowPersistence", s->leaking ? "In progress persistence" : "Nothing to report");
  }
  size_t typical_bytes() const override { return 700; }
};

class SmartMeter final : public SourceModel {
 public:
  struct State {
    double total_kwh;
  };
  std::string_view kind() const override { return "smart-meter"; }
  std::string_view entity_type() const override { return "SmartMeteringObservation"; }
  std::string_view domain() const override { return "utilities"; }
  std::string_view id_prefix() const override { return "em"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    static_cast<State*>(state)->total_kwh = 1000 + 20000 * rng.Uniform01();
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    // ~10 kWh a day per household with the evening peak; a blackout after an earthquake cuts it.
    double kw = 10.0 / 24 * ProfileFactor("energy", c.hour) * std::exp(sim::Normal{0, 0.2}(rng));
    if (Event(c, "earthquake")) kw *= 1 - 0.8 * c.event.intensity;
    s->total_kwh += kw * c.period_s / 3600;
    out.Time("dateObserved", c.unix_us);
    out.Point("location", c.home);
    out.Text("meterType", "electricity", false);
    out.Number("totalConsumption", Round(s->total_kwh, 0.001), "KWH");
    out.Number("peakConsumption", Round(kw * (1.2 + 0.5 * rng.Uniform01()), 0.001), "KWT");
    out.Relationship("refDevice", RegionId("Device", c.region, "meter", c.index));
  }
  size_t typical_bytes() const override { return 650; }
};

class Streetlight final : public SourceModel {
 public:
  struct State {
    uint8_t broken;
  };
  std::string_view kind() const override { return "streetlight"; }
  std::string_view entity_type() const override { return "Streetlight"; }
  std::string_view domain() const override { return "utilities"; }
  std::string_view id_prefix() const override { return "sl"; }
  size_t state_size() const override { return sizeof(State); }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    if (!s->broken && rng.Uniform01() < 0.0005) s->broken = 1;
    else if (s->broken && rng.Uniform01() < 0.02) s->broken = 0;  // repaired
    const bool dark = Daylight(c.hour) < 0.15;
    const bool on = dark && !s->broken;
    out.Point("location", c.home);
    out.Text("status", s->broken ? "defectiveLamp" : "ok");
    out.Text("powerState", on ? "on" : "off");
    out.Number("powerConsumption", on ? Round(sim::Normal{60, 3}(rng), 0.1) : 0.0, "WTT");
    out.Number("illuminanceLevel", on ? Round(Clamp(sim::Normal{0.9, 0.03}(rng), 0, 1), 0.01) : 0.0);
  }
  size_t typical_bytes() const override { return 500; }
};

class WasteContainer final : public SourceModel {
 public:
  struct State {
    float fill;
    uint8_t waste;
  };
  std::string_view kind() const override { return "waste-container"; }
  std::string_view entity_type() const override { return "WasteContainer"; }
  std::string_view domain() const override { return "utilities"; }
  std::string_view id_prefix() const override { return "wc"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    auto* s = static_cast<State*>(state);
    s->fill = static_cast<float>(0.7 * rng.Uniform01());
    s->waste = static_cast<uint8_t>(rng.Below(5));
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    static constexpr const char* kKinds[] = {"organic", "plastic", "paper", "glass", "metal"};
    auto* s = static_cast<State*>(state);
    // Fills over about three days with the residential rhythm; collected in the morning when full.
    s->fill += static_cast<float>(c.period_s / (3 * 86400.0) * ProfileFactor("residential", c.hour) *
                                  std::exp(sim::Normal{0, 0.3}(rng)));
    if (s->fill > 0.8 && c.hour > 7 && c.hour < 11 && rng.Uniform01() < 0.3) s->fill = 0.02f;
    s->fill = static_cast<float>(Clamp(s->fill, 0, 1));
    out.Point("location", c.home);
    out.Number("fillingLevel", Round(s->fill, 0.01));
    out.Text("status", rng.Uniform01() < 0.002 ? "lidOpen" : "ok");
    out.Text("storedWasteKind", kKinds[s->waste], false);
    out.Number("binCapacity", 1100, "LTR");
  }
  size_t typical_bytes() const override { return 550; }
};

// ---- 4. disaster information --------------------------------------------------------------

class RiverGauge final : public SourceModel {
 public:
  struct State {
    float level, base;
  };
  std::string_view kind() const override { return "river-gauge"; }
  std::string_view entity_type() const override { return "FloodMonitoring"; }
  std::string_view domain() const override { return "disaster"; }
  std::string_view id_prefix() const override { return "rg"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    auto* s = static_cast<State*>(state);
    s->base = static_cast<float>(0.8 + 1.5 * rng.Uniform01());
    s->level = s->base;
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    // The river rises towards base + 4 m under heavy rain and recedes slowly afterwards.
    const double target = s->base + (Event(c, "heavy-rain") ? 4.0 * c.event.intensity : 0.0);
    const double rate = target > s->level ? 0.15 : 0.03;
    s->level = static_cast<float>(std::max(0.0, s->level + rate * (target - s->level) + sim::Normal{0, 0.01}(rng)));
    const double alert = s->base + 2.0, danger = s->base + 3.5;
    char station[40];
    std::snprintf(station, sizeof station, "%.*s-%04u", static_cast<int>(c.region.size()), c.region.data(), c.index);
    out.Point("location", c.home);
    out.Number("currentLevel", Round(s->level, 0.01), "MTR");
    out.Number("alertLevel", Round(alert, 0.01), "MTR");
    out.Number("dangerLevel", Round(danger, 0.01), "MTR");
    out.Text("floodLevelStatus", s->level >= danger ? "danger" : (s->level >= alert ? "alert" : "normal"));
    out.Text("stationID", station, false);
    AttrOut& t = out.Add("observationDateTime", AttrOut::Kind::kDateTime);
    t.time_us = c.unix_us;
    t.observed = false;
  }
  size_t typical_bytes() const override { return 750; }
};

// Public warnings of the region's disaster-management office: rare in calm weather, issued
// and updated while heavy rain or an earthquake lasts.
class DisasterAlert final : public SourceModel {
 public:
  std::optional<LonLat> FixedPlace(const SourceContext& ctx) const override { return ctx.region_center; }
  std::string_view kind() const override { return "disaster-alert"; }
  std::string_view entity_type() const override { return "Alert"; }
  std::string_view domain() const override { return "disaster"; }
  std::string_view id_prefix() const override { return "al"; }
  bool reports_at_event_start() const override { return true; }
  void Report(const SourceContext& c, void*, sim::Rng& rng, EntityUpdate& out) const override {
    const double x = c.event.intensity;
    const char* severity = x > 0.75 ? "critical" : x > 0.5 ? "high" : x > 0.25 ? "medium" : x > 0 ? "low" : "informational";
    const char* category = "weather";
    const char* sub = "rainfall";
    std::string description = "No warning in force";
    if (Event(c, "earthquake")) {
      category = "naturalDisaster";
      sub = c.event.elapsed_s < 1800 && rng.Uniform01() < 0.3 ? "tsunami" : "earthquake";
      description = "Earthquake: evacuate to the nearest shelter if your building is damaged";
    } else if (Event(c, "heavy-rain")) {
      category = "weather";
      sub = x > 0.6 ? "flood" : (x > 0.3 ? "floodRisk" : "rainfall");
      description = "Heavy rain: rivers may overflow; avoid riverbanks and low ground";
    }
    out.Point("location", c.region_center);
    out.Text("alertSource", "urn:ngsi-ld:Organization:" + std::string(c.region) + ":disaster-management", false);
    out.Text("category", category, false);
    out.Text("subCategory", sub, false);
    out.Text("severity", severity);
    out.Text("description", description, false);
    out.Time("dateIssued", c.unix_us);
    out.Time("validFrom", c.unix_us);
    out.Time("validTo", c.unix_us + 3600ll * 1000000);
  }
  size_t typical_bytes() const override { return 800; }
};

class Shelter final : public SourceModel {
 public:
  struct State {
    uint16_t capacity, occupancy;
  };
  std::string_view kind() const override { return "shelter"; }
  std::string_view entity_type() const override { return "EvacuationShelter"; }
  std::string_view domain() const override { return "disaster"; }
  std::string_view id_prefix() const override { return "sh"; }
  size_t state_size() const override { return sizeof(State); }
  bool own_type() const override { return true; }
  bool reports_at_event_start() const override { return true; }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    auto* s = static_cast<State*>(state);
    s->capacity = static_cast<uint16_t>(100 + rng.Below(900));
    s->occupancy = 0;
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    double target = 0;
    if (Event(c, "earthquake")) target = s->capacity * Clamp(0.9 * c.event.intensity, 0, 1);
    else if (Event(c, "heavy-rain")) target = s->capacity * Clamp(0.4 * c.event.intensity, 0, 1);
    s->occupancy = static_cast<uint16_t>(Clamp(std::lround(Walk(s->occupancy, target, 0.2, 2, rng)), 0, s->capacity));
    const bool open = target > 0 || s->occupancy > 0;
    out.Point("location", c.home);
    out.Number("capacity", s->capacity);
    out.Number("occupancy", s->occupancy);
    out.Text("status", !open ? "standby" : (s->occupancy >= s->capacity ? "full" : "open"));
  }
  size_t typical_bytes() const override { return 500; }
};

// ---- 5. community safety / watching -------------------------------------------------------

class CrowdSensor final : public SourceModel {
 public:
  struct State {
    float people;
  };
  std::string_view kind() const override { return "crowd-sensor"; }
  std::string_view entity_type() const override { return "CrowdFlowObserved"; }
  std::string_view domain() const override { return "safety"; }
  std::string_view id_prefix() const override { return "cr"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    static_cast<State*>(state)->people = static_cast<float>(50 * rng.Uniform01());
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    double target = 80 * ProfileFactor("daytime", c.hour);
    if (Event(c, "earthquake")) target *= 1 + 3 * c.event.intensity;  // people pour into the streets
    s->people = static_cast<float>(std::max(0.0, Walk(s->people, target, 0.3, 5, rng)));
    const double occupancy = Clamp(s->people / 400.0, 0, 1);
    out.Time("dateObserved", c.unix_us);
    out.Point("location", c.home);
    out.Number("peopleCount", std::round(s->people));
    out.Number("occupancy", Round(occupancy, 0.01));
    out.Bool("congested", occupancy > 0.5);
    out.Number("averageCrowdSpeed", Round(Clamp(1.4 * (1 - occupancy), 0.1, 2), 0.01), "MTS");
    out.Text("direction", c.index % 2 ? "inbound" : "outbound", false);
  }
  size_t typical_bytes() const override { return 650; }
};

// Trackers carried by elderly people who live alone: position and battery, more often in an
// emergency.
class WatchTracker final : public SourceModel {
 public:
  std::optional<LonLat> FixedPlace(const SourceContext&) const override { return std::nullopt; }
  struct State {
    float battery, dx, dy;
  };
  std::string_view kind() const override { return "watch-tracker"; }
  std::string_view entity_type() const override { return "Device"; }
  std::string_view domain() const override { return "safety"; }
  std::string_view id_prefix() const override { return "wt"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng& rng) const override {
    auto* s = static_cast<State*>(state);
    s->battery = static_cast<float>(0.3 + 0.7 * rng.Uniform01());
    s->dx = s->dy = 0;
  }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    s->battery -= static_cast<float>(c.period_s / (2 * 86400.0));
    if (s->battery < 0.1 && c.hour > 20) s->battery = 1.0f;  // charged overnight
    s->battery = static_cast<float>(Clamp(s->battery, 0, 1));
    // Walks within ~500 m of home by day, at home at night.
    const bool out_and_about = c.hour > 8 && c.hour < 18;
    s->dx = static_cast<float>(out_and_about ? Clamp(Walk(s->dx, 0, 0.1, 0.08, rng), -0.5, 0.5) : 0.0);
    s->dy = static_cast<float>(out_and_about ? Clamp(Walk(s->dy, 0, 0.1, 0.08, rng), -0.5, 0.5) : 0.0);
    const LonLat pos = Round6(Offset(Offset(c.home, s->dx, std::numbers::pi / 2), s->dy, 0));
    out.TextList("controlledProperty", {"location", "motion"});
    out.TextList("deviceCategory", {"sensor"});
    out.Number("batteryLevel", Round(s->battery, 0.01));
    out.Text("deviceState", s->battery < 0.15 ? "lowBattery" : "ok");
    out.Point("location", pos);
    out.Time("dateLastValueReported", c.unix_us);
  }
  size_t typical_bytes() const override { return 650; }
};

// ---- 6. health ----------------------------------------------------------------------------

// Wearables are aggregated per neighbourhood by a gateway before the data leaves the region:
// the platform receives area averages, never one person's vital signs.
class WearableArea final : public SourceModel {
 public:
  struct State {
    float heart;
  };
  std::string_view kind() const override { return "wearable-area"; }
  std::string_view entity_type() const override { return "DeviceMeasurement"; }
  std::string_view domain() const override { return "health"; }
  std::string_view id_prefix() const override { return "hm"; }
  size_t state_size() const override { return sizeof(State); }
  void Init(const SourceContext&, void* state, sim::Rng&) const override { static_cast<State*>(state)->heart = 70; }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    double target = 62 + 14 * ProfileFactor("daytime", c.hour) / ProfilePeak("daytime");
    if (Event(c, "earthquake")) target += 20 * c.event.intensity;  // stress
    s->heart = static_cast<float>(Clamp(Walk(s->heart, target, 0.3, 0.8, rng), 40, 180));
    out.Relationship("refDevice", RegionId("Device", c.region, "area-gw", c.index));
    out.Text("controlledProperty", "heartRate", false);
    out.Text("measurementType", "average", false);
    out.Number("numValue", Round(s->heart, 0.1));
    out.Text("unit", "5K", false);
    out.Number("participants", 20 + c.index % 60);
    out.Time("dateObserved", c.unix_us);
    out.Point("location", c.home);
  }
  size_t typical_bytes() const override { return 650; }
};

// ---- 7. cashless payments and e-learning --------------------------------------------------

class PaymentTerminal final : public SourceModel {
 public:
  std::string_view kind() const override { return "payment-terminal"; }
  std::string_view entity_type() const override { return "CashlessPaymentSummary"; }
  std::string_view domain() const override { return "payments-learning"; }
  std::string_view id_prefix() const override { return "pt"; }
  bool own_type() const override { return true; }
  void Report(const SourceContext& c, void*, sim::Rng& rng, EntityUpdate& out) const override {
    // A shop's card and QR payments over the last period: count and amount (aggregated).
    const double mean = 40.0 / 3600 * c.period_s * ProfileFactor("residential", c.hour);
    const int64_t n = sim::Poisson{mean}(rng);
    double amount = 0;
    for (int64_t k = 0; k < std::min<int64_t>(n, 200); ++k) amount += sim::LogNormal::FromMeanCv(1200, 1.0)(rng);
    if (n > 200) amount *= static_cast<double>(n) / 200;
    out.Time("dateObservedFrom", c.unix_us - static_cast<int64_t>(c.period_s * 1e6));
    out.Time("dateObservedTo", c.unix_us);
    out.Point("location", c.home);
    out.Number("transactionCount", static_cast<double>(n));
    out.Number("amount", std::round(amount), "JPY");
    out.Text("merchantCategory", c.index % 3 == 0 ? "restaurant" : (c.index % 3 == 1 ? "grocery" : "retail"), false);
  }
  size_t typical_bytes() const override { return 650; }
};

class LearningActivity final : public SourceModel {
 public:
  struct State {
    float learners;
  };
  std::string_view kind() const override { return "e-learning"; }
  std::string_view entity_type() const override { return "LearningActivity"; }
  std::string_view domain() const override { return "payments-learning"; }
  std::string_view id_prefix() const override { return "el"; }
  size_t state_size() const override { return sizeof(State); }
  bool own_type() const override { return true; }
  void Report(const SourceContext& c, void* state, sim::Rng& rng, EntityUpdate& out) const override {
    auto* s = static_cast<State*>(state);
    // A school's learning platform: classes by day, homework in the evening.
    const double school = c.hour > 8.5 && c.hour < 15.5 ? 300 : (c.hour > 18 && c.hour < 22 ? 80 : 5);
    const double closed = Event(c, "earthquake") ? 1 - c.event.intensity : 1;
    s->learners = static_cast<float>(std::max(0.0, Walk(s->learners, school * closed, 0.3, 8, rng)));
    out.Time("dateObserved", c.unix_us);
    out.Point("location", c.home);
    out.Number("activeLearners", std::round(s->learners));
    out.Number("sessionsStarted", static_cast<double>(sim::Poisson{s->learners / 30.0}(rng)));
    out.Number("averageSessionMinutes", Round(Clamp(sim::Normal{25, 5}(rng), 1, 90), 0.1), "MIN");
  }
  size_t typical_bytes() const override { return 550; }
};

// Transit IC-card gates: the last fare collected (FareCollectionSystem, a Smart Data Model).
class FareGate final : public SourceModel {
 public:
  std::string_view kind() const override { return "fare-gate"; }
  std::string_view entity_type() const override { return "FareCollectionSystem"; }
  std::string_view domain() const override { return "payments-learning"; }
  std::string_view id_prefix() const override { return "fg"; }
  void Report(const SourceContext& c, void*, sim::Rng& rng, EntityUpdate& out) const override {
    char card[24];
    std::snprintf(card, sizeof card, "IC%012llu", static_cast<unsigned long long>(rng.Below(1000000000000ull)));
    out.Text("cardId", card, false);
    out.Text("transactionType", rng.Uniform01() < 0.5 ? "entry" : "exit", false);
    out.Time("transactionDateTime", c.unix_us);
    out.Number("fareForAdult", 140 + 10 * static_cast<double>(rng.Below(30)), "JPY");
    out.Point("location", c.home);
  }
  size_t typical_bytes() const override { return 500; }
};

const std::vector<const SourceModel*>& Catalog() {
  static const TrafficFlow traffic;
  static const Bus bus;
  static const DeliveryVan van;
  static const ParkingSpot parking;
  static const ParkingLot lot;
  static const BikeStation bike;
  static const AirQuality air;
  static const Weather weather;
  static const Noise noise;
  static const WaterMeter water;
  static const SmartMeter meter;
  static const Streetlight light;
  static const WasteContainer waste;
  static const RiverGauge river;
  static const DisasterAlert alert;
  static const Shelter shelter;
  static const CrowdSensor crowd;
  static const WatchTracker tracker;
  static const WearableArea wearable;
  static const PaymentTerminal payment;
  static const LearningActivity learning;
  static const FareGate fare;
  static const std::vector<const SourceModel*> all = {&traffic, &bus,     &van,     &parking, &lot,     &bike,
                                                      &air,     &weather, &noise,   &water,   &meter,   &light,
                                                      &waste,   &river,   &alert,   &shelter, &crowd,   &tracker,
                                                      &wearable, &payment, &learning, &fare};
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

const std::string& OwnContextDocument() {
  static const std::string doc = R"({
  "@context": {
    "citybed": "https://citybed.invalid/ns/",
    "CashlessPaymentSummary": "citybed:CashlessPaymentSummary",
    "LearningActivity": "citybed:LearningActivity",
    "EvacuationShelter": "citybed:EvacuationShelter",
    "transactionCount": "citybed:transactionCount",
    "amount": "citybed:amount",
    "merchantCategory": "citybed:merchantCategory",
    "dateObservedFrom": "citybed:dateObservedFrom",
    "dateObservedTo": "citybed:dateObservedTo",
    "activeLearners": "citybed:activeLearners",
    "sessionsStarted": "citybed:sessionsStarted",
    "averageSessionMinutes": "citybed:averageSessionMinutes",
    "dateObserved": "citybed:dateObserved",
    "capacity": "citybed:capacity",
    "occupancy": "citybed:occupancy",
    "status": "citybed:status"
  }
}
)";
  return doc;
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
