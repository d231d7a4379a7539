#include "distributed.h"

#include <algorithm>
#include <boost/geometry/algorithms/disjoint.hpp>
#include <boost/json.hpp>

#include "api_common.h"
#include "citybed/common/strings.h"
#include "citybed/common/url.h"
#include "json_parse.h"

namespace citybed::broker {

namespace json = boost::json;

std::string ForwardWarning::Header() const {
  if (!passed_on.empty()) return passed_on;
  std::string quoted;
  for (char c : text) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += (c == '\r' || c == '\n') ? ' ' : c;
  }
  return std::to_string(code) + " " + agent + " \"" + quoted + "\"";
}

std::optional<ForwardWarning> PathStop(const std::vector<std::string>& via, const std::string& self) {
  if (std::find(via.begin(), via.end(), self) != via.end()) {
    return ForwardWarning{199, self, "a registration loop: this broker is already on the request's path (Via)"};
  }
  if (via.size() >= kMaxHops) {
    return ForwardWarning{199, self, "the request has passed " + std::to_string(via.size()) + " brokers; at most " +
                                         std::to_string(kMaxHops) + " are followed"};
  }
  return std::nullopt;
}

std::vector<std::string> ViaNames(std::string_view via) {
  std::vector<std::string> out;
  for (std::string_view item : Split(via, ',')) {
    item = Trim(item);
    // received-protocol SP received-by [SP comment]
    const size_t sp = item.find(' ');
    if (sp == std::string_view::npos) continue;
    std::string_view by = Trim(item.substr(sp + 1));
    by = by.substr(0, by.find(' '));
    if (!by.empty()) out.emplace_back(by);
  }
  return out;
}

std::string SourceName(const Registration& r) {
  if (!r.alias.empty()) return r.alias;
  if (auto url = ParseHttpUrl(r.endpoint)) return url->host + ":" + url->port;
  return r.endpoint;
}

namespace {


// Can an entity registered by `e` match the asked ids, id pattern and types?
bool EntityMayMatch(const RegisteredEntities& e, const DistributedAsk& ask) {
  if (!ask.types.empty() && !HasId(ask.types, e.type)) return false;
  if (!e.id.empty()) {
    if (!ask.ids.empty() && std::find(ask.ids.begin(), ask.ids.end(), e.id) == ask.ids.end()) return false;
    if (ask.id_pattern != nullptr && !ask.id_pattern->FullMatch(e.id)) return false;
  } else if (e.id_regex && !ask.ids.empty()) {
    bool any = false;
    for (const std::string& id : ask.ids) any = any || e.id_regex->FullMatch(id);
    if (!any) return false;
  }
  return true;
}

// The geo-query can hold for something inside the registered area (a box test: a registration
// says where its data may be, not where each entity is).
bool AreaMayMatch(const Registration& r, const GeoQuery* geo) {
  if (geo == nullptr || !r.location) return true;
  if (geo->rel == GeoRel::kDisjoint || geo->min_distance >= 0) return true;
  GeoBox query_box;
  if (!CandidateBox(*geo, query_box)) return true;
  const GeoBox area = Envelope(*r.location);
  return !boost::geometry::disjoint(query_box, area);
}

std::string CompactList(const std::vector<uint32_t>& ids, const Context& ctx, Interner& names) {
  std::string out;
  for (uint32_t id : ids) {
    if (!out.empty()) out += ',';
    out += ctx.CompactId(id, names);
  }
  return out;
}

void AppendParam(std::string& target, std::string_view key, std::string_view value) {
  target += target.find('?') == std::string::npos ? '?' : '&';
  target += PercentEncode(key);
  target += '=';
  target += PercentEncode(value, ",;:");
}

// The client's type and attrs, or the registration's narrower ones.
void AddSelection(std::string& target, const SourcePlan& plan, const ForwardContext& fc, Interner& names,
                  const Context& ctx) {
  if (plan.types_restricted) {
    AppendParam(target, "type", CompactList(plan.types, ctx, names));
  } else if (const std::string* t = fc.client->FindParam("type")) {
    AppendParam(target, "type", *t);
  }
  if (plan.attrs_restricted) {
    AppendParam(target, "attrs", CompactList(plan.attrs, ctx, names));
  } else if (const std::string* a = fc.client->FindParam("attrs")) {
    AppendParam(target, "attrs", *a);
  }
}

}  // namespace

