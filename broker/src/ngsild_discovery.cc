// Type and attribute discovery (CIM 009 V1.9.1, 5.7.5–5.7.10): GET /types[?details=true],
// /types/{type}, /attributes[?details=true], /attributes/{attrId} — over this broker's
// entities and, as distributed operations (4.3.6), over what the registered context sources
// answer to the same request (registrations that accept retrieveEntityTypes,
// retrieveEntityTypeDetails, retrieveEntityTypeInfo, retrieveAttrTypes,
// retrieveAttrTypeDetails or retrieveAttrTypeInfo — federationOps holds them all — and whose
// information can hold the type or the attribute asked about). Facts are kept by expanded
// name, so a source's answer (compacted with the client's @context, which it is sent) and the
// local entities merge: names united, entity and attribute counts summed (a source cannot say
// which of its entities another holds too), attribute kinds united.
#include <algorithm>
#include <map>
#include <set>

#include "citybed/common/strings.h"
#include "ngsild_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

enum class Ask { kTypes, kTypeDetails, kTypeInfo, kAttrs, kAttrDetails, kAttrInfo };

std::string_view OperationOf(Ask a) {
  switch (a) {
    case Ask::kTypes: return "retrieveEntityTypes";
    case Ask::kTypeDetails: return "retrieveEntityTypeDetails";
    case Ask::kTypeInfo: return "retrieveEntityTypeInfo";
    case Ask::kAttrs: return "retrieveAttrTypes";
    case Ask::kAttrDetails: return "retrieveAttrTypeDetails";
    case Ask::kAttrInfo: return "retrieveAttrTypeInfo";
  }
  return "retrieveEntityTypes";
}

struct TypeFacts {
  size_t count = 0;
  std::map<std::string, std::set<std::string>> attrs;  // expanded attribute name -> kinds
};
struct AttrFacts {
  size_t count = 0;  // entities that have it
  std::set<std::string> kinds;
  std::set<std::string> types;  // expanded
};
// What discovery knows, by expanded name.
struct Facts {
  std::map<std::string, TypeFacts> types;
  std::map<std::string, AttrFacts> attrs;
};

// A source's answer to the forwarded request, read with the client's context.
bool ReadSourceFacts(Ask ask, const json::value& v, const Context& ctx, Facts& facts) {
  auto expand = [&](const json::object& o, std::string_view name_key) -> std::string {
    if (const json::value* id = o.if_contains("id"); id && id->is_string() && IsUri(id->get_string())) {
      return std::string(id->get_string());
    }
    const json::value* n = o.if_contains(name_key);
    return n && n->is_string() ? ctx.Expand(n->get_string()) : std::string();
  };
  auto strings = [](const json::object& o, std::string_view key) {
    std::vector<std::string> out;
    const json::value* a = o.if_contains(key);
    if (a == nullptr || !a->is_array()) return out;
    for (const json::value& x : a->get_array()) {
      if (x.is_string()) out.emplace_back(x.get_string());
    }
    return out;
  };
  auto count = [](const json::object& o, std::string_view key) -> size_t {
    const json::value* c = o.if_contains(key);
    if (c == nullptr || !c->is_number()) return 0;
    const double d = c->to_number<double>();
    return d > 0 && d < 1e15 ? static_cast<size_t>(d) : 0;
  };
  switch (ask) {
    case Ask::kTypes: {
      if (!v.is_object()) return false;
      for (const std::string& t : strings(v.get_object(), "typeList")) facts.types[ctx.Expand(t)];
      return v.get_object().contains("typeList");
    }
    case Ask::kAttrs: {
      if (!v.is_object()) return false;
      for (const std::string& a : strings(v.get_object(), "attributeList")) facts.attrs[ctx.Expand(a)];
      return v.get_object().contains("attributeList");
    }
    case Ask::kTypeDetails: {
      if (!v.is_array()) return false;
      for (const json::value& x : v.get_array()) {
        if (!x.is_object()) continue;
        const std::string type = expand(x.get_object(), "typeName");
        if (type.empty()) continue;
        TypeFacts& t = facts.types[type];
        for (const std::string& a : strings(x.get_object(), "attributeNames")) t.attrs[ctx.Expand(a)];
      }
      return true;
    }
    case Ask::kAttrDetails: {
      if (!v.is_array()) return false;
      for (const json::value& x : v.get_array()) {
        if (!x.is_object()) continue;
        const std::string attr = expand(x.get_object(), "attributeName");
        if (attr.empty()) continue;
        AttrFacts& a = facts.attrs[attr];
        for (const std::string& t : strings(x.get_object(), "typeNames")) a.types.insert(ctx.Expand(t));
      }
      return true;
    }
    case Ask::kTypeInfo: {
      if (!v.is_object()) return false;
      const json::object& o = v.get_object();
      const std::string type = expand(o, "typeName");
      if (type.empty()) return false;
      TypeFacts& t = facts.types[type];
      t.count += count(o, "entityCount");
      if (const json::value* details = o.if_contains("attributeDetails"); details && details->is_array()) {
        for (const json::value& d : details->get_array()) {
          if (!d.is_object()) continue;
          const std::string attr = expand(d.get_object(), "attributeName");
          if (attr.empty()) continue;
          std::set<std::string>& kinds = t.attrs[attr];
          for (const std::string& k : strings(d.get_object(), "attributeTypes")) kinds.insert(k);
        }
      }
      return true;
    }
    case Ask::kAttrInfo: {
      if (!v.is_object()) return false;
      const json::object& o = v.get_object();
      const std::string attr = expand(o, "attributeName");
      if (attr.empty()) return false;
      AttrFacts& a = facts.attrs[attr];
      a.count += count(o, "attributeCount");
      for (const std::string& k : strings(o, "attributeTypes")) a.kinds.insert(k);
      for (const std::string& t : strings(o, "typeNames")) a.types.insert(ctx.Expand(t));
      return true;
    }
  }
  return false;
}

