#include "citybed/models/interop.h"

#include <nlohmann/json.hpp>
#include <algorithm>
#include <set>

#include "citybed/common/strings.h"
#include "citybed/sim/network.h"

namespace citybed::models {

namespace {

using json = nlohmann::json;

// The observedAt of one attribute: NGSI-LD's member, or NGSI-v2's metadata.
std::optional<int64_t> ObservedAt(const json& attr) {
  const json* text = nullptr;
  if (auto it = attr.find("observedAt"); it != attr.end() && it->is_string()) {
    text = &*it;
  } else if (auto md = attr.find("metadata"); md != attr.end() && md->is_object()) {
    if (auto o = md->find("observedAt"); o != md->end() && o->is_object()) {
      if (auto v = o->find("value"); v != o->end() && v->is_string()) text = &*v;
    }
  }
  if (text == nullptr) return std::nullopt;
  auto t = ParseRfc3339Micros(text->get_ref<const std::string&>());
  if (!t) return std::nullopt;
  return *t;
}

std::optional<int64_t> Latest(const json& entity) {
  std::optional<int64_t> best;
  if (!entity.is_object()) return best;
  for (auto it = entity.begin(); it != entity.end(); ++it) {
    const json& v = it.value();
    auto consider = [&](const json& attr) {
      if (!attr.is_object()) return;
      if (auto t = ObservedAt(attr); t && (!best || *t > *best)) best = t;
    };
    if (v.is_array()) {
      for (const json& inst : v) consider(inst);
    } else {
      consider(v);
    }
  }
  return best;
}

// Latest write minus the returned observation, from the low 32 bits the World keeps (µs).
std::optional<int64_t> Staleness(const LastWrite& w, int64_t returned_us) {
  if (w.uplink_us == UINT32_MAX) return std::nullopt;  // no write yet
  const auto diff = static_cast<int32_t>(w.observed_us_low - static_cast<uint32_t>(returned_us));
  return std::max<int64_t>(0, diff);
}

}  // namespace

std::optional<int64_t> LatestObservation(std::string_view entity_json) {
  const json doc = json::parse(entity_json, nullptr, false);
  if (doc.is_discarded()) return std::nullopt;
  return Latest(doc);
}

bool InteropProbe::Measures(const WorkloadRequest& q) const {
  if (q.op != OpKind::kGet && q.op != OpKind::kQuery && q.op != OpKind::kGeoQuery) return false;
  if (q.spec == nullptr) return false;
  return world_.federation() != nullptr || q.about != q.region;
}

const std::vector<LonLat>& InteropProbe::PlacesOf(int group) {
  auto it = places_.find(group);
  if (it != places_.end()) return it->second;
  const SourceGroup& g = world_.sources()[static_cast<size_t>(group)];
  std::vector<LonLat> places;
  places.reserve(g.count);
  for (uint32_t i = 0; i < g.count; ++i) {
    auto p = g.model->FixedPlace(world_.Context(g, i, 0));
    if (!p) {
      places.clear();
      break;
    }
    places.push_back(*p);
  }
  return places_.emplace(group, std::move(places)).first->second;
}

InteropRecord InteropProbe::Measure(const WorkloadRequest& q, const RequestRecord& r) {
  InteropRecord m;
  m.op = q.op;
  m.region = q.region;
  m.about = q.about;
  m.pair = static_cast<int>(world_.Classify(q.region, q.about));
  m.site = q.site;
  m.intended = r.intended;
  m.ok = r.ok();
  m.partial = r.warnings > 0;
  m.fan_out = r.forwarded_sources;
  m.forwarded_bytes = r.forwarded_bytes;
  m.latency = r.latency;
  if (!r.results_count.empty()) m.count_reported = std::atoll(std::string(r.results_count).c_str());

  // What came back: entities by their source (group, member), or foreign.
  std::vector<json> entities;
  if (m.ok && !r.body.empty()) {
    json doc = json::parse(r.body, nullptr, false);
    if (doc.is_array()) {
      for (json& e : doc) entities.push_back(std::move(e));
    } else if (doc.is_object()) {
      entities.push_back(std::move(doc));
    }
  }
  m.returned = static_cast<int>(entities.size());
  std::set<std::string> seen;
  struct Got {
    int group;
    uint32_t member;
    const json* entity;
  };
  std::vector<Got> got;
  for (const json& e : entities) {
    auto id = e.find("id");
    if (id == e.end() || !id->is_string()) continue;
    const std::string& s = id->get_ref<const std::string&>();
    if (!seen.insert(s).second) {
      ++m.duplicates;
      continue;
    }
    if (auto src = world_.FindSource(s)) got.push_back({src->first, src->second, &e});
  }
  auto stale = [&](const Got& g) {
    const SourceGroup& sg = world_.sources()[static_cast<size_t>(g.group)];
    if (auto t = Latest(*g.entity)) {
      if (auto age = Staleness(sg.last_write[g.member], *t)) m.staleness_us.push_back(*age);
    }
  };
  // Returned entities the truth holds (their staleness measured), and the others.
  auto tally = [&](auto&& in_truth) {
    for (const Got& g : got) {
      if (in_truth(g)) {
        ++m.matched;
        stale(g);
      } else {
        ++m.foreign;
      }
    }
    m.foreign += static_cast<int>(seen.size()) - static_cast<int>(got.size());  // not this world's ids
  };
  const RequestSpec& spec = *q.spec;

  if (q.op == OpKind::kGet) {
    m.expected = 1;
    m.count_truth = 1;
    tally([&](const Got& g) { return g.group == q.asked_group && g.member == q.asked_member; });
    return m;
  }

  // The truth of a query: reported sources of the asked type (within the distance, for a geo-query).
  bool known = true;
  std::set<std::pair<int, uint32_t>> required, allowed;
  const double d_km = spec.max_distance_m / 1000.0;
  for (size_t ri = 0; ri < world_.regions().size() && known; ++ri) {
    const RegionRuntime& rt = world_.regions()[ri];
    if (q.op == OpKind::kGeoQuery &&
        sim::Network::GreatCircleKm(q.place.lat, q.place.lon, rt.spec->lat, rt.spec->lon) > rt.radius_km * 1.5 + d_km + 1) {
      continue;  // no source of this region is near enough (places lie within the region's disk)
    }
    for (int gi : world_.GroupsOfType(static_cast<int>(ri), spec.entity_type)) {
      const SourceGroup& sg = world_.sources()[static_cast<size_t>(gi)];
      const std::vector<LonLat>* places = nullptr;
      if (q.op == OpKind::kGeoQuery) {
        places = &PlacesOf(gi);
        if (places->empty() && sg.count > 0) {
          known = false;  // a moving kind: no fixed truth
          break;
        }
      }
      for (uint32_t i = 0; i < sg.count; ++i) {
        if (sg.reports[i] == 0) continue;
        if (places != nullptr) {
          const double km = sim::Network::GreatCircleKm(q.place.lat, q.place.lon, (*places)[i].lat, (*places)[i].lon);
          if (km <= d_km * (1 + 1e-3)) allowed.insert({gi, i});
          if (km <= d_km * (1 - 1e-3)) required.insert({gi, i});
        } else {
          required.insert({gi, i});
          allowed.insert({gi, i});
        }
      }
    }
  }
  if (q.op == OpKind::kQuery && !spec.q.empty()) known = false;
  if (!known) return m;
  m.count_truth = static_cast<int64_t>(required.size());
  // A page of a paged query holds what is left after the pages before it, up to the limit.
  const int64_t before = static_cast<int64_t>(q.page) * spec.limit;
  m.expected = static_cast<int>(std::clamp<int64_t>(static_cast<int64_t>(required.size()) - before, 0, spec.limit));
  tally([&](const Got& g) { return allowed.count({g.group, g.member}) > 0; });
  return m;
}

}  // namespace citybed::models