// The endpoint is the source's apiRoot (4.3.6.1): the NGSI-LD path follows it.
std::string ApiRoot(const std::string& endpoint) {
  std::string root = endpoint;
  while (!root.empty() && root.back() == '/') root.pop_back();
  return root + "/ngsi-ld/v1";
}

ForwardRequest BaseForward(const Registration& r, const ForwardContext& fc, std::string url) {
  ForwardRequest f;
  f.url = std::move(url);
  f.endpoint = r.endpoint;  // the cool-down is per registered endpoint
  f.timeout = r.timeout_ms > 0 ? std::chrono::milliseconds(r.timeout_ms) : fc.default_timeout;
  f.cooldown = r.cooldown_ms > 0 ? std::chrono::milliseconds(r.cooldown_ms) : fc.default_cooldown;
  f.headers.push_back({"Accept", "application/json"});
  if (!fc.link.empty()) f.headers.push_back({"Link", fc.link});
  if (!r.source_tenant.empty()) f.headers.push_back({"NGSILD-Tenant", r.source_tenant});
  // contextSourceInfo (4.3.6.5): headers of every forwarded request; "urn:ngsi-ld:request"
  // copies the client's header of that name. The keys 4.3.6.6 gives a meaning to are not
  // headers, and nothing overrides what the forwarder itself sets.
  for (const auto& [key, value] : r.source_info) {
    if (EqualsAsciiNoCase(key, "jsonldContext") || EqualsAsciiNoCase(key, "accept") ||
        EqualsAsciiNoCase(key, "contentType") || EqualsAsciiNoCase(key, "ngsildConformance") ||
        EqualsAsciiNoCase(key, "Host") || EqualsAsciiNoCase(key, "Content-Length") ||
        EqualsAsciiNoCase(key, "Via") || EqualsAsciiNoCase(key, "NGSILD-Tenant") ||
        EqualsAsciiNoCase(key, "Accept") || EqualsAsciiNoCase(key, "Link") || EqualsAsciiNoCase(key, "Connection") ||
        EqualsAsciiNoCase(key, "Transfer-Encoding")) {
      continue;
    }
    if (value == "urn:ngsi-ld:request") {
      if (const std::string* h = fc.client->FindHeader(key)) f.headers.push_back({key, *h});
      continue;
    }
    f.headers.push_back({key, value});
  }
  f.headers.push_back({"Via", fc.via});
  return f;
}

std::vector<SourcePlan> PlanSources(const std::vector<RegistrationPtr>& registrations, const DistributedAsk& ask,
                                    const std::vector<std::string>& via, int64_t now,
                                    std::vector<ForwardWarning>& warnings) {
  std::vector<SourcePlan> plans, auxiliary;
  for (const RegistrationPtr& r : registrations) {
    if (r->Expired(now) || !r->Allows(ask.operation)) continue;
    if (!AreaMayMatch(*r, ask.geo)) continue;
    SourcePlan plan;
    plan.reg = r;
    bool matched = false, any_type = false, any_attr = false, all_ids = true;
    std::vector<std::string> ids;
    for (const RegistrationInfo& info : r->information) {
      // Attributes: the registered names that were asked for (all registered when none asked).
      std::vector<uint32_t> offered = info.property_names;
      offered.insert(offered.end(), info.relationship_names.begin(), info.relationship_names.end());
      std::vector<uint32_t> attrs;
      if (!offered.empty()) {
        for (uint32_t a : offered) {
          if (ask.attrs.empty() || HasId(ask.attrs, a)) attrs.push_back(a);
        }
        if (attrs.empty()) continue;
      }
      // Entities.
      std::vector<const RegisteredEntities*> ents;
      for (const RegisteredEntities& e : info.entities) {
        if (EntityMayMatch(e, ask)) ents.push_back(&e);
      }
      if (!info.entities.empty() && ents.empty()) continue;
      matched = true;
      if (offered.empty()) any_attr = true;
      for (uint32_t a : attrs) AddUniqueId(plan.attrs, a);
      if (info.entities.empty()) {
        any_type = true;
        all_ids = false;
      }
      for (const RegisteredEntities* e : ents) {
        AddUniqueId(plan.types, e->type);
        if (e->id.empty()) all_ids = false;
        else if (std::find(ids.begin(), ids.end(), e->id) == ids.end()) ids.push_back(e->id);
      }
    }
    if (!matched) continue;
    const std::string name = SourceName(*r);
    if (std::find(via.begin(), via.end(), name) != via.end()) {
      warnings.push_back({199, name, "registration " + r->id + " not used: its source is already on this request's path (Via)"});
      continue;
    }
    plan.types_restricted = !any_type;
    plan.attrs_restricted = !any_attr;
    if (all_ids) plan.ids = std::move(ids);
    (r->mode == RegistrationMode::kAuxiliary ? auxiliary : plans).push_back(std::move(plan));
  }
  auto by_id = [](const SourcePlan& a, const SourcePlan& b) { return a.reg->id < b.reg->id; };
  std::sort(plans.begin(), plans.end(), by_id);
  std::sort(auxiliary.begin(), auxiliary.end(), by_id);
  for (SourcePlan& p : auxiliary) plans.push_back(std::move(p));
  return plans;
}

