#include "citybed/models/generators.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "citybed/common/strings.h"
#include "citybed/sim/random.h"

namespace citybed::models {

namespace {
}  // namespace

// Prefectural capitals and the largest cities (approximate centres, degrees).
const std::vector<City>& JapaneseCities() {
  static const std::vector<City> cities = {
      {"tokyo", "Tokyo", 35.6812, 139.7671},         {"yokohama", "Yokohama", 35.4437, 139.6380},
      {"osaka", "Osaka", 34.7025, 135.4959},         {"nagoya", "Nagoya", 35.1815, 136.9066},
      {"sapporo", "Sapporo", 43.0618, 141.3545},     {"fukuoka", "Fukuoka", 33.5902, 130.4207},
      {"kobe", "Kobe", 34.6901, 135.1955},           {"kawasaki", "Kawasaki", 35.5308, 139.7029},
      {"kyoto", "Kyoto", 35.0116, 135.7681},         {"saitama", "Saitama", 35.8617, 139.6455},
      {"hiroshima", "Hiroshima", 34.3853, 132.4553}, {"sendai", "Sendai", 38.2682, 140.8694},
      {"chiba", "Chiba", 35.6074, 140.1065},         {"kitakyushu", "Kitakyushu", 33.8834, 130.8752},
      {"sakai", "Sakai", 34.5733, 135.4830},         {"niigata", "Niigata", 37.9161, 139.0364},
      {"hamamatsu", "Hamamatsu", 34.7108, 137.7261}, {"kumamoto", "Kumamoto", 32.8032, 130.7079},
      {"okayama", "Okayama", 34.6618, 133.9344},     {"shizuoka", "Shizuoka", 34.9756, 138.3828},
      {"kagoshima", "Kagoshima", 31.5602, 130.5581}, {"utsunomiya", "Utsunomiya", 36.5551, 139.8828},
      {"matsuyama", "Matsuyama", 33.8392, 132.7657}, {"kanazawa", "Kanazawa", 36.5613, 136.6562},
      {"oita", "Oita", 33.2382, 131.6126},           {"nagasaki", "Nagasaki", 32.7503, 129.8779},
      {"toyama", "Toyama", 36.6953, 137.2113},       {"gifu", "Gifu", 35.4233, 136.7607},
      {"miyazaki", "Miyazaki", 31.9111, 131.4239},   {"nagano", "Nagano", 36.6513, 138.1810},
      {"wakayama", "Wakayama", 34.2305, 135.1708},   {"nara", "Nara", 34.6851, 135.8048},
      {"takamatsu", "Takamatsu", 34.3401, 134.0434}, {"kochi", "Kochi", 33.5597, 133.5311},
      {"naha", "Naha", 26.2124, 127.6809},           {"aomori", "Aomori", 40.8244, 140.7400},
      {"morioka", "Morioka", 39.7036, 141.1527},     {"akita", "Akita", 39.7186, 140.1024},
      {"yamagata", "Yamagata", 38.2405, 140.3634},   {"fukushima", "Fukushima", 37.7608, 140.4747},
      {"mito", "Mito", 36.3418, 140.4468},           {"maebashi", "Maebashi", 36.3895, 139.0634},
      {"kofu", "Kofu", 35.6642, 138.5684},           {"fukui", "Fukui", 36.0641, 136.2196},
      {"tsu", "Tsu", 34.7185, 136.5056},             {"otsu", "Otsu", 35.0045, 135.8686},
      {"tottori", "Tottori", 35.5011, 134.2351},     {"matsue", "Matsue", 35.4723, 133.0505},
      {"yamaguchi", "Yamaguchi", 34.1859, 131.4714}, {"tokushima", "Tokushima", 34.0703, 134.5548},
      {"saga", "Saga", 33.2635, 130.3009},
  };
  return cities;
}

Expected<std::vector<RegionSpec>> GenerateRegions(const RegionGenerator& g, uint64_t seed, const std::string& base_dir) {
  std::vector<RegionSpec> regions;
  if (!g.csv.empty()) {
    std::filesystem::path path(g.csv);
    if (path.is_relative()) path = std::filesystem::path(base_dir) / path;
    std::ifstream in(path);
    if (!in) return Unexpected(Error::NotFound("cannot read regions CSV " + path.string()));
    std::string line;
    std::getline(in, line);  // header
    const auto header = Split(line, ',');
    if (header.size() < 5 || Trim(header[0]) != "id" || Trim(header[4]) != "population") {
      return Unexpected(Error::InvalidArgument(path.string() + ": the header must be id,name,lat,lon,population[,stage]"));
    }
    int row = 1;
    while (std::getline(in, line)) {
      ++row;
      if (Trim(line).empty()) continue;
      const auto f = Split(line, ',');
      RegionSpec r;
      try {
        if (f.size() < 5) throw std::invalid_argument("too few columns");
        r.id = std::string(Trim(f[0]));
        r.name = std::string(Trim(f[1]));
        r.lat = std::stod(std::string(f[2]));
        r.lon = std::stod(std::string(f[3]));
        r.population = std::stod(std::string(f[4]));
        if (f.size() > 5 && !Trim(f[5]).empty()) r.stage = std::stoi(std::string(f[5]));
      } catch (const std::exception& e) {
        return Unexpected(Error::InvalidArgument(path.string() + ":" + std::to_string(row) + ": " + e.what()));
      }
      if (r.id.empty() || !(r.population > 0) || r.lat < -90 || r.lat > 90 || r.lon < -180 || r.lon > 180) {
        return Unexpected(Error::InvalidArgument(path.string() + ":" + std::to_string(row) +
                                                 ": needs an id, a latitude, a longitude and a population > 0"));
      }
      regions.push_back(std::move(r));
    }
  } else {
    sim::Rng rng = sim::RngStreams(seed).Stream("regions");
    const sim::LogNormal dist{std::log(g.median_population), g.sigma};
    std::vector<double> pops;
    for (int i = 0; i < g.count; ++i) pops.push_back(std::clamp(std::round(dist(rng)), g.min_population, g.max_population));
    std::sort(pops.rbegin(), pops.rend());
    const auto& cities = JapaneseCities();
    for (int i = 0; i < g.count; ++i) {
      RegionSpec r;
      char id[16];
      std::snprintf(id, sizeof id, "r%03d", i + 1);
      r.id = id;
      r.population = pops[static_cast<size_t>(i)];
      if (static_cast<size_t>(i) < cities.size()) {
        // The largest regions are the largest cities, in order.
        const City& c = cities[static_cast<size_t>(i)];
        r.name = std::string(c.name);
        r.lat = c.lat;
        r.lon = c.lon;
      } else {
        // Others lie 10-80 km from a random city, inside Japan's extent.
        const City& c = cities[rng.Below(cities.size())];
        const double km = 10 + 70 * rng.Uniform01(), angle = 2 * std::numbers::pi * rng.Uniform01();
        r.lat = std::clamp(c.lat + km * std::cos(angle) / 111.195, 24.0, 45.5);
        r.lon = std::clamp(c.lon + km * std::sin(angle) / (111.195 * std::cos(c.lat * std::numbers::pi / 180)), 123.0, 146.0);
        r.lat = std::round(r.lat * 1e4) / 1e4;
        r.lon = std::round(r.lon * 1e4) / 1e4;
        r.name = "near " + std::string(c.name);
      }
      regions.push_back(std::move(r));
    }
  }
  // Rollout waves: the most populous regions first.
  if (!g.waves.empty()) {
    std::stable_sort(regions.begin(), regions.end(), [](const RegionSpec& a, const RegionSpec& b) {
      return a.population > b.population;
    });
    size_t next = 0;
    for (size_t w = 0; w < g.waves.size(); ++w) {
      for (int k = 0; k < g.waves[w] && next < regions.size(); ++k) regions[next++].stage = static_cast<int>(w);
    }
    for (; next < regions.size(); ++next) regions[next].stage = static_cast<int>(g.waves.size());
  }
  if (g.live_waves > 0) {
    regions.erase(std::remove_if(regions.begin(), regions.end(),
                                 [&](const RegionSpec& r) { return r.stage >= g.live_waves; }),
                  regions.end());
  }
  return regions;
}

size_t NearestHub(const BackboneGenerator& g, const RegionSpec& region) {
  const auto& cities = JapaneseCities();
  size_t best = 0;
  double best_km = 1e300;
  for (size_t h = 0; h < g.hubs.size(); ++h) {
    auto it = std::find_if(cities.begin(), cities.end(), [&](const City& c) { return c.id == g.hubs[h]; });
    if (it == cities.end()) continue;
    const double km = sim::Network::GreatCircleKm(region.lat, region.lon, it->lat, it->lon);
    if (km < best_km) {
      best_km = km;
      best = h;
    }
  }
  return best;
}

Expected<int> BuildBackbone(const BackboneGenerator& g, const std::vector<RegionSpec>& regions, sim::Network& net,
                            std::vector<int>& gateways) {
  const auto& cities = JapaneseCities();
  std::vector<int> hubs;
  std::vector<const City*> hub_cities;
  for (const std::string& h : g.hubs) {
    auto it = std::find_if(cities.begin(), cities.end(), [&](const City& c) { return c.id == h; });
    if (it == cities.end()) return Unexpected(Error::InvalidArgument("unknown hub city " + h));
    hubs.push_back(net.AddNode("hub-" + h, it->lat, it->lon));
    hub_cities.push_back(&*it);
  }
  const auto broker = net.Find("hub-" + g.broker_hub);
  if (!broker) return Unexpected(Error::InvalidArgument("the broker hub " + g.broker_hub + " is not among the hubs"));
  // Core: every pair, or a ring in the listed order.
  for (size_t a = 0; a < hubs.size(); ++a) {
    for (size_t b = a + 1; b < hubs.size(); ++b) {
      const bool ring_neighbours = b == a + 1 || (a == 0 && b == hubs.size() - 1);
      if (g.core == "ring" && !ring_neighbours) continue;
      if (auto ok = net.AddLink(hubs[a], hubs[b], std::nullopt, g.core_bandwidth_bps, g.loss); !ok) return Unexpected(ok.error());
    }
  }
  gateways.clear();
  for (const RegionSpec& r : regions) {
    const int gw = net.AddNode("gw-" + r.id, r.lat, r.lon);
    const size_t best = NearestHub(g, r);
    if (auto ok = net.AddLink(gw, hubs[best], std::nullopt, g.region_bandwidth_bps, g.loss); !ok) return Unexpected(ok.error());
    gateways.push_back(gw);
  }
  return *broker;
}

std::string RegionsCsv(const std::vector<RegionSpec>& regions) {
  std::ostringstream o;
  o << "id,name,lat,lon,population,stage,radius_km\n";
  for (const RegionSpec& r : regions) {
    char buf[256];
    const double radius = r.radius_km > 0 ? r.radius_km : std::max(0.5, std::sqrt(r.population / 3000.0 / std::numbers::pi));
    std::snprintf(buf, sizeof buf, "%s,%s,%.4f,%.4f,%.0f,%d,%.2f\n", r.id.c_str(), r.name.c_str(), r.lat, r.lon,
                  r.population, r.stage, radius);
    o << buf;
  }
  return o.str();
}

}  // namespace citybed::models
