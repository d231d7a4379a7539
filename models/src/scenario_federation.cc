// The "federation" section of a scenario (docs/federation.md, docs/scenarios.md).
#include "citybed/common/url.h"
#include "scenario_reader.h"

namespace citybed::models {

std::string_view ToString(FederationSpec::Topology t) {
  switch (t) {
    case FederationSpec::Topology::kNone: return "none";
    case FederationSpec::Topology::kStar: return "star";
    case FederationSpec::Topology::kHierarchy: return "hierarchy";
    case FederationSpec::Topology::kMesh: return "mesh";
  }
  return "?";
}

std::string_view ToString(FaultSpec::Mode m) {
  switch (m) {
    case FaultSpec::Mode::kRefuse: return "refuse";
    case FaultSpec::Mode::kBlackhole: return "blackhole";
    case FaultSpec::Mode::kSlow: return "slow";
    case FaultSpec::Mode::kError: return "error";
    case FaultSpec::Mode::kFlap: return "flap";
  }
  return "?";
}

std::optional<FaultSpec::Mode> FaultSpec::At(sim::Time t) const {
  const sim::Duration since = t - (sim::Time() + at);
  if (since < sim::Duration() || since >= duration) return std::nullopt;
  if (mode != Mode::kFlap) return mode;
  const int64_t turn = period.ns() > 0 ? since.ns() / period.ns() : 0;
  if (turn % 2 == 0) return Mode::kRefuse;
  return std::nullopt;
}

namespace detail {

void ReadFaults(Reader& r, const json& doc, Scenario& s) {
  std::set<std::string> ids;
  for (const RegionSpec& reg : s.regions) ids.insert(reg.id);
  r.EachObject(doc, "", "faults", [&](const json& fj, const std::string& p) {
    r.Keys(fj, p, {"kind", "mode", "regions", "at", "duration", "delay", "period", "description"});
    FaultSpec f;
    if (auto kind = r.Str(fj, p, "kind", true); kind && *kind != "broker-outage") {
      r.Error(At(p, "kind"), "unknown fault kind \"" + *kind + "\" (use broker-outage)");
    }
    if (auto m = r.Str(fj, p, "mode")) {
      if (*m == "refuse") f.mode = FaultSpec::Mode::kRefuse;
      else if (*m == "blackhole") f.mode = FaultSpec::Mode::kBlackhole;
      else if (*m == "slow") f.mode = FaultSpec::Mode::kSlow;
      else if (*m == "error") f.mode = FaultSpec::Mode::kError;
      else if (*m == "flap") f.mode = FaultSpec::Mode::kFlap;
      else r.Error(At(p, "mode"), "must be refuse, blackhole, slow, error or flap");
    }
    if (!fj.contains("at")) r.Error(At(p, "at"), "is required: an offset (\"4h30m\") or a local time of day (\"14:00\")");
    if (auto at = ReadTimeOfDay(r, fj, p, "at", s)) f.at = *at;
    if (auto d = r.Dur(fj, p, "duration", false, true)) f.duration = *d;
    if (auto d = r.Dur(fj, p, "delay", false, true)) f.delay = *d;
    if (auto d = r.Dur(fj, p, "period", false, true)) f.period = *d;
    f.regions = ReadRegionRefs(r, fj, p, ids);
    if (!fj.contains("regions")) r.Error(At(p, "regions"), "is required: the regions whose brokers fail");
    if (!s.federation) r.Error(p, "faults of a region's broker need a federation (a broker per region or block)");
    s.faults.push_back(std::move(f));
  });
}


// federation.external: {"<site>": "http://..."} or {"<site>": {"url": "...", "ngsi_ld": "..."}}.
void ReadExternalSites(Reader& r, const json& ext, const std::string& p, const Scenario& s, FederationSpec& spec) {
  if (!r.IsObject(ext, p)) return;
  // The sites this federation has (models/federation.cc names them so).
  std::set<std::string> sites;
  const bool blocks = spec.brokers == FederationSpec::Brokers::kPerBlock ||
                      spec.topology == FederationSpec::Topology::kHierarchy;
  if (spec.brokers == FederationSpec::Brokers::kPerRegion) {
    for (const RegionSpec& region : s.regions) sites.insert("region-" + region.id);
  }
  if (blocks && s.backbone) {
    for (const std::string& hub : s.backbone->hubs) sites.insert("block-" + hub);
  }
  if (spec.topology == FederationSpec::Topology::kStar || spec.topology == FederationSpec::Topology::kHierarchy) {
    sites.insert("national");
  }
  auto url_at = [&](const json& v, const std::string& at) -> std::optional<std::string> {
    if (!v.is_string()) {
      r.Error(at, "must be an http:// URL");
      return std::nullopt;
    }
    const std::string u = v.get<std::string>();
    auto parsed = ParseHttpUrl(u);
    if (!parsed || parsed->scheme != "http") {
      r.Error(at, "\"" + u + "\" is not an http:// URL" + (parsed ? " (https brokers are reached through a relay or proxy)" : ""));
      return std::nullopt;
    }
    std::string out = u;
    while (!out.empty() && out.back() == '/') out.pop_back();
    return out;
  };
  for (const auto& [site, value] : ext.items()) {
    const std::string at = At(p, site);
    if (!sites.count(site)) {
      std::string message = "no broker site \"" + site + "\" in this federation (its sites are region-<id>";
      if (blocks) message += ", block-<hub>";
      if (sites.count("national")) message += ", national";
      r.Error(at, message + ")");
      continue;
    }
    FederationSpec::External e;
    if (value.is_object()) {
      r.Keys(value, at, {"url", "ngsi_ld"});
      if (!value.contains("url")) r.Error(At(at, "url"), "is required: the broker's URL");
      if (value.contains("url")) {
        if (auto u = url_at(value["url"], At(at, "url"))) e.url = *u;
      }
      if (value.contains("ngsi_ld")) {
        if (auto u = url_at(value["ngsi_ld"], At(at, "ngsi_ld"))) e.ld_url = *u;
      }
    } else if (auto u = url_at(value, at)) {
      e.url = *u;
    }
    if (e.url.empty()) continue;
    if (e.ld_url.empty()) e.ld_url = e.url;
    spec.external[site] = std::move(e);
  }
}

void ReadFederation(Reader& r, const json& doc, Scenario& s) {
  const json* f = r.Get(doc, "", "federation", false);
  if (f == nullptr) return;
  const std::string p = "/federation";
  if (!r.IsObject(*f, p)) return;
  r.Keys(*f, p, {"brokers", "topology", "neighbours", "timeout", "cooldown", "relay", "external"});
  FederationSpec spec;
  if (auto b = r.Str(*f, p, "brokers")) {
    if (*b == "per-region") spec.brokers = FederationSpec::Brokers::kPerRegion;
    else if (*b == "per-block") spec.brokers = FederationSpec::Brokers::kPerBlock;
    else r.Error(At(p, "brokers"), "must be \"per-region\" or \"per-block\" (the regions of one backbone hub)");
  }
  if (auto t = r.Str(*f, p, "topology")) {
    if (*t == "none") spec.topology = FederationSpec::Topology::kNone;
    else if (*t == "star") spec.topology = FederationSpec::Topology::kStar;
    else if (*t == "hierarchy") spec.topology = FederationSpec::Topology::kHierarchy;
    else if (*t == "mesh") spec.topology = FederationSpec::Topology::kMesh;
    else r.Error(At(p, "topology"), "must be \"none\", \"star\", \"hierarchy\" or \"mesh\"");
  }
  if (auto n = r.Int(*f, p, "neighbours", false, 1, 64)) spec.neighbours = static_cast<int>(*n);
  if (auto t = r.Dur(*f, p, "timeout", false, true)) spec.timeout = *t;
  if (auto t = r.Dur(*f, p, "cooldown", false, false)) spec.cooldown = *t;
  if (auto b = r.Bool(*f, p, "relay")) spec.relay = *b;
  if (const json* ext = r.Get(*f, p, "external", false)) ReadExternalSites(r, *ext, At(p, "external"), s, spec);
  // What a federation needs from the rest of the scenario.
  if (s.broker.url != "embedded") {
    r.Error(p, "needs the embedded brokers (broker.url \"embedded\"): citybed starts one per region or block");
  }
  if (s.broker.tenancy != "single") {
    r.Error(p, "needs broker.tenancy \"single\": each region already has its own broker");
  }
  const bool blocks = spec.brokers == FederationSpec::Brokers::kPerBlock ||
                      spec.topology == FederationSpec::Topology::kHierarchy;
  if (blocks && !s.backbone) {
    r.Error(spec.brokers == FederationSpec::Brokers::kPerBlock ? At(p, "brokers") : At(p, "topology"),
            "blocks are the regions of one backbone hub: they need network.generate (a generated backbone)");
  }
  if (spec.brokers == FederationSpec::Brokers::kPerBlock && spec.topology == FederationSpec::Topology::kHierarchy) {
    r.Error(At(p, "topology"), "a hierarchy links region brokers through block brokers; with per-block brokers use star");
  }
  // A hierarchy's hub waits twice the timeout for a block (the block waits the timeout for its regions).
  const int64_t levels = spec.topology == FederationSpec::Topology::kHierarchy ? 2 : 1;
  if (spec.timeout * levels >= s.broker.timeout) {
    r.Error(At(p, "timeout"), "must be shorter than broker.timeout (" + s.broker.timeout.ToString() + ")" +
                                  (levels > 1 ? ", twice over in a hierarchy" : "") +
                                  ", or a user's request times out before a slow source is given up");
  }
  s.federation = spec;
}

}  // namespace detail
}  // namespace citybed::models
