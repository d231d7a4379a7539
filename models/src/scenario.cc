#include "citybed/models/scenario.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <set>

#include "citybed/common/file.h"
#include "citybed/common/strings.h"
#include "citybed/common/units.h"
#include "citybed/models/sources.h"

namespace citybed::models {

using json = nlohmann::json;

namespace {

std::string Escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

std::string At(const std::string& ptr, std::string_view key) { return ptr + "/" + Escape(key); }
std::string At(const std::string& ptr, size_t index) { return ptr + "/" + std::to_string(index); }

std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a number";
  }
}

std::string Short(const json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

bool ValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// Collects errors while reading a JSON document; every getter reports where it looked.
class Reader {
 public:
  std::vector<ScenarioError> errors;

  void Error(const std::string& ptr, std::string message) { errors.push_back({ptr, std::move(message)}); }

  bool IsObject(const json& v, const std::string& ptr) {
    if (v.is_object()) return true;
    Error(ptr, "must be an object (got " + TypeName(v) + ")");
    return false;
  }

  void Keys(const json& obj, const std::string& ptr, const std::vector<std::string>& allowed) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
      if (!it.key().empty() && it.key()[0] == '$') continue;  // "$comment", "$schema"
      std::string message = "unknown key \"" + it.key() + "\"";
      const std::string hint = ClosestMatch(it.key(), allowed);
      if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
      Error(At(ptr, it.key()), message);
    }
  }

  const json* Get(const json& obj, const std::string& ptr, const char* key, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) Error(At(ptr, key), "is required");
      return nullptr;
    }
    return &*it;
  }

  std::optional<std::string> Str(const json& obj, const std::string& ptr, const char* key, bool required = false) {
    const json* v = Get(obj, ptr, key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      Error(At(ptr, key), "must be a string (got " + TypeName(*v) + ")");
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  std::optional<double> Num(const json& obj, const std::string& ptr, const char* key, bool required, double min,
                            double max, bool min_exclusive = false) {
    const json* v = Get(obj, ptr, key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) {
      Error(At(ptr, key), "must be a number (got " + TypeName(*v) + ")");
      return std::nullopt;
    }
    const double x = v->get<double>();
    if (!std::isfinite(x) || (min_exclusive ? x <= min : x < min) || x > max) {
      std::string range = (min_exclusive ? "must be > " : "must be >= ") + Number(min);
      if (max < 1e300) range += " and <= " + Number(max);
      Error(At(ptr, key), range + " (got " + Short(*v) + ")");
      return std::nullopt;
    }
    return x;
  }

  std::optional<int64_t> Int(const json& obj, const std::string& ptr, const char* key, bool required, int64_t min,
                             int64_t max) {
    const json* v = Get(obj, ptr, key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer()) {
      Error(At(ptr, key), "must be an integer (got " + (v->is_number() ? Short(*v) : TypeName(*v)) + ")");
      return std::nullopt;
    }
    const int64_t x = v->get<int64_t>();
    if (x < min || x > max) {
      Error(At(ptr, key), "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " +
                              std::to_string(x) + ")");
      return std::nullopt;
    }
    return x;
  }

  std::optional<bool> Bool(const json& obj, const std::string& ptr, const char* key) {
    const json* v = Get(obj, ptr, key, false);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
      Error(At(ptr, key), "must be true or false (got " + TypeName(*v) + ")");
      return std::nullopt;
    }
    return v->get<bool>();
  }

  std::optional<sim::Duration> Dur(const json& obj, const std::string& ptr, const char* key, bool required,
                                   bool positive) {
    const json* v = Get(obj, ptr, key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      Error(At(ptr, key), "must be a duration like \"250ms\", \"5s\" or \"15m\" (got " + TypeName(*v) + ")");
      return std::nullopt;
    }
    auto d = sim::Duration::Parse(v->get<std::string>());
    if (!d) {
      Error(At(ptr, key), d.error().message);
      return std::nullopt;
    }
    if (positive && d->ns() <= 0) {
      Error(At(ptr, key), "must be longer than 0");
      return std::nullopt;
    }
    return *d;
  }

  // "100Mbps", "10 Gbps", "1e9" (bits per second), or a number.
  std::optional<double> Bandwidth(const json& obj, const std::string& ptr, const char* key) {
    const json* v = Get(obj, ptr, key, false);
    if (v == nullptr) return std::nullopt;
    if (v->is_number()) {
      if (v->get<double>() > 0) return v->get<double>();
      Error(At(ptr, key), "must be > 0 bits per second");
      return std::nullopt;
    }
    if (!v->is_string()) {
      Error(At(ptr, key), "must be a bandwidth like \"100Mbps\" or \"10Gbps\" (got " + TypeName(*v) + ")");
      return std::nullopt;
    }
    const std::string s = v->get<std::string>();
    size_t pos = 0;
    double number = 0;
    try {
      number = std::stod(s, &pos);
    } catch (...) {
      pos = 0;
    }
    std::string unit(Trim(std::string_view(s).substr(pos)));
    static const std::map<std::string, double> kUnits = {{"", 1},        {"bps", 1},      {"kbps", 1e3},
                                                         {"Kbps", 1e3},  {"Mbps", 1e6},   {"Gbps", 1e9},
                                                         {"Tbps", 1e12}, {"kbit/s", 1e3}, {"Mbit/s", 1e6},
                                                         {"Gbit/s", 1e9}};
    auto u = kUnits.find(unit);
    if (pos == 0 || u == kUnits.end() || !(number > 0)) {
      Error(At(ptr, key), "\"" + s + "\" is not a bandwidth (use e.g. \"100Mbps\" or \"10Gbps\")");
      return std::nullopt;
    }
    return number * u->second;
  }

  // "1km", "500m", or a number of metres.
  std::optional<double> Distance(const json& obj, const std::string& ptr, const char* key) {
    const json* v = Get(obj, ptr, key, false);
    if (v == nullptr) return std::nullopt;
    if (v->is_number() && v->get<double>() > 0) return v->get<double>();
    if (v->is_string()) {
      const std::string s = v->get<std::string>();
      size_t pos = 0;
      double number = 0;
      try {
        number = std::stod(s, &pos);
      } catch (...) {
        pos = 0;
      }
      const std::string unit(Trim(std::string_view(s).substr(pos)));
      if (pos > 0 && number > 0 && (unit == "m" || unit == "km")) return unit == "km" ? number * 1000 : number;
    }
    Error(At(ptr, key), "must be a distance like \"500m\" or \"2km\" (got " + Short(*v) + ")");
    return std::nullopt;
  }
};