// Names in the client's terms, sorted.
std::vector<std::string> Compacted(const std::set<std::string>& iris, const Context& ctx) {
  std::vector<std::string> out;
  for (const std::string& i : iris) out.push_back(ctx.Compact(i));
  std::sort(out.begin(), out.end());
  return out;
}
template <typename Map>
std::vector<std::pair<std::string, const typename Map::mapped_type*>> ByTerm(const Map& m, const Context& ctx) {
  std::vector<std::pair<std::string, const typename Map::mapped_type*>> out;
  for (const auto& [iri, facts] : m) out.emplace_back(iri, &facts);
  std::sort(out.begin(), out.end(), [&](const auto& a, const auto& b) { return ctx.Compact(a.first) < ctx.Compact(b.first); });
  return out;
}

void Strings(JsonWriter& w, const std::vector<std::string>& v) {
  w.BeginArray();
  for (const std::string& s : v) w.String(s);
  w.EndArray();
}

struct DiscoveryAsk {
  Ask ask;
  std::string name;      // the type or attribute of an info request, as the client wrote it
  std::string expanded;  // ... expanded
};

// The local facts a discovery request needs.
void LocalFacts(NgsiLdApi::Impl& api, const std::string& tenant, const DiscoveryAsk& d, Facts& facts) {
  Interner& names = api.names_;
  if (d.ask == Ask::kTypes) {
    for (const auto& [type, n] : api.store_.TypeCounts(tenant)) facts.types[std::string(names.Name(type))].count += n;
    return;
  }
  ScanFilter f;
  uint32_t only = Interner::kUnknown;
  if (d.ask == Ask::kTypeInfo || d.ask == Ask::kAttrInfo) {
    const std::optional<uint32_t> found = names.Find(d.expanded);
    if (!found) return;  // a name nothing here has
    only = *found;
    if (d.ask == Ask::kTypeInfo) f.types = {only};
  }
  api.store_.Scan(tenant, f, [&](const EntityPtr& e) {
    const bool by_type = d.ask == Ask::kTypeDetails || d.ask == Ask::kTypeInfo;
    if (by_type) {
      for (uint32_t t : e->types) {
        if (d.ask == Ask::kTypeInfo && t != only) continue;
        TypeFacts& tf = facts.types[std::string(names.Name(t))];
        ++tf.count;
        for (const Attribute& a : e->attrs) tf.attrs[std::string(names.Name(a.name))].insert(std::string(ToString(a.kind)));
      }
      return true;
    }
    std::set<uint32_t> seen;
    for (const Attribute& a : e->attrs) {
      if (d.ask == Ask::kAttrInfo && a.name != only) continue;
      AttrFacts& af = facts.attrs[std::string(names.Name(a.name))];
      af.kinds.insert(std::string(ToString(a.kind)));
      if (seen.insert(a.name).second) {
        ++af.count;
        for (uint32_t t : e->types) af.types.insert(std::string(names.Name(t)));
      }
    }
    return true;
  });
}

