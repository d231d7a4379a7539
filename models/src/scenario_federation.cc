// The "federation" section of a scenario (docs/federation.md, docs/scenarios.md).
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

namespace detail {

void ReadFederation(Reader& r, const json& doc, Scenario& s) {
  const json* f = r.Get(doc, "", "federation", false);
  if (f == nullptr) return;
  const std::string p = "/federation";
  if (!r.IsObject(*f, p)) return;
  r.Keys(*f, p, {"brokers", "topology", "neighbours", "timeout", "cooldown", "relay"});
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
  if (spec.timeout >= s.broker.timeout) {
    r.Error(At(p, "timeout"), "must be shorter than broker.timeout (" + s.broker.timeout.ToString() +
                                  "), or a user's request times out before a slow source is given up");
  }
  s.federation = spec;
}

}  // namespace detail
}  // namespace citybed::models