std::string ForwardedTarget(const Request& req, const Registration& r) {
  std::string_view path(req.target);
  path = path.substr(0, path.find('?'));
  constexpr std::string_view kRoot = "/ngsi-ld/v1";
  if (path.rfind(kRoot, 0) == 0) path.remove_prefix(kRoot.size());
  std::string target = ApiRoot(r.endpoint);
  target += path;
  for (const auto& [key, value] : req.query) {
    if (key != "local") AppendParam(target, key, value);
  }
  if (r.local_only) AppendParam(target, "local", "true");
  return target;
}

void AddForwardedHeader(Response& r, const std::vector<ForwardOutcome>& outcomes) {
  size_t answered = 0, bytes = 0;
  for (const ForwardOutcome& o : outcomes) {
    answered += o.answered() ? 1 : 0;
    bytes += o.body.size();
  }
  r.SetHeader("Citybed-Forwarded", "sources=" + std::to_string(outcomes.size()) + ", answered=" + std::to_string(answered) +
                                       ", bytes=" + std::to_string(bytes));
}

Response AfterSources(Forwarder* forwarder, std::vector<ForwardRequest> requests,
                      std::function<Response(std::vector<ForwardOutcome>&)> finish) {
  Response r;
  r.later = [forwarder, requests = std::move(requests), finish = std::move(finish)](ResponseSink sink) mutable {
    forwarder->Send(std::move(requests), [finish = std::move(finish), sink = std::move(sink)](std::vector<ForwardOutcome> outcomes) {
      Response answer = finish(outcomes);
      AddForwardedHeader(answer, outcomes);
      sink(std::move(answer));
    });
  };
  return r;
}

ForwardRequest QueryForward(const SourcePlan& plan, const ForwardContext& fc, Interner& names, const Context& ctx,
                            size_t want, size_t max_limit) {
  std::string target = ApiRoot(plan.reg->endpoint) + "/entities";
  AddSelection(target, plan, fc, names, ctx);
  // Ids: the client's, narrowed to the registered ones when the registration names them all.
  if (!plan.ids.empty()) {
    std::vector<std::string> ids;
    const std::string* asked = fc.client->FindParam("id");
    for (const std::string& id : plan.ids) {
      if (asked == nullptr) {
        ids.push_back(id);
        continue;
      }
      for (const std::string& a : SplitList(*asked)) {
        if (a == id) ids.push_back(id);
      }
    }
    std::string joined;
    for (const std::string& id : ids) joined += (joined.empty() ? "" : ",") + id;
    AppendParam(target, "id", joined);
  } else if (const std::string* id = fc.client->FindParam("id")) {
    AppendParam(target, "id", *id);
  }
  for (const char* key : {"idPattern", "q", "georel", "geometry", "coordinates", "geoproperty", "scopeQ", "csf",
                          "datasetId"}) {
    if (const std::string* v = fc.client->FindParam(key)) AppendParam(target, key, *v);
  }
  if (plan.reg->local_only) AppendParam(target, "local", "true");
  AppendParam(target, "options", "sysAttrs");
  AppendParam(target, "limit", std::to_string(std::max<size_t>(1, std::min(want, max_limit))));
  AppendParam(target, "count", "true");
  return BaseForward(*plan.reg, fc, std::move(target));
}

ForwardRequest RetrieveForward(const SourcePlan& plan, const ForwardContext& fc, Interner& names,
                               const Context& ctx, const std::string& id) {
  std::string target = ApiRoot(plan.reg->endpoint) + "/entities/" + PercentEncode(id, ":");
  AddSelection(target, plan, fc, names, ctx);
  if (plan.reg->local_only) AppendParam(target, "local", "true");
  AppendParam(target, "options", "sysAttrs");
  return BaseForward(*plan.reg, fc, std::move(target));
}