Response RenderDiscovery(NgsiLdApi::Impl& api, const DiscoveryAsk& d, const Facts& facts, const Call& call) {
  const Context& ctx = *call.ctx;
  std::string body;
  JsonWriter w(body);
  switch (d.ask) {
    case Ask::kTypes:
    case Ask::kAttrs: {
      const bool types = d.ask == Ask::kTypes;
      std::set<std::string> iris;
      if (types) for (const auto& [iri, f] : facts.types) iris.insert(iri);
      else for (const auto& [iri, f] : facts.attrs) iris.insert(iri);
      w.BeginObject();
      w.Key("id");
      w.String(std::string(types ? "urn:ngsi-ld:EntityTypeList:" : "urn:ngsi-ld:AttributeList:") +
               std::to_string(std::hash<std::string>{}(call.tenant) & 0xffffff));
      w.Key("type");
      w.String(types ? "EntityTypeList" : "AttributeList");
      w.Key(types ? "typeList" : "attributeList");
      Strings(w, Compacted(iris, ctx));
      w.EndObject();
      break;
    }
    case Ask::kTypeDetails:
      w.BeginArray();
      for (const auto& [iri, f] : ByTerm(facts.types, ctx)) {
        std::set<std::string> attrs;
        for (const auto& [a, kinds] : f->attrs) attrs.insert(a);
        w.BeginObject();
        w.Key("id");
        w.String(iri);
        w.Key("type");
        w.String("EntityType");
        w.Key("typeName");
        w.String(ctx.Compact(iri));
        w.Key("attributeNames");
        Strings(w, Compacted(attrs, ctx));
        w.EndObject();
      }
      w.EndArray();
      break;
    case Ask::kAttrDetails:
      w.BeginArray();
      for (const auto& [iri, f] : ByTerm(facts.attrs, ctx)) {
        w.BeginObject();
        w.Key("id");
        w.String(iri);
        w.Key("type");
        w.String("Attribute");
        w.Key("attributeName");
        w.String(ctx.Compact(iri));
        w.Key("typeNames");
        Strings(w, Compacted(f->types, ctx));
        w.EndObject();
      }
      w.EndArray();
      break;
    case Ask::kTypeInfo: {
      auto it = facts.types.find(d.expanded);
      if (it == facts.types.end() || it->second.count == 0) {
        return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "no entity has type " + d.name));
      }
      w.BeginObject();
      w.Key("id");
      w.String(it->first);
      w.Key("type");
      w.String("EntityTypeInfo");
      w.Key("typeName");
      w.String(ctx.Compact(it->first));
      w.Key("entityCount");
      w.Int(static_cast<int64_t>(it->second.count));
      w.Key("attributeDetails");
      w.BeginArray();
      for (const auto& [attr, kinds] : ByTerm(it->second.attrs, ctx)) {
        w.BeginObject();
        w.Key("id");
        w.String(attr);
        w.Key("type");
        w.String("Attribute");
        w.Key("attributeName");
        w.String(ctx.Compact(attr));
        w.Key("attributeTypes");
        Strings(w, std::vector<std::string>(kinds->begin(), kinds->end()));
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
      break;
    }
    case Ask::kAttrInfo: {
      auto it = facts.attrs.find(d.expanded);
      if (it == facts.attrs.end() || it->second.count == 0) {
        return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "no entity has attribute " + d.name));
      }
      w.BeginObject();
      w.Key("id");
      w.String(it->first);
      w.Key("type");
      w.String("Attribute");
      w.Key("attributeName");
      w.String(ctx.Compact(it->first));
      w.Key("attributeCount");
      w.Int(static_cast<int64_t>(it->second.count));
      w.Key("attributeTypes");
      Strings(w, std::vector<std::string>(it->second.kinds.begin(), it->second.kinds.end()));
      w.Key("typeNames");
      Strings(w, Compacted(it->second.types, ctx));
      w.EndObject();
      break;
    }
  }
  return api.Json(200, std::move(body), call);
}