void ReadArrival(Reader& r, const json& obj, const std::string& ptr, ArrivalSpec& out) {
  if (!r.IsObject(obj, ptr)) return;
  r.Keys(obj, ptr, {"process", "period", "jitter", "rate", "profile"});
  const std::string process = r.Str(obj, ptr, "process").value_or("periodic");
  if (process == "periodic") {
    out.process = ArrivalSpec::Process::kPeriodic;
    if (auto p = r.Dur(obj, ptr, "period", true, true)) out.period = *p;
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

void ReadNetwork(Reader& r, const json& doc, Scenario& s) {
  const std::string ptr = "/network";
  NetworkSpec& n = s.network;
  n.default_access.latency = sim::Duration::Milliseconds(2);
  n.default_access.bandwidth_bps = 1e9;
  auto it = doc.find("network");
  if (it == doc.end()) return;  // the default network: see World
  const json& obj = *it;
  if (!r.IsObject(obj, ptr)) return;
  r.Keys(obj, ptr, {"nodes", "links", "broker_node", "access", "rto", "max_retries"});
  std::set<std::string> node_ids;
  if (const json* nodes = r.Get(obj, ptr, "nodes", false)) {
    if (!nodes->is_array()) {
      r.Error(At(ptr, "nodes"), "must be an array");
    } else {
      for (size_t i = 0; i < nodes->size(); ++i) {
        const std::string p = At(At(ptr, "nodes"), i);
        const json& nj = (*nodes)[i];
        if (!r.IsObject(nj, p)) continue;
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
      }
    }
  }
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
  if (const json* links = r.Get(obj, ptr, "links", false)) {
    if (!links->is_array()) {
      r.Error(At(ptr, "links"), "must be an array");
    } else {
      for (size_t i = 0; i < links->size(); ++i) {
        const std::string p = At(At(ptr, "links"), i);
        const json& lj = (*links)[i];
        if (!r.IsObject(lj, p)) continue;
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
      }
    }
  }
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

const std::vector<std::string> kOps = {"get", "query", "geo-query", "subscribe"};

void ReadUsers(Reader& r, const json& doc, Scenario& s, const std::set<std::string>& region_ids,
               const std::set<std::string>& types) {
  auto it = doc.find("users");
  if (it == doc.end()) return;
  if (!it->is_array()) {
    r.Error("/users", "must be an array");
    return;
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const std::string p = At(std::string("/users"), i);
    const json& uj = (*it)[i];
    if (!r.IsObject(uj, p)) continue;
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
        const std::string rp = At(At(p, "requests"), k);
        const json& rj = (*reqs)[k];
        if (!r.IsObject(rj, rp)) continue;
        r.Keys(rj, rp, {"op", "weight", "type", "q", "max_distance", "limit", "count", "watched"});
        RequestSpec req;
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
        if (auto q = r.Str(rj, rp, "q")) req.q = *q;
        if (auto d = r.Distance(rj, rp, "max_distance")) req.max_distance_m = *d;
        if (auto l = r.Int(rj, rp, "limit", false, 1, 1000)) req.limit = static_cast<int>(*l);
        if (auto c = r.Bool(rj, rp, "count")) req.count = *c;
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
        u.requests.push_back(std::move(req));
      }
    }
    s.users.push_back(std::move(u));
  }
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

int Scenario::RegionIndex(const std::string& id) const {
  for (size_t i = 0; i < regions.size(); ++i) {
    if (regions[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

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
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    return Unexpected(std::vector<ScenarioError>{{"", std::string("not valid JSON: ") + e.what()}});
  }
  Reader r;
  if (!doc.is_object()) return Unexpected(std::vector<ScenarioError>{{"", "a scenario must be a JSON object"}});
  s.json = doc;
  r.Keys(doc, "", {"name", "description", "seed", "duration", "warmup", "speed", "start", "broker", "regions",
                   "network", "sources", "users", "slo", "outputs", "generator"});
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
      r.Keys(*b, "/broker", {"url", "tenancy", "tenant", "connections", "timeout", "threads"});
      if (auto url = r.Str(*b, "/broker", "url")) {
        if (*url != "embedded" && !StartsWith(*url, "http://")) {
          r.Error("/broker/url", "must be \"embedded\" or an http:// URL (got \"" + *url + "\")");
        }
        s.broker.url = *url;
      }
      if (auto t = r.Str(*b, "/broker", "tenancy")) {
        if (*t != "single" && *t != "per-region") r.Error("/broker/tenancy", "must be \"single\" or \"per-region\"");
        s.broker.tenancy = *t;
      }
      if (auto t = r.Str(*b, "/broker", "tenant")) s.broker.tenant = *t;
      if (auto c = r.Int(*b, "/broker", "connections", false, 1, 4096)) s.broker.connections = static_cast<int>(*c);
      if (auto t = r.Dur(*b, "/broker", "timeout", false, true)) s.broker.timeout = *t;
      if (auto t = r.Int(*b, "/broker", "threads", false, 1, 64)) s.broker.threads = static_cast<int>(*t);
    }
  }

  // Regions.
  std::set<std::string> region_ids;
  const json* regions = r.Get(doc, "", "regions", true);
  if (regions != nullptr && (!regions->is_array() || regions->empty())) {
    r.Error("/regions", "must be a non-empty array of regions");
  } else if (regions != nullptr) {
    for (size_t i = 0; i < regions->size(); ++i) {
      const std::string p = At(std::string("/regions"), i);
      const json& rj = (*regions)[i];
      if (!r.IsObject(rj, p)) continue;
      r.Keys(rj, p, {"id", "name", "lat", "lon", "population", "radius_km", "stage"});
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
      s.regions.push_back(region);
    }
  }
  ReadNetwork(r, doc, s);

  // Sources.
  std::set<std::string> types;
  if (const json* sources = r.Get(doc, "", "sources", false)) {
    if (!sources->is_array()) {
      r.Error("/sources", "must be an array");
    } else {
      const auto kinds = SourceKindNames();
      for (size_t i = 0; i < sources->size(); ++i) {
        const std::string p = At(std::string("/sources"), i);
        const json& sj = (*sources)[i];
        if (!r.IsObject(sj, p)) continue;
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
      }
    }
  }
  ReadUsers(r, doc, s, region_ids, types);
  ReadSlo(r, doc, s);

  if (const json* o = r.Get(doc, "", "outputs", false)) {
    if (r.IsObject(*o, "/outputs")) {
      r.Keys(*o, "/outputs", {"dir", "interval", "report"});
      if (auto d = r.Str(*o, "/outputs", "dir")) s.outputs.dir = *d;
      if (auto i = r.Dur(*o, "/outputs", "interval", false, true)) s.outputs.interval = *i;
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