namespace {

int64_t TimeMember(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return kNoTime;
  auto t = ParseRfc3339Micros(v->get_string());
  return t ? *t : kNoTime;
}

// ParseEntity stamps what it reads with "now"; a source's entity keeps its own system times,
// which the merge rule compares.
void KeepSystemTimes(Entity& e, const json::object& o, const Codec& codec) {
  e.created_at = TimeMember(o, "createdAt");
  e.modified_at = TimeMember(o, "modifiedAt");
  for (Attribute& a : e.attrs) {
    a.created_at = a.modified_at = kNoTime;
  }
  for (const auto& [key, value] : o) {
    if (key == "id" || key == "type" || key == "createdAt" || key == "modifiedAt" || key == "@context") continue;
    const uint32_t name = codec.context.ExpandToId(key, codec.names);
    auto apply = [&](const json::value& inst) {
      const json::object* io = inst.if_object();
      if (io == nullptr) return;
      uint32_t dataset = 0;
      if (const json::value* d = io->if_contains("datasetId"); d && d->is_string()) {
        dataset = codec.names.Intern(codec.context.Expand(d->get_string()));
      }
      if (Attribute* a = e.FindMutable(name, dataset)) {
        a->created_at = TimeMember(*io, "createdAt");
        a->modified_at = TimeMember(*io, "modifiedAt");
      }
    };
    if (const json::array* arr = value.if_array()) {
      for (const json::value& inst : *arr) apply(inst);
    } else {
      apply(value);
    }
  }
}

bool ParseOne(const json::value& v, const Codec& codec, std::vector<Entity>& out, std::string& why) {
  const json::object* o = v.if_object();
  if (o == nullptr) {
    why = "an entity that is not a JSON object";
    return false;
  }
  auto e = ParseEntity(*o, codec, UnixMicrosNow());
  if (!e) {
    why = "an invalid entity: " + e.error().detail;
    return false;
  }
  KeepSystemTimes(*e, *o, codec);
  out.push_back(std::move(*e));
  return true;
}

}  // namespace

bool ReadSourceAnswer(const SourcePlan& plan, const ForwardOutcome& outcome, bool single, const Codec& codec,
                      std::vector<Entity>& entities, std::vector<ForwardWarning>& warnings) {
  const std::string name = SourceName(*plan.reg);
  if (!outcome.answered()) {
    const std::string why = outcome.cooled ? outcome.error
                            : outcome.error == "timeout"
                                ? "no answer within the timeout"
                                : "no answer: " + outcome.error;
    warnings.push_back({199, name, "registration " + plan.reg->id + ": " + why});
    return false;
  }
  // A source that is itself distributed says which of its sources failed: its answer may be
  // incomplete, and so is ours. Passed on as they came (their agent names the failed source).
  for (const std::string& w : outcome.warnings) {
    if (ValidHeaderValue(w)) warnings.push_back({0, "", "", w});
  }
  if (single && outcome.status == 404) return true;  // not there: not abnormal (6.3.17)
  if (outcome.status < 200 || outcome.status >= 300) {
    warnings.push_back({299, name, "registration " + plan.reg->id + ": the source answered " + std::to_string(outcome.status)});
    return false;
  }
  boost::system::error_code ec;
  const json::value parsed_doc = ParseJson(outcome.body, ec);
  const json::value* doc = ec ? nullptr : &parsed_doc;
  std::vector<Entity> parsed;
  std::string why;
  bool ok = doc != nullptr;
  if (!ok) why = "a body that is not JSON";
  if (ok && single) ok = ParseOne(*doc, codec, parsed, why);
  if (ok && !single) {
    const json::array* arr = doc->if_array();
    if (arr == nullptr) {
      ok = false;
      why = "a query answer that is not an array";
    }
    for (size_t i = 0; ok && arr && i < arr->size(); ++i) ok = ParseOne((*arr)[i], codec, parsed, why);
  }
  if (!ok) {
    // 6.3.17: an invalid payload is not incorporated.
    warnings.push_back({111, name, "registration " + plan.reg->id + ": the source answered " + why});
    return false;
  }
  for (Entity& e : parsed) entities.push_back(std::move(e));
  return true;
}