Response Discover(NgsiLdApi::Impl& api, Request& req, const PathParams& p, const DiscoveryAsk& asked) {
  auto call = api.Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  if (!api.TenantExists(call->tenant)) return ProblemResponse(api.TenantMissing(call->tenant));
  DiscoveryAsk d = asked;
  const bool details = [&] {
    const std::string* v = req.FindParam("details");
    return v != nullptr && *v == "true";
  }();
  if (d.ask == Ask::kTypes && details) d.ask = Ask::kTypeDetails;
  if (d.ask == Ask::kAttrs && details) d.ask = Ask::kAttrDetails;
  if (d.ask == Ask::kTypeInfo) d.name = p.Get("type");
  if (d.ask == Ask::kAttrInfo) d.name = p.Get("attrId");
  if (!d.name.empty()) d.expanded = call->ctx->Expand(d.name);
  auto facts = std::make_shared<Facts>();
  LocalFacts(api, call->tenant, d, *facts);

  DistributedAsk ask;
  ask.operation = std::string(OperationOf(d.ask));
  if (d.ask == Ask::kTypeInfo) ask.types = {call->ctx->FindId(d.name, api.names_)};
  if (d.ask == Ask::kAttrInfo) ask.attrs = {call->ctx->FindId(d.name, api.names_)};
  NgsiLdApi::Impl::Distribution dist = api.Distribute(req, *call, ask);
  if (dist.plans.empty()) {
    Response r = RenderDiscovery(api, d, *facts, *call);
    AddWarnings(r, dist.warnings, dist.self);
    return r;
  }
  std::vector<ForwardRequest> requests;
  for (const SourcePlan& plan : dist.plans) {
    requests.push_back(BaseForward(*plan.reg, dist.fc, ForwardedTarget(req, *plan.reg)));
  }
  struct Later {
    DiscoveryAsk d;
    Call call;
    std::vector<SourcePlan> plans;
    std::vector<ForwardWarning> warnings;
    std::string self;
  };
  auto later = std::make_shared<Later>(Later{d, *call, std::move(dist.plans), std::move(dist.warnings), dist.self});
  Forwarder* forwarder = dist.forwarder;
  return AfterSources(forwarder, std::move(requests), [&api, later, facts](std::vector<ForwardOutcome>& outcomes) {
    for (size_t s = 0; s < outcomes.size(); ++s) {
      const ForwardOutcome& o = outcomes[s];
      const Registration& reg = *later->plans[s].reg;
      const bool info = later->d.ask == Ask::kTypeInfo || later->d.ask == Ask::kAttrInfo;
      if (o.answered() && o.status == 404 && info) continue;  // the source has none: no failure
      if (!o.answered() || o.status != 200) {
        later->warnings.push_back(OutcomeWarning(o, reg));
        continue;
      }
      boost::system::error_code ec;
      const json::value v = json::parse(o.body, ec);
      if (ec || !ReadSourceFacts(later->d.ask, v, *later->call.ctx, *facts)) {
        later->warnings.push_back({111, SourceName(reg), "registration " + reg.id + ": the answer is not NGSI-LD discovery"});
      }
      for (const std::string& w : o.warnings) {
        if (ValidHeaderValue(w)) later->warnings.push_back({0, "", "", w});  // a source's own failed sources
      }
    }
    Response answer = RenderDiscovery(api, later->d, *facts, later->call);
    AddWarnings(answer, later->warnings, later->self);
    return answer;
  });
}

}  // namespace

Response NgsiLdApi::Impl::ListTypes(Request& req, const PathParams& p) { return Discover(*this, req, p, {Ask::kTypes, {}, {}}); }
Response NgsiLdApi::Impl::GetType(Request& req, const PathParams& p) { return Discover(*this, req, p, {Ask::kTypeInfo, {}, {}}); }
Response NgsiLdApi::Impl::ListAttributes(Request& req, const PathParams& p) { return Discover(*this, req, p, {Ask::kAttrs, {}, {}}); }
Response NgsiLdApi::Impl::GetAttribute(Request& req, const PathParams& p) { return Discover(*this, req, p, {Ask::kAttrInfo, {}, {}}); }

}  // namespace citybed::broker
