#include "citybed/models/scenario.h"

#include "citybed/models/protocol.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "citybed/common/file.h"
#include "citybed/common/strings.h"
#include "citybed/common/units.h"
#include "citybed/common/url.h"
#include "citybed/models/generators.h"
#include "citybed/models/protocol.h"
#include "citybed/models/sources.h"
#include "scenario_reader.h"

namespace citybed::models {

using json = nlohmann::json;

using namespace detail;

namespace {


void ReadArrival(Reader& r, const json& obj, const std::string& ptr, ArrivalSpec& out) {
  if (!r.IsObject(obj, ptr)) return;
  r.Keys(obj, ptr, {"process", "period", "jitter", "rate", "profile", "burst"});
  const std::string process = r.Str(obj, ptr, "process").value_or("periodic");
  if (process == "periodic") {
    out.process = ArrivalSpec::Process::kPeriodic;
    if (auto p = r.Dur(obj, ptr, "period", true, true)) {
      out.period = *p;
      if (p->ns() < 1000000) r.Error(At(ptr, "period"), "must be at least 1ms (got " + p->ToString() + ")");
    }
    if (auto j = r.Dur(obj, ptr, "jitter", false, false)) {
      out.jitter = *j;
      if (*j > out.period) r.Error(At(ptr, "jitter"), "must not exceed the period (" + out.period.ToString() + ")");
    }
    if (obj.contains("rate")) r.Error(At(ptr, "rate"), "applies to the poisson process only");
  } else if (process == "poisson") {
    out.process = ArrivalSpec::Process::kPoisson;
    if (auto rate = r.Num(obj, ptr, "rate", true, 0, 1e7, true)) out.rate = *rate;
    if (obj.contains("period")) r.Error(At(ptr, "period"), "applies to the periodic process only (poisson uses rate)");
  } else {
    std::string message = "unknown process \"" + process + "\" (use periodic or poisson)";
    r.Error(At(ptr, "process"), message);
  }
  if (const json* b = r.Get(obj, ptr, "burst", false)) {
    const std::string bp = At(ptr, "burst");
    if (r.IsObject(*b, bp)) {
      r.Keys(*b, bp, {"every", "length", "offset", "factor"});
      if (auto e = r.Dur(*b, bp, "every", true, true)) out.burst.every = *e;
      if (auto l = r.Dur(*b, bp, "length", true, true)) {
        out.burst.length = *l;
        if (out.burst.every.ns() > 0 && *l > out.burst.every) r.Error(At(bp, "length"), "must not exceed every");
      }
      if (auto o = r.Dur(*b, bp, "offset", false, false)) out.burst.offset = *o;
      if (auto f = r.Num(*b, bp, "factor", true, 0, 1e6, true)) out.burst.factor = *f;
    }
  }
  if (auto profile = r.Str(obj, ptr, "profile")) {
    const auto names = ProfileNames();
    if (std::find(names.begin(), names.end(), *profile) == names.end()) {
      std::string message = "unknown profile \"" + *profile + "\" (known: " + Join(names, ", ") + ")";
      const std::string hint = ClosestMatch(*profile, names);
      if (!hint.empty()) message += "; did you mean \"" + hint + "\"?";
      r.Error(At(ptr, "profile"), message);
    } else {
      out.profile = *profile;
    }
  }
}

}  // namespace

namespace detail {

std::vector<std::string> ReadRegionRefs(Reader& r, const json& obj, const std::string& ptr,
                                        const std::set<std::string>& regions) {
  std::vector<std::string> out;
  const json* v = r.Get(obj, ptr, "regions", false);
  if (v == nullptr) return out;
  if (v->is_string() && v->get<std::string>() == "*") return out;
  if (!v->is_array()) {
    r.Error(At(ptr, "regions"), "must be \"*\" or an array of region ids");
    return out;
  }
  for (size_t i = 0; i < v->size(); ++i) {
    const json& e = (*v)[i];
    if (!e.is_string()) {
      r.Error(At(At(ptr, "regions"), i), "must be a region id");
      continue;
    }
    const std::string id = e.get<std::string>();
    if (!regions.count(id)) {
      std::string message = "unknown region \"" + id + "\"";
      const std::string hint = ClosestMatch(id, std::vector<std::string>(regions.begin(), regions.end()));
      if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
      r.Error(At(At(ptr, "regions"), i), message);
      continue;
    }
    out.push_back(id);
  }
  return out;
}

}  // namespace detail

namespace {

void ReadPopulationCount(Reader& r, const json& obj, const std::string& ptr, int64_t& count, double& per_10k) {
  const bool has_count = obj.contains("count"), has_density = obj.contains("per_10k");
  if (has_count == has_density) {
    r.Error(At(ptr, has_count ? "per_10k" : "count"), has_count ? "give count or per_10k, not both"
                                                                 : "is required (or per_10k: how many per 10,000 inhabitants)");
  }
  if (auto c = r.Int(obj, ptr, "count", false, 0, 100'000'000)) count = *c;
  if (auto d = r.Num(obj, ptr, "per_10k", false, 0, 1e6)) per_10k = *d;
}

AccessSpec ReadAccess(Reader& r, const json& obj, const std::string& ptr, const AccessSpec& base,
                      const std::set<std::string>& nodes) {
  AccessSpec a = base;
  if (!r.IsObject(obj, ptr)) return a;
  r.Keys(obj, ptr, {"node", "latency", "bandwidth", "loss"});
  if (auto n = r.Str(obj, ptr, "node")) {
    if (!nodes.count(*n)) {
      std::string message = "unknown node \"" + *n + "\"";
      const std::string hint = ClosestMatch(*n, std::vector<std::string>(nodes.begin(), nodes.end()));
      if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
      r.Error(At(ptr, "node"), message);
    } else {
      a.node = *n;
    }
  }
  if (auto l = r.Dur(obj, ptr, "latency", false, false)) a.latency = *l;
  if (auto b = r.Bandwidth(obj, ptr, "bandwidth")) a.bandwidth_bps = *b;
  if (auto l = r.Num(obj, ptr, "loss", false, 0, 0.999)) a.loss = *l;
  return a;
}

const std::vector<std::string> kOps = {"get", "query", "geo-query", "subscribe"};

// Whether any region speaks NGSI-v2 (its q must then be expressible in Orion's language).
bool AnyV2(const Scenario& s) {
  if (s.broker.api == BrokerApi::kNgsiV2) return true;
  return std::any_of(s.regions.begin(), s.regions.end(),
                     [](const RegionSpec& r) { return r.api == BrokerApi::kNgsiV2; });
}

std::optional<BrokerApi> ReadApi(Reader& r, const json& obj, const std::string& ptr) {
  auto a = r.Str(obj, ptr, "api");
  if (!a) return std::nullopt;
  if (*a == "ngsi-ld") return BrokerApi::kNgsiLd;
  if (*a == "ngsi-v2") return BrokerApi::kNgsiV2;
  r.Error(At(ptr, "api"), "must be \"ngsi-ld\" or \"ngsi-v2\" (got \"" + *a + "\")");
  return std::nullopt;
}

bool ReadRequest(Reader& r, const json& rj, const std::string& rp, const std::set<std::string>& types, bool v2,
                 RequestSpec& req) {
  if (!r.IsObject(rj, rp)) return false;
  r.Keys(rj, rp, {"op", "name", "weight", "type", "q", "max_distance", "limit", "pages", "count", "watched", "cross_region"});
  if (auto n = r.Str(rj, rp, "name")) {
    if (n->empty() || n->size() > 64) r.Error(At(rp, "name"), "must be 1 to 64 characters");
    else req.name = *n;
  }
  if (auto op = r.Str(rj, rp, "op", true)) {
    auto found = std::find(kOps.begin(), kOps.end(), *op);
    if (found == kOps.end()) {
      std::string message = "unknown op \"" + *op + "\" (use get, query, geo-query or subscribe)";
      const std::string hint = ClosestMatch(*op, kOps);
      if (!hint.empty()) message += "; did you mean \"" + hint + "\"?";
      r.Error(At(rp, "op"), message);
    } else {
      req.op = static_cast<RequestSpec::Op>(found - kOps.begin());
    }
  }
  if (auto w = r.Num(rj, rp, "weight", false, 0, 1e9, true)) req.weight = *w;
  if (auto t = r.Str(rj, rp, "type", true)) {
    req.entity_type = *t;
    if (!types.count(*t)) {
      std::string message = "no source of this scenario emits type \"" + *t + "\"";
      const std::string hint = ClosestMatch(*t, std::vector<std::string>(types.begin(), types.end()));
      if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
      r.Error(At(rp, "type"), message);
    }
  }
  if (auto q = r.Str(rj, rp, "q")) {
    req.q = *q;
    if (v2) {
      if (auto converted = V2Query(*q); !converted) {
        r.Error(At(rp, "q"), converted.error().message + " (a region of this scenario speaks ngsi-v2)");
      }
    }
  }
  if (auto d = r.Distance(rj, rp, "max_distance")) req.max_distance_m = *d;
  if (auto l = r.Int(rj, rp, "limit", false, 1, 1000)) req.limit = static_cast<int>(*l);
  if (auto pg = r.Int(rj, rp, "pages", false, 1, 1000)) req.pages = static_cast<int>(*pg);
  if (auto c = r.Bool(rj, rp, "count")) req.count = *c;
  if (const json* c = r.Get(rj, rp, "cross_region", false)) {
    if (c->is_boolean()) {
      req.cross_region = c->get<bool>();
    } else if (c->is_string() && c->get<std::string>() == "other") {
      req.cross_region = req.other_region = true;
    } else {
      r.Error(At(rp, "cross_region"), "must be true (a region drawn by the gravity model, possibly its own) or \"other\" "
                                      "(never its own)");
    }
  }
  if (const json* w = r.Get(rj, rp, "watched", false)) {
    if (!w->is_array()) {
      r.Error(At(rp, "watched"), "must be an array of attribute names");
    } else {
      for (const json& a : *w) {
        if (a.is_string()) req.watched.push_back(a.get<std::string>());
        else r.Error(At(rp, "watched"), "must be an array of attribute names");
      }
    }
  }
  return true;
}

void ReadRegionGenerator(Reader& r, const json& obj, Scenario& s, const std::string& label) {
  const std::string ptr = "/regions";
  r.Keys(obj, ptr, {"generate"});
  const json* g = r.Get(obj, ptr, "generate", true);
  if (g == nullptr) return;
  const std::string gp = At(ptr, "generate");
  if (!r.IsObject(*g, gp)) return;
  r.Keys(*g, gp, {"count", "population", "csv", "waves", "live_waves", "ngsi_v2_share"});
  RegionGenerator gen;
  if (auto c = r.Int(*g, gp, "count", false, 1, 10000)) gen.count = static_cast<int>(*c);
  if (const json* pop = r.Get(*g, gp, "population", false)) {
    const std::string pp = At(gp, "population");
    if (r.IsObject(*pop, pp)) {
      r.Keys(*pop, pp, {"median", "sigma", "min", "max"});
      if (auto m = r.Num(*pop, pp, "median", false, 1, 1e9)) gen.median_population = *m;
      if (auto sg = r.Num(*pop, pp, "sigma", false, 0, 5)) gen.sigma = *sg;
      if (auto mn = r.Num(*pop, pp, "min", false, 1, 1e9)) gen.min_population = *mn;
      if (auto mx = r.Num(*pop, pp, "max", false, 1, 1e9)) gen.max_population = *mx;
      if (gen.max_population < gen.min_population) r.Error(At(pp, "max"), "must be >= min");
    }
  }
  if (auto csv = r.Str(*g, gp, "csv")) gen.csv = *csv;
  if (const json* waves = r.Get(*g, gp, "waves", false)) {
    if (!waves->is_array()) {
      r.Error(At(gp, "waves"), "must be an array of wave sizes, e.g. [5, 20, 75]");
    } else {
      for (size_t i = 0; i < waves->size(); ++i) {
        if (!(*waves)[i].is_number_integer() || (*waves)[i].get<int64_t>() < 0) {
          r.Error(At(At(gp, "waves"), i), "must be a number of regions >= 0");
        } else {
          gen.waves.push_back(static_cast<int>((*waves)[i].get<int64_t>()));
        }
      }
    }
  }
  if (auto lw = r.Int(*g, gp, "live_waves", false, 0, 100)) gen.live_waves = static_cast<int>(*lw);
  const std::string base = std::filesystem::path(label).parent_path().string();
  auto regions = GenerateRegions(gen, s.seed, base.empty() ? "." : base);
  if (!regions) {
    r.Error(gen.csv.empty() ? gp : At(gp, "csv"), regions.error().message);
    return;
  }
  if (regions->empty()) r.Error(gp, "no region is live (check waves and live_waves)");
  // ngsi_v2_share: that fraction of the regions speaks NGSI-v2, spread evenly over the
  // generated order (largest first), the others NGSI-LD.
  if (auto share = r.Num(*g, gp, "ngsi_v2_share", false, 0, 1)) {
    for (size_t k = 0; k < regions->size(); ++k) {
      const bool v2 = std::floor(static_cast<double>(k + 1) * *share) > std::floor(static_cast<double>(k) * *share);
      (*regions)[k].api = v2 ? BrokerApi::kNgsiV2 : BrokerApi::kNgsiLd;
    }
  }
  s.regions = std::move(*regions);
  s.region_generator = gen;
}

}  // namespace

namespace detail {

std::optional<sim::Duration> ReadTimeOfDay(Reader& r, const json& obj, const std::string& ptr, const char* key,
                                           const Scenario& s) {
  const json* v = r.Get(obj, ptr, key, false);
  if (v == nullptr) return std::nullopt;
  if (v->is_string()) {
    const std::string text = v->get<std::string>();
    if (text.size() == 5 && text[2] == ':' && std::isdigit(static_cast<unsigned char>(text[0])) &&
        std::isdigit(static_cast<unsigned char>(text[1])) && std::isdigit(static_cast<unsigned char>(text[3])) &&
        std::isdigit(static_cast<unsigned char>(text[4]))) {
      const int hh = std::stoi(text.substr(0, 2)), mm = std::stoi(text.substr(3, 2));
      if (hh < 24 && mm < 60) {
        // The first such time of day at or after the start.
        const int64_t start_s = s.start_unix_us / 1000000;
        const double start_hour = std::fmod(static_cast<double>((start_s % 86400 + 86400) % 86400) / 3600.0 +
                                                s.utc_offset_hours + 24.0, 24.0);
        double hours = hh + mm / 60.0 - start_hour;
        if (hours < 0) hours += 24;
        return sim::Duration::Hours(hours);
      }
    }
  }
  return r.Dur(obj, ptr, key, false, false);
}

}  // namespace detail

namespace {

void ReadEvents(Reader& r, const json& doc, Scenario& s, const std::set<std::string>& types) {
  const auto& domains = DomainNames();
  r.EachObject(doc, "", "events", [&](const json& ej, const std::string& p) {
    r.Keys(ej, p, {"kind", "at", "regions", "largest", "ramp", "duration", "decay", "intensity", "rate_factors", "crowd", "description"});
    EventSpec e;
    if (auto kind = r.Str(ej, p, "kind", true)) {
      if (*kind != "heavy-rain" && *kind != "earthquake") {
        r.Error(At(p, "kind"), "unknown event kind \"" + *kind + "\" (use heavy-rain or earthquake)");
      }
      e.kind = *kind;
    }
    if (e.kind == "heavy-rain") {
      e.ramp = sim::Duration::Minutes(20);
      e.duration = sim::Duration::Hours(1);
      e.decay = sim::Duration::Minutes(40);
      e.rate_factors = {{"disaster", 10}, {"environment", 3}, {"mobility", 1.5}};
    } else if (e.kind == "earthquake") {
      e.decay = sim::Duration::Minutes(45);
      e.rate_factors = {{"disaster", 30}, {"safety", 6}, {"health", 4}, {"mobility", 2}, {"utilities", 2}};
    }
    if (!ej.contains("at")) r.Error(At(p, "at"), "is required: an offset (\"4h30m\") or a local time of day (\"14:00\")");
    if (auto at = ReadTimeOfDay(r, ej, p, "at", s)) e.at = *at;
    if (auto v = r.Dur(ej, p, "ramp", false, false)) e.ramp = *v;
    if (auto v = r.Dur(ej, p, "duration", false, false)) e.duration = *v;
    if (auto v = r.Dur(ej, p, "decay", false, true)) e.decay = *v;
    if (auto v = r.Num(ej, p, "intensity", false, 0, 1)) e.intensity = *v;
    const std::vector<std::string> all_regions = [&] {
      std::vector<std::string> ids;
      for (const RegionSpec& reg : s.regions) ids.push_back(reg.id);
      return ids;
    }();
    e.regions = ReadRegionRefs(r, ej, p, std::set<std::string>(all_regions.begin(), all_regions.end()));
    if (auto n = r.Int(ej, p, "largest", false, 1, 10000)) {
      if (ej.contains("regions")) r.Error(At(p, "largest"), "give regions or largest, not both");
      std::vector<const RegionSpec*> sorted;
      for (const RegionSpec& reg : s.regions) sorted.push_back(&reg);
      std::stable_sort(sorted.begin(), sorted.end(), [](auto a, auto b) { return a->population > b->population; });
      for (int64_t k = 0; k < *n && k < static_cast<int64_t>(sorted.size()); ++k) e.regions.push_back(sorted[static_cast<size_t>(k)]->id);
    }
    if (e.regions.empty()) e.regions = all_regions;
    if (const json* f = r.Get(ej, p, "rate_factors", false)) {
      const std::string fp = At(p, "rate_factors");
      if (r.IsObject(*f, fp)) {
        for (auto d = f->begin(); d != f->end(); ++d) {
          if (std::find(domains.begin(), domains.end(), d.key()) == domains.end()) {
            std::string message = "unknown domain \"" + d.key() + "\" (" + Join(domains, ", ") + ")";
            const std::string hint = ClosestMatch(d.key(), domains);
            if (!hint.empty()) message += "; did you mean \"" + hint + "\"?";
            r.Error(At(fp, d.key()), message);
            continue;
          }
          if (auto v = r.Num(*f, fp, d.key().c_str(), false, 0, 1e6, true)) e.rate_factors[d.key()] = *v;
        }
      }
    }
    if (const json* c = r.Get(ej, p, "crowd", false)) {
      const std::string cp = At(p, "crowd");
      if (r.IsObject(*c, cp)) {
        r.Keys(*c, cp, {"per_10k", "ramp", "decay", "rate", "requests"});
        e.crowd.per_10k = r.Num(*c, cp, "per_10k", true, 0, 1e5).value_or(0);
        if (auto v = r.Dur(*c, cp, "ramp", false, false)) e.crowd.ramp = *v;
        if (auto v = r.Dur(*c, cp, "decay", false, true)) {
          e.crowd.decay = *v;
          if (v->ns() < 1000000000) r.Error(At(cp, "decay"), "must be at least 1s (got " + v->ToString() + ")");
        }
        if (auto v = r.Num(*c, cp, "rate", false, 0, 100, true)) e.crowd.rate = *v;
        const json* reqs = r.Get(*c, cp, "requests", true);
        if (reqs != nullptr && (!reqs->is_array() || reqs->empty())) {
          r.Error(At(cp, "requests"), "must be a non-empty array");
        } else if (reqs != nullptr) {
          for (size_t k = 0; k < reqs->size(); ++k) {
            RequestSpec req;
            if (ReadRequest(r, (*reqs)[k], At(At(cp, "requests"), k), types, AnyV2(s), req)) e.crowd.requests.push_back(std::move(req));
          }
        }
      }
    }
    s.events.push_back(std::move(e));
  });
}

void ReadBackbone(Reader& r, const json& g, const std::string& gp, Scenario& s) {
  if (!r.IsObject(g, gp)) return;
  r.Keys(g, gp, {"hubs", "broker_hub", "core", "core_bandwidth", "region_bandwidth", "loss"});
  BackboneGenerator b;
  b.hubs = {"sapporo", "sendai", "tokyo", "nagoya", "osaka", "hiroshima", "fukuoka", "naha"};
  std::vector<std::string> city_ids;
  for (const City& c : JapaneseCities()) city_ids.emplace_back(c.id);
  auto check_city = [&](const std::string& id, const std::string& ptr) {
    if (std::find(city_ids.begin(), city_ids.end(), id) != city_ids.end()) return true;
    std::string message = "unknown city \"" + id + "\"";
    const std::string hint = ClosestMatch(id, city_ids);
    if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
    r.Error(ptr, message);
    return false;
  };
  if (const json* hubs = r.Get(g, gp, "hubs", false)) {
    b.hubs.clear();
    if (!hubs->is_array() || hubs->empty()) {
      r.Error(At(gp, "hubs"), "must be a non-empty array of city ids");
    } else {
      for (size_t i = 0; i < hubs->size(); ++i) {
        const json& h = (*hubs)[i];
        if (h.is_string() && check_city(h.get<std::string>(), At(At(gp, "hubs"), i))) b.hubs.push_back(h.get<std::string>());
      }
    }
  }
  if (auto bh = r.Str(g, gp, "broker_hub")) {
    b.broker_hub = *bh;
    if (std::find(b.hubs.begin(), b.hubs.end(), *bh) == b.hubs.end()) r.Error(At(gp, "broker_hub"), "must be one of the hubs");
  }
  if (auto core = r.Str(g, gp, "core")) {
    if (*core != "mesh" && *core != "ring") r.Error(At(gp, "core"), "must be \"mesh\" or \"ring\"");
    b.core = *core;
  }
  if (auto v = r.Bandwidth(g, gp, "core_bandwidth")) b.core_bandwidth_bps = *v;
  if (auto v = r.Bandwidth(g, gp, "region_bandwidth")) b.region_bandwidth_bps = *v;
  if (auto v = r.Num(g, gp, "loss", false, 0, 0.999)) b.loss = *v;
  s.backbone = b;
}

void ReadNetwork(Reader& r, const json& doc, Scenario& s) {
  const std::string ptr = "/network";
  NetworkSpec& n = s.network;
  n.default_access.latency = sim::Duration::Milliseconds(2);
  n.default_access.bandwidth_bps = 1e9;
  auto it = doc.find("network");
  if (it == doc.end()) return;  // the default network: see World
  const json& obj = *it;
  if (!r.IsObject(obj, ptr)) return;
  r.Keys(obj, ptr, {"nodes", "links", "broker_node", "access", "rto", "max_retries", "generate"});
  std::set<std::string> node_ids;
  if (const json* g = r.Get(obj, ptr, "generate", false)) {
    if (obj.contains("nodes") || obj.contains("links") || obj.contains("broker_node")) {
      r.Error(At(ptr, "generate"), "a generated network has no nodes, links or broker_node of its own");
    }
    ReadBackbone(r, *g, At(ptr, "generate"), s);
    if (const json* access = r.Get(obj, ptr, "access", false)) {
      const std::string p = At(ptr, "access");
      if (r.IsObject(*access, p)) {
        r.Keys(*access, p, {"default"});
        if (const json* d = r.Get(*access, p, "default", false)) n.default_access = ReadAccess(r, *d, At(p, "default"), n.default_access, {});
      }
    }
    if (auto rto = r.Dur(obj, ptr, "rto", false, true)) n.retransmit.rto = *rto;
    if (auto m = r.Int(obj, ptr, "max_retries", false, 0, 20)) n.retransmit.max_retries = static_cast<int>(*m);
    return;
  }
  r.EachObject(obj, ptr, "nodes", [&](const json& nj, const std::string& p) {
    r.Keys(nj, p, {"id", "lat", "lon", "kind", "name"});
    NodeSpec node;
    if (auto id = r.Str(nj, p, "id", true)) {
      if (!ValidId(*id)) r.Error(At(p, "id"), "must be 1-64 letters, digits, - _ or .");
      if (!node_ids.insert(*id).second) r.Error(At(p, "id"), "duplicate node id \"" + *id + "\"");
      node.id = *id;
    }
    node.lat = r.Num(nj, p, "lat", false, -90, 90);
    node.lon = r.Num(nj, p, "lon", false, -180, 180);
    r.Str(nj, p, "kind");
    r.Str(nj, p, "name");
    n.nodes.push_back(node);
  });
  auto node_ref = [&](const json& o, const std::string& p, const char* key, std::string& out) {
    if (auto id = r.Str(o, p, key, true)) {
      if (!node_ids.count(*id)) {
        std::string message = "unknown node \"" + *id + "\"";
        const std::string hint = ClosestMatch(*id, std::vector<std::string>(node_ids.begin(), node_ids.end()));
        if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
        r.Error(At(p, key), message);
      } else {
        out = *id;
      }
    }
  };
  r.EachObject(obj, ptr, "links", [&](const json& lj, const std::string& p) {
    r.Keys(lj, p, {"from", "to", "latency", "bandwidth", "loss"});
    LinkSpec link;
    node_ref(lj, p, "from", link.from);
    node_ref(lj, p, "to", link.to);
    link.latency = r.Dur(lj, p, "latency", false, false);
    if (auto b = r.Bandwidth(lj, p, "bandwidth")) link.bandwidth_bps = *b;
    if (auto l = r.Num(lj, p, "loss", false, 0, 0.999)) link.loss = *l;
    if (!link.latency && !link.from.empty() && !link.to.empty()) {
      for (const NodeSpec& nd : n.nodes) {
        if ((nd.id == link.from || nd.id == link.to) && (!nd.lat || !nd.lon)) {
          r.Error(At(p, "latency"), "is required: node \"" + nd.id + "\" has no coordinates to derive it from");
          break;
        }
      }
    }
    n.links.push_back(link);
  });
  node_ref(obj, ptr, "broker_node", n.broker_node);
  if (const json* access = r.Get(obj, ptr, "access", false)) {
    const std::string p = At(ptr, "access");
    if (r.IsObject(*access, p)) {
      r.Keys(*access, p, {"default", "regions"});
      if (const json* d = r.Get(*access, p, "default", false)) n.default_access = ReadAccess(r, *d, At(p, "default"), n.default_access, node_ids);
      if (const json* regions = r.Get(*access, p, "regions", false)) {
        const std::string rp = At(p, "regions");
        if (r.IsObject(*regions, rp)) {
          for (auto e = regions->begin(); e != regions->end(); ++e) {
            if (s.RegionIndex(e.key()) < 0) {
              r.Error(At(rp, e.key()), "unknown region \"" + e.key() + "\"");
              continue;
            }
            n.access[e.key()] = ReadAccess(r, e.value(), At(rp, e.key()), n.default_access, node_ids);
          }
        }
      }
    }
  }
  if (auto rto = r.Dur(obj, ptr, "rto", false, true)) n.retransmit.rto = *rto;
  if (auto m = r.Int(obj, ptr, "max_retries", false, 0, 20)) n.retransmit.max_retries = static_cast<int>(*m);
  // Every region needs a gateway node.
  for (const RegionSpec& region : s.regions) {
    const std::string node = n.access.count(region.id) ? n.access[region.id].node : n.default_access.node;
    if (node.empty()) {
      r.Error(At(ptr, "access"), "region \"" + region.id + "\" has no gateway node (set access.regions." + region.id +
                                     ".node or access.default.node)");
    }
  }
}

void ReadUsers(Reader& r, const json& doc, Scenario& s, const std::set<std::string>& region_ids,
               const std::set<std::string>& types) {
  r.EachObject(doc, "", "users", [&](const json& uj, const std::string& p) {
    r.Keys(uj, p, {"kind", "regions", "count", "per_10k", "arrival", "requests", "description"});
    UserSpec u;
    u.kind = r.Str(uj, p, "kind", true).value_or("");
    u.regions = ReadRegionRefs(r, uj, p, region_ids);
    ReadPopulationCount(r, uj, p, u.count, u.per_10k);
    if (const json* a = r.Get(uj, p, "arrival", true)) ReadArrival(r, *a, At(p, "arrival"), u.arrival);
    const json* reqs = r.Get(uj, p, "requests", true);
    if (reqs != nullptr && (!reqs->is_array() || reqs->empty())) {
      r.Error(At(p, "requests"), "must be a non-empty array");
    } else if (reqs != nullptr) {
      for (size_t k = 0; k < reqs->size(); ++k) {
        RequestSpec req;
        if (ReadRequest(r, (*reqs)[k], At(At(p, "requests"), k), types, AnyV2(s), req)) u.requests.push_back(std::move(req));
      }
    }
    s.users.push_back(std::move(u));
  });
}

void ReadSlo(Reader& r, const json& doc, Scenario& s) {
  auto it = doc.find("slo");
  if (it == doc.end()) return;
  const std::string ptr = "/slo";
  if (!r.IsObject(*it, ptr)) return;
  r.Keys(*it, ptr, {"latency", "error_rate"});
  if (auto e = r.Num(*it, ptr, "error_rate", false, 0, 1)) s.slo.error_rate = *e;
  const json* lat = r.Get(*it, ptr, "latency", false);
  if (lat == nullptr) return;
  const std::string lp = At(ptr, "latency");
  if (!r.IsObject(*lat, lp)) return;
  std::vector<std::string> names = {"all", "upsert", "get", "query", "geo-query", "subscribe", "notification"};
  // Named requests can have objectives of their own.
  auto add_names = [&names](const std::vector<RequestSpec>& requests) {
    for (const RequestSpec& q : requests) {
      if (!q.name.empty() && std::find(names.begin(), names.end(), q.name) == names.end()) names.push_back(q.name);
    }
  };
  for (const UserSpec& u : s.users) add_names(u.requests);
  for (const EventSpec& e : s.events) add_names(e.crowd.requests);
  for (auto op = lat->begin(); op != lat->end(); ++op) {
    const std::string op_ptr = At(lp, op.key());
    if (std::find(names.begin(), names.end(), op.key()) == names.end()) {
      std::string message = "unknown operation \"" + op.key() + "\"";
      const std::string hint = ClosestMatch(op.key(), names);
      if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
      r.Error(op_ptr, message);
      continue;
    }
    if (!r.IsObject(op.value(), op_ptr)) continue;
    for (auto pct = op.value().begin(); pct != op.value().end(); ++pct) {
      const std::string pp = At(op_ptr, pct.key());
      double p = 0;
      const std::string key = pct.key();
      bool ok = key.size() > 1 && key[0] == 'p';
      if (ok) {
        std::string digits = key.substr(1);
        // p50, p99, p999 (= 99.9), p99.9
        if (digits.find('.') == std::string::npos && digits.size() > 2) digits = digits.substr(0, 2) + "." + digits.substr(2);
        char* end = nullptr;
        p = std::strtod(digits.c_str(), &end);
        ok = end == digits.c_str() + digits.size() && p > 0 && p <= 100;
      }
      if (!ok) {
        r.Error(pp, "must be a percentile like p50, p99 or p999");
        continue;
      }
      if (!pct.value().is_string()) {
        r.Error(pp, "must be a duration like \"20ms\"");
        continue;
      }
      auto d = sim::Duration::Parse(pct.value().get<std::string>());
      if (!d) {
        r.Error(pp, d.error().message);
        continue;
      }
      s.slo.latency.push_back({op.key(), p, *d});
    }
  }
}

}  // namespace

double EventSpec::IntensityAt(int64_t t_ns) const {
  const double elapsed = static_cast<double>(t_ns - at.ns()) * 1e-9;
  if (elapsed < 0) return 0;
  const double ramp_s = ramp.seconds(), hold_s = duration.seconds();
  double level = ramp_s > 0 && elapsed < ramp_s ? elapsed / ramp_s : 1.0;
  if (elapsed > ramp_s + hold_s) level = std::exp(-(elapsed - ramp_s - hold_s) / decay.seconds());
  return intensity * level;
}

int Scenario::RegionIndex(const std::string& id) const {
  for (size_t i = 0; i < regions.size(); ++i) {
    if (regions[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

std::string_view ApiName(BrokerApi api) { return api == BrokerApi::kNgsiV2 ? "ngsi-v2" : "ngsi-ld"; }
std::string_view PlacementName(Placement p) { return p == Placement::kBalanced ? "balanced" : "round-robin"; }

std::string_view OpName(RequestSpec::Op op) {
  switch (op) {
    case RequestSpec::Op::kGet: return "get";
    case RequestSpec::Op::kQuery: return "query";
    case RequestSpec::Op::kGeoQuery: return "geo-query";
    case RequestSpec::Op::kSubscribe: return "subscribe";
    default: return "?";
  }
}

Expected<Scenario, std::vector<ScenarioError>> ParseScenario(const std::string& text, const std::string& label) {
  Scenario s;
  s.text = text;
  s.path = label;
  json doc;
  // Nesting is bounded before anything walks the document (copies and comparisons recurse).
  constexpr int kMaxDepth = 64;
  bool too_deep = false;
  try {
    doc = json::parse(text, [&](int depth, json::parse_event_t, json&) {
      if (depth > kMaxDepth) {
        too_deep = true;
        throw std::length_error("nesting");
      }
      return true;
    });
  } catch (const json::parse_error& e) {
    return Unexpected(std::vector<ScenarioError>{{"", std::string("not valid JSON: ") + e.what()}});
  } catch (const std::length_error&) {
    if (!too_deep) throw;
    return Unexpected(std::vector<ScenarioError>{
        {"", "the document is nested deeper than " + std::to_string(kMaxDepth) + " levels"}});
  }
  Reader r;
  if (!doc.is_object()) return Unexpected(std::vector<ScenarioError>{{"", "a scenario must be a JSON object"}});
  s.json = doc;
  r.Keys(doc, "", {"name", "description", "seed", "duration", "warmup", "speed", "start", "broker", "federation",
                   "regions", "network", "sources", "users", "events", "faults", "slo", "outputs", "generator"});
  if (auto name = r.Str(doc, "", "name", true)) {
    if (!ValidId(*name)) r.Error("/name", "must be 1-64 letters, digits, - _ or . (it names the result folder)");
    s.name = *name;
  }
  s.description = r.Str(doc, "", "description").value_or("");
  if (auto seed = r.Int(doc, "", "seed", false, 0, INT64_MAX)) s.seed = static_cast<uint64_t>(*seed);
  if (auto d = r.Dur(doc, "", "duration", true, true)) s.duration = *d;
  if (auto w = r.Dur(doc, "", "warmup", false, false)) {
    s.warmup = *w;
    if (*w >= s.duration) r.Error("/warmup", "must be shorter than the duration (" + s.duration.ToString() + ")");
  }
  if (auto speed = r.Num(doc, "", "speed", false, 0, 1e6, true)) s.speed = *speed;
  const std::string start = r.Str(doc, "", "start").value_or("2026-04-01T09:00:00+09:00");
  if (auto t = ParseRfc3339Micros(start)) {
    s.start_unix_us = *t;
    const size_t sign = start.find_last_of("+-");
    if (sign != std::string::npos && sign > 18 && start.size() == sign + 6) {
      s.utc_offset_hours = (start[sign] == '+' ? 1 : -1) *
                           (std::stoi(start.substr(sign + 1, 2)) + std::stoi(start.substr(sign + 4, 2)) / 60.0);
    }
  } else {
    r.Error("/start", t.error().message);
  }

  // Broker.
  if (const json* b = r.Get(doc, "", "broker", false)) {
    if (r.IsObject(*b, "/broker")) {
      r.Keys(*b, "/broker", {"url", "urls", "instances", "placement", "tenancy", "tenant", "connections", "timeout", "threads",
                             "api", "v2_writes", "token_env"});
      if (auto api = ReadApi(r, *b, "/broker")) s.broker.api = *api;
      if (auto w = r.Str(*b, "/broker", "v2_writes")) {
        if (*w == "op-update") s.broker.v2_writes = V2Writes::kOpUpdate;
        else if (*w == "entities") s.broker.v2_writes = V2Writes::kEntities;
        else r.Error("/broker/v2_writes", "must be \"op-update\" (POST /v2/op/update) or \"entities\" (POST /v2/entities?options=upsert)");
      }
      if (auto url = r.Str(*b, "/broker", "url")) {
        if (*url != "embedded" && !StartsWith(*url, "http://")) {
          r.Error("/broker/url", "must be \"embedded\" or an http:// URL (got \"" + *url + "\")");
        }
        s.broker.url = *url;
      }
      // Instances: embedded ones, or a list of brokers citybed does not start.
      const json* urls = r.Get(*b, "/broker", "urls", false);
      if (urls != nullptr) {
        if (!urls->is_array() || urls->empty()) {
          r.Error("/broker/urls", "must be a non-empty array of http:// URLs, one per broker instance");
        } else {
          for (size_t i = 0; i < urls->size(); ++i) {
            const json& u = (*urls)[i];
            if (!u.is_string() || !StartsWith(u.get<std::string>(), "http://") || !ParseHttpUrl(u.get<std::string>())) {
              r.Error("/broker/urls/" + std::to_string(i), "must be an http:// URL");
              continue;
            }
            s.broker.urls.push_back(u.get<std::string>());
          }
          if (b->contains("url")) r.Error("/broker/url", "give either url (one broker) or urls (one per instance), not both");
        }
      }
      if (auto k = r.Int(*b, "/broker", "instances", false, 1, 256)) {
        s.broker.instances = static_cast<int>(*k);
        if (urls != nullptr && urls->is_array() && static_cast<int64_t>(urls->size()) != *k) {
          r.Error("/broker/instances", "is " + std::to_string(*k) + " but urls lists " + std::to_string(urls->size()) +
                                           " brokers (leave it out: urls gives the number)");
        }
      } else if (!s.broker.urls.empty()) {
        s.broker.instances = static_cast<int>(s.broker.urls.size());
      }
      if (s.broker.instances > 1 && s.broker.url != "embedded" && s.broker.urls.empty()) {
        r.Error("/broker/instances", "more than one instance needs the embedded broker or a list of urls, not one url");
      }
      if (auto pl = r.Str(*b, "/broker", "placement")) {
        if (*pl == "round-robin") s.broker.placement = Placement::kRoundRobin;
        else if (*pl == "balanced") s.broker.placement = Placement::kBalanced;
        else r.Error("/broker/placement", "must be \"round-robin\" (by region index) or \"balanced\" (groups of about equal demand)");
      }
      if (auto t = r.Str(*b, "/broker", "tenancy")) {
        if (*t != "single" && *t != "per-region") r.Error("/broker/tenancy", "must be \"single\" or \"per-region\"");
        s.broker.tenancy = *t;
      }
      if (auto t = r.Str(*b, "/broker", "tenant")) s.broker.tenant = *t;
      if (auto c = r.Int(*b, "/broker", "connections", false, 1, 4096)) s.broker.connections = static_cast<int>(*c);
      if (auto t = r.Dur(*b, "/broker", "timeout", false, true)) s.broker.timeout = *t;
      if (auto t = r.Int(*b, "/broker", "threads", false, 1, 64)) s.broker.threads = static_cast<int>(*t);
      // The access key is not written in the scenario (it is recorded in every manifest): the
      // scenario names the environment variable that holds it.
      if (auto e = r.Str(*b, "/broker", "token_env")) {
        const bool name = !e->empty() && !std::isdigit(static_cast<unsigned char>((*e)[0])) &&
                          std::all_of(e->begin(), e->end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
        if (!name) r.Error("/broker/token_env", "must name an environment variable (letters, digits, _), not hold the key");
        s.broker.token_env = *e;
      }
    }
  }

  // Regions: listed, or generated.
  std::set<std::string> region_ids;
  const json* regions = r.Get(doc, "", "regions", true);
  if (regions != nullptr && regions->is_object()) {
    ReadRegionGenerator(r, *regions, s, label);
    for (const RegionSpec& region : s.regions) region_ids.insert(region.id);
  } else if (regions != nullptr && (!regions->is_array() || regions->empty())) {
    r.Error("/regions", "must be a non-empty array of regions, or {\"generate\": {...}}");
  } else if (regions != nullptr) {
    for (size_t i = 0; i < regions->size(); ++i) {
      const std::string p = At(std::string("/regions"), i);
      const json& rj = (*regions)[i];
      if (!r.IsObject(rj, p)) continue;
      r.Keys(rj, p, {"id", "name", "lat", "lon", "population", "radius_km", "stage", "api"});
      RegionSpec region;
      if (auto id = r.Str(rj, p, "id", true)) {
        if (!ValidId(*id)) r.Error(At(p, "id"), "must be 1-64 letters, digits, - _ or .");
        if (!region_ids.insert(*id).second) r.Error(At(p, "id"), "duplicate region id \"" + *id + "\"");
        region.id = *id;
      }
      region.name = r.Str(rj, p, "name").value_or(region.id);
      region.lat = r.Num(rj, p, "lat", true, -90, 90).value_or(0);
      region.lon = r.Num(rj, p, "lon", true, -180, 180).value_or(0);
      region.population = r.Num(rj, p, "population", true, 0, 1e9, true).value_or(1);
      region.radius_km = r.Num(rj, p, "radius_km", false, 0, 1000).value_or(0);
      region.stage = static_cast<int>(r.Int(rj, p, "stage", false, 0, 100).value_or(0));
      region.api = ReadApi(r, rj, p);
      s.regions.push_back(region);
    }
  }
  ReadNetwork(r, doc, s);
  ReadFederation(r, doc, s);
  if (s.federation && s.broker.instances > 1) {
    r.Error("/broker/instances", "a federation has a broker per region or block; instances spread the regions of one broker");
  }
  if (s.federation && !s.broker.urls.empty()) {
    r.Error("/broker/urls", "a federation has a broker per region or block (federation.external names the ones citybed does not start)");
  }

  // Sources.
  std::set<std::string> types;
  const auto kinds = SourceKindNames();
  r.EachObject(doc, "", "sources", [&](const json& sj, const std::string& p) {
    r.Keys(sj, p, {"kind", "regions", "count", "per_10k", "arrival", "description"});
    SourceSpec src;
    if (auto kind = r.Str(sj, p, "kind", true)) {
      const SourceModel* model = FindSourceModel(*kind);
      if (model == nullptr) {
        std::string message = "unknown source kind \"" + *kind + "\"";
        const std::string hint = ClosestMatch(*kind, kinds);
        if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
        message += "; `citybed sources` lists them";
        r.Error(At(p, "kind"), message);
      } else {
        types.insert(std::string(model->entity_type()));
      }
      src.kind = *kind;
    }
    src.regions = ReadRegionRefs(r, sj, p, region_ids);
    ReadPopulationCount(r, sj, p, src.count, src.per_10k);
    if (const json* a = r.Get(sj, p, "arrival", true)) ReadArrival(r, *a, At(p, "arrival"), src.arrival);
    s.sources.push_back(std::move(src));
  });
  ReadUsers(r, doc, s, region_ids, types);
  ReadEvents(r, doc, s, types);
  ReadFaults(r, doc, s);
  ReadSlo(r, doc, s);

  if (const json* o = r.Get(doc, "", "outputs", false)) {
    if (r.IsObject(*o, "/outputs")) {
      r.Keys(*o, "/outputs", {"dir", "interval", "report"});
      if (auto d = r.Str(*o, "/outputs", "dir")) s.outputs.dir = *d;
      if (auto i = r.Dur(*o, "/outputs", "interval", false, true)) {
        s.outputs.interval = *i;
        if (i->ns() < 1000000) r.Error("/outputs/interval", "must be at least 1ms (got " + i->ToString() + ")");
      }
      if (auto rep = r.Bool(*o, "/outputs", "report")) s.outputs.report = *rep;
    }
  }
  if (const json* g = r.Get(doc, "", "generator", false)) {
    if (r.IsObject(*g, "/generator")) {
      r.Keys(*g, "/generator", {"lag_bound", "lag_percentile"});
      if (auto b = r.Dur(*g, "/generator", "lag_bound", false, true)) s.generator.lag_bound = *b;
      if (auto p = r.Num(*g, "/generator", "lag_percentile", false, 0, 100, true)) s.generator.lag_percentile = *p;
    }
  }
  // Time-series rows must not straddle the warm-up's end: the summary's window then equals a
  // whole number of rows, and the CSV's sums equal the summary's counts.
  if (s.outputs.interval.ns() > 0 && s.warmup.ns() % s.outputs.interval.ns() != 0) {
    r.Error(doc.contains("outputs") && doc["outputs"].is_object() && doc["outputs"].contains("interval") ? "/outputs/interval" : "/warmup",
            "the warm-up (" + s.warmup.ToString() + ") must be a whole number of output intervals (" +
                s.outputs.interval.ToString() + ")");
  }
  if (!r.errors.empty()) return Unexpected(std::move(r.errors));
  return s;
}

Expected<Scenario, std::vector<ScenarioError>> LoadScenario(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return Unexpected(std::vector<ScenarioError>{{"", text.error().message}});
  return ParseScenario(*text, path);
}

std::string FormatErrors(const std::string& file, const std::vector<ScenarioError>& errors) {
  std::string out;
  for (const ScenarioError& e : errors) out += file + "#" + e.pointer + ": " + e.message + "\n";
  return out;
}

}  // namespace citybed::models