namespace {

// Does `b` win over `a` for the same attribute instance (4.5.5.3)?
bool Newer(const Attribute& a, const Attribute& b) {
  if (a.observed_at != kNoTime || b.observed_at != kNoTime) {
    if (a.observed_at != b.observed_at) return b.observed_at > a.observed_at;
  }
  if (a.modified_at != b.modified_at) return b.modified_at > a.modified_at;
  return false;  // a tie keeps the earlier source
}

}  // namespace

void MergeSourceEntity(Entity& into, const Entity& from, bool auxiliary) {
  for (uint32_t t : from.types) {
    if (!into.HasType(t)) into.types.push_back(t);
  }
  if (from.created_at != kNoTime && (into.created_at == kNoTime || from.created_at < into.created_at)) {
    into.created_at = from.created_at;
  }
  if (from.modified_at != kNoTime && (into.modified_at == kNoTime || from.modified_at > into.modified_at)) {
    into.modified_at = from.modified_at;
  }
  const size_t before = into.attrs.size();
  for (const Attribute& a : from.attrs) {
    Attribute* mine = nullptr;
    bool same_name = false;
    for (size_t i = 0; i < before; ++i) {
      if (into.attrs[i].name != a.name) continue;
      same_name = true;
      if (into.attrs[i].dataset_id == a.dataset_id) mine = &into.attrs[i];
    }
    if (auxiliary && same_name) continue;
    if (mine == nullptr) {
      into.attrs.push_back(a);
    } else if (Newer(*mine, a)) {
      *mine = a;
    }
  }
}

Expected<std::vector<std::pair<std::string, std::string>>, std::string> QueryBodyAsParams(const json::object& o) {
  std::vector<std::pair<std::string, std::string>> params;
  auto joined = [](const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& x : v) out += (out.empty() ? "" : ",") + x;
    return out;
  };
  auto string_member = [](const json::object& from, std::string_view key) -> const json::string* {
    const json::value* v = from.if_contains(key);
    return v != nullptr ? v->if_string() : nullptr;
  };
  if (const json::value* ents = o.if_contains("entities"); ents && ents->is_array() && !ents->get_array().empty()) {
    const json::array& list = ents->get_array();
    if (list.size() == 1) {
      const json::object& e = list[0].as_object();
      for (const char* key : {"type", "id", "idPattern"}) {
        if (const json::string* v = string_member(e, key)) params.emplace_back(key, std::string(*v));
      }
    } else {
      // Several selectors: only "any of these types" has a GET form (ids or patterns per type do not).
      std::vector<std::string> types;
      for (const json::value& e : list) {
        const json::object& eo = e.as_object();
        const json::string* t = string_member(eo, "type");
        if (t == nullptr || eo.contains("id") || eo.contains("idPattern")) {
          return Unexpected(std::string("several entity selectors with ids or patterns have no GET form to forward"));
        }
        types.emplace_back(*t);
      }
      params.emplace_back("type", joined(types));
    }
  }
  if (const json::value* a = o.if_contains("attrs"); a && a->is_array()) {
    std::vector<std::string> attrs;
    for (const json::value& x : a->get_array()) {
      if (x.is_string()) attrs.emplace_back(x.get_string());
    }
    if (!attrs.empty()) params.emplace_back("attrs", joined(attrs));
  }
  for (const char* key : {"q", "scopeQ", "csf"}) {
    if (const json::string* v = string_member(o, key)) params.emplace_back(key, std::string(*v));
  }
  if (const json::value* g = o.if_contains("geoQ"); g && g->is_object()) {
    const json::object& go = g->get_object();
    for (const char* key : {"georel", "geometry", "geoproperty"}) {
      if (const json::string* v = string_member(go, key)) params.emplace_back(key, std::string(*v));
    }
    if (const json::value* c = go.if_contains("coordinates")) {
      params.emplace_back("coordinates", c->is_string() ? std::string(c->get_string()) : json::serialize(*c));
    }
  }
  return params;
}

void AddWarnings(Response& r, const std::vector<ForwardWarning>& warnings, std::string_view self) {
  for (size_t i = 0; i < warnings.size() && i < kMaxWarnings; ++i) {
    r.headers.push_back({"NGSILD-Warning", warnings[i].Header()});
  }
  if (warnings.size() > kMaxWarnings) {
    const ForwardWarning more{199, self.empty() ? "-" : std::string(self),
                              std::to_string(warnings.size() - kMaxWarnings) + " more warnings left out", ""};
    r.headers.push_back({"NGSILD-Warning", more.Header()});
  }
}

}  // namespace citybed::broker
