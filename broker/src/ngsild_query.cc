// Queries (GET /entities, POST /entityOperations/query); discovery is in ngsild_discovery.cc.
#include <algorithm>
#include <map>
#include <set>

#include "citybed/common/strings.h"
#include "ngsild_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

constexpr std::string_view kQueryParams[] = {
    "type", "id", "idPattern", "attrs", "q", "georel", "geometry", "coordinates", "geoproperty",
    "geometryProperty", "limit", "offset", "count", "options", "format", "lang", "local", "csf",
    "scopeQ", "datasetId", "pick", "omit", "details"};

bool KnownParam(std::string_view name) {
  return std::find(std::begin(kQueryParams), std::end(kQueryParams), name) != std::end(kQueryParams);
}

struct Page {
  size_t limit = 0;
  size_t offset = 0;
  bool count = false;
};

Expected<Page, Problem> ReadPage(const Request& req, const ApiOptions& options) {
  Page page;
  page.limit = options.default_limit;
  if (const std::string* limit = req.FindParam("limit")) {
    size_t v;
    if (!ParseCount(*limit, v)) {
      return Unexpected(MakeProblem(ErrorType::kBadRequestData, "limit must be a non-negative integer"));
    }
    if (v > options.max_limit) {
      return Unexpected(MakeProblem(ErrorType::kTooManyResults, "limit " + *limit + " exceeds the maximum " +
                                                                    std::to_string(options.max_limit)));
    }
    page.limit = v;
  }
  if (const std::string* offset = req.FindParam("offset")) {
    if (!ParseCount(*offset, page.offset)) {
      return Unexpected(MakeProblem(ErrorType::kBadRequestData, "offset must be a non-negative integer"));
    }
  }
  if (const std::string* count = req.FindParam("count")) {
    if (*count != "true" && *count != "false") {
      return Unexpected(MakeProblem(ErrorType::kBadRequestData, "count must be true or false"));
    }
    page.count = *count == "true";
  }
  if (page.limit == 0 && !page.count) {
    return Unexpected(MakeProblem(ErrorType::kBadRequestData, "limit=0 is only meaningful with count=true"));
  }
  return page;
}

// Parses the type selection: "A,B" or "A|B" (any), "A;B" (all: entities with both types).
struct TypeSelection {
  std::vector<uint32_t> any;
  std::vector<uint32_t> all;
};

TypeSelection ParseTypes(std::string_view text, const Context& ctx, Interner& names) {
  TypeSelection sel;
  std::string normalized(text);
  std::replace(normalized.begin(), normalized.end(), '|', ',');
  for (const std::string& part : SplitList(normalized)) {
    std::string p = part;
    p.erase(std::remove_if(p.begin(), p.end(), [](char c) { return c == '(' || c == ')'; }), p.end());
    if (p.find(';') != std::string::npos) {
      for (std::string_view t : Split(p, ';')) {
        if (!Trim(t).empty()) sel.all.push_back(ctx.FindId(Trim(t), names));
      }
      if (!sel.all.empty()) sel.any.push_back(sel.all.front());
    } else {
      sel.any.push_back(ctx.FindId(p, names));
    }
  }
  return sel;
}

}  // namespace

void AddPageLinks(const Request& req, Response& r, size_t offset, size_t limit, bool has_next) {
  if (limit == 0) return;
  auto link = [&](size_t at, const char* rel) {
    std::string target = req.target.substr(0, req.target.find('?')) + "?";
    bool first = true;
    for (const auto& [k, v] : req.query) {
      if (k == "offset" || k == "limit") continue;
      target += (first ? "" : "&") + PercentEncode(k) + "=" + PercentEncode(v, ",;|:");
      first = false;
    }
    target += (first ? "" : "&") + std::string("limit=") + std::to_string(limit) + "&offset=" + std::to_string(at);
    return "<" + target + ">; rel=\"" + rel + "\"";
  };
  std::vector<std::string> links;
  if (const std::string* existing = r.FindHeader("Link")) links.push_back(*existing);
  if (has_next) links.push_back(link(offset + limit, "next"));
  if (offset > 0) links.push_back(link(offset > limit ? offset - limit : 0, "prev"));
  if (links.empty()) return;
  std::string joined;
  for (const std::string& l : links) joined += (joined.empty() ? "" : ", ") + l;
  r.SetHeader("Link", joined);
}

Response NgsiLdApi::Impl::RunQuery(const Request& req, const Call& call, EntityQuery& query, const Context& ctx,
                                   const Request* as_get, const std::string& not_forwarded) {
  auto page = ReadPage(req, options_);
  if (!page) return ProblemResponse(page.error());
  std::vector<uint32_t> projection;
  auto opts = ReadRenderOptions(req, ctx, projection);
  if (!opts) return ProblemResponse(opts.error());
  if (!query.attrs.empty()) opts->only_attrs = &query.attrs;
  opts->with_context = call.accept == AcceptKind::kLd;

  // A distributed query (4.3.6) when registered sources may hold matching entities, forwarded
  // as GET /entities (a POST query as its GET form: what every source understands).
  Distribution dist;
  if (as_get != nullptr) {
    DistributedAsk ask;
    ask.operation = "queryEntity";
    ask.types = query.filter.types;
    for (uint32_t t : query.all_types) ask.types.push_back(t);
    ask.ids = query.filter.ids;
    ask.id_pattern = query.id_pattern.get();
    ask.attrs = query.attrs;
    ask.geo = query.geo ? &*query.geo : nullptr;
    dist = Distribute(*as_get, call, ask);
  } else if (!not_forwarded.empty() && registrations_.HasTenant(call.tenant) &&
             !registrations_.List(call.tenant, {}).empty()) {
    std::lock_guard lock(forwarding_mu_);
    dist.self = via_name_;
    dist.warnings.push_back({199, dist.self.empty() ? "-" : dist.self, "not forwarded to registered sources: " + not_forwarded});
  }
  const bool distributed = !dist.plans.empty();

  if (query.geo) {
    GeoBox box;
    if (CandidateBox(*query.geo, box)) {
      query.filter.use_box = true;
      query.filter.box = box;
      query.filter.geoproperty = query.geoproperty;
    }
  }
  size_t matched = 0;
  std::vector<EntityPtr> results;
  const size_t want = page->offset + page->limit;
  store_.Scan(call.tenant, query.filter, [&](const EntityPtr& e) {
    if (query.id_pattern && !query.id_pattern->FullMatch(e->id)) return true;
    for (uint32_t t : query.all_types) {
      if (!e->HasType(t)) return true;
    }
    if (!query.selectors.empty()) {
      bool any = false;
      for (const EntitySelector& s : query.selectors) any = any || s.Matches(*e);
      if (!any) return true;
    }
    if (!query.attrs.empty()) {
      bool any = false;
      for (uint32_t a : query.attrs) any = any || e->HasAttribute(a);
      if (!any) return true;
    }
    if (query.q && !query.q->Matches(*e)) return true;
    if (query.geo) {
      const Attribute* g = e->Find(query.geoproperty);
      if (g == nullptr || g->kind != AttrKind::kGeoProperty) return true;
      auto geom = ParseGeoJson(g->value);
      if (!geom || !GeoMatches(*query.geo, *geom)) return true;
    }
    ++matched;
    // A distributed query merges from the start, so it keeps every local match up to the page's end.
    if (distributed ? matched <= want : (matched > page->offset && results.size() < page->limit)) results.push_back(e);
    return page->count || matched <= want;  // one past the page: is there a next one?
  });
  if (distributed) {
    std::vector<uint32_t> shown_attrs = opts->only_attrs ? *opts->only_attrs : std::vector<uint32_t>{};
    return DistributedQuery(req, call, std::move(dist), std::move(results), matched, matched > want, *opts,
                            std::move(shown_attrs), page->offset, page->limit, page->count);
  }
  std::vector<const Entity*> shown;
  shown.reserve(results.size());
  for (const EntityPtr& e : results) shown.push_back(e.get());
  Response r = QueryPage(req, call, *opts, shown, page->offset, page->limit, page->count, matched, matched > want, ctx);
  AddWarnings(r, dist.warnings, dist.self);
  return r;
}

Response NgsiLdApi::Impl::QueryPage(const Request& req, const Call& call, const RenderOptions& opts,
                                    const std::vector<const Entity*>& page, size_t offset, size_t limit, bool count,
                                    size_t total, bool has_next, const Context& ctx) {
  std::string body;
  body.reserve(64 + page.size() * 512);
  JsonWriter w(body);
  const Codec codec = MakeCodec(ctx);
  if (call.accept == AcceptKind::kGeo) {
    const std::string* gp = req.FindParam("geometryProperty");
    const uint32_t geo_name = ctx.FindId(gp ? *gp : "location", names_);
    w.BeginObject();
    w.Key("type");
    w.String("FeatureCollection");
    w.Key("features");
    w.BeginArray();
    RenderOptions inner = opts;
    inner.with_context = false;
    for (const Entity* e : page) RenderGeoJsonFeature(w, *e, geo_name, inner, codec);
    w.EndArray();
    w.EndObject();
  } else {
    w.BeginArray();
    for (const Entity* e : page) RenderEntity(w, *e, opts, codec);
    w.EndArray();
  }
  Response r = Json(200, std::move(body), call);
  if (count) r.SetHeader("NGSILD-Results-Count", std::to_string(total));
  // CIM 009, 5.5.9 and 6.3.10: links to the next and previous pages.
  AddPageLinks(req, r, offset, limit, has_next);
  return r;
}

Response NgsiLdApi::Impl::QueryEntities(Request& req, const PathParams&) {
  auto call = Prepare(req, {.allow_geo = true});
  if (!call) return ProblemResponse(call.error());
  for (const auto& [k, v] : req.query) {
    if (!KnownParam(k)) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "unknown parameter \"" + k + "\""));
  }
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  const Context& ctx = *call->ctx;
  EntityQuery query;
  const std::string* type = req.FindParam("type");
  const std::string* ids = req.FindParam("id");
  const std::string* id_pattern = req.FindParam("idPattern");
  const std::string* attrs = req.FindParam("attrs");
  const std::string* q = req.FindParam("q");
  const std::string* georel = req.FindParam("georel");
  const std::string* local = req.FindParam("local");
  // CIM 009 V1.9.1, 5.7.2.4: ids alone do not make a query (too wide).
  if (!type && !attrs && !q && !georel && !(local && *local == "true")) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData,
                                       "too wide a query: give at least one of type, attrs, q, a geo-query or local=true"));
  }
  if (type) {
    TypeSelection sel = ParseTypes(*type, ctx, names_);
    query.filter.types = sel.any;
    query.all_types = sel.all;
  }
  if (ids) {
    query.filter.ids = SplitList(*ids);
    for (const std::string& id : query.filter.ids) {
      if (!IsUri(id)) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "id " + id + " is not a URI"));
    }
  }
  if (id_pattern) {
    auto re = Pattern::Compile(*id_pattern);
    if (!re) {
      return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "idPattern is not a valid regular expression: " + re.error()));
    }
    query.id_pattern = *re;
  }
  if (attrs) for (const std::string& a : SplitList(*attrs)) query.attrs.push_back(ctx.FindId(a, names_));
  if (q) {
    auto parsed = Query::Parse(*q);
    if (!parsed) return ProblemResponse(parsed.error());
    parsed->Bind(ctx, names_, /*intern=*/false);
    query.q = std::move(*parsed);
  }
  if (georel || req.FindParam("geometry") || req.FindParam("coordinates")) {
    auto param = [&](const char* n) -> std::string_view {
      const std::string* v = req.FindParam(n);
      return v ? std::string_view(*v) : std::string_view();
    };
    auto geo = ParseGeoQuery(param("georel"), param("geometry"), param("coordinates"), param("geoproperty"));
    if (!geo) return ProblemResponse(geo.error());
    query.geoproperty = ctx.FindId(geo->geoproperty, names_);
    query.geo = std::move(*geo);
  }
  return RunQuery(req, *call, query, ctx, &req);
}

Response NgsiLdApi::Impl::QueryPost(Request& req, const PathParams&) {
  auto call = Prepare(req, {.has_body = true, .allow_geo = true});
  if (!call) return ProblemResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a query must be a JSON object"));
  const json::object& o = body->get_object();
  auto ctx_result = PayloadContext(o, *call);
  if (!ctx_result) return ProblemResponse(ctx_result.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  const Context& ctx = **ctx_result;
  if (const json::value* t = o.if_contains("type"); t && (!t->is_string() || t->get_string() != "Query")) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a query's type must be \"Query\""));
  }
  EntityQuery query;
  if (const json::value* ents = o.if_contains("entities")) {
    if (!ents->is_array()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "entities must be an array"));
    bool all_typed = true;
    for (const auto& e : ents->get_array()) {
      if (!e.is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "entities items must be objects"));
      EntitySelector sel;
      const auto& eo = e.get_object();
      if (const json::value* t = eo.if_contains("type"); t && t->is_string()) sel.type = ctx.FindId(t->get_string(), names_);
      if (const json::value* id = eo.if_contains("id"); id && id->is_string()) sel.id = std::string(id->get_string());
      if (const json::value* p = eo.if_contains("idPattern"); p && p->is_string()) {
        auto re = Pattern::Compile(p->get_string());
        if (!re) {
          return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "idPattern is not a valid regular expression: " + re.error()));
        }
        sel.id_regex = *re;
      }
      if (sel.type == 0) all_typed = false; else query.filter.types.push_back(sel.type);
      query.selectors.push_back(std::move(sel));
    }
    if (!all_typed) query.filter.types.clear();
  }
  if (const json::value* attrs = o.if_contains("attrs")) {
    if (!attrs->is_array()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "attrs must be an array"));
    for (const auto& a : attrs->get_array()) {
      if (a.is_string()) query.attrs.push_back(ctx.FindId(a.get_string(), names_));
    }
  }
  if (const json::value* q = o.if_contains("q")) {
    if (!q->is_string()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "q must be a string"));
    auto parsed = Query::Parse(q->get_string());
    if (!parsed) return ProblemResponse(parsed.error());
    parsed->Bind(ctx, names_, /*intern=*/false);
    query.q = std::move(*parsed);
  }
  if (const json::value* g = o.if_contains("geoQ")) {
    auto geo = ParseGeoQueryObject(*g);
    if (!geo) return ProblemResponse(geo.error());
    query.geoproperty = ctx.FindId(geo->geoproperty, names_);
    query.geo = std::move(*geo);
  }
  if (query.selectors.empty() && query.attrs.empty() && !query.q && !query.geo) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData,
                                       "a query needs at least one of entities, attrs, q or geoQ"));
  }
  // Forwarded as its GET form, under the context the body's terms are in: that context must
  // have a URL to name in the forwarded requests' Link header.
  Call as_call = *call;
  as_call.ctx = *ctx_result;
  auto params = QueryBodyAsParams(o);
  if (params && !ctx.is_core() && ctx.link_url().empty()) {
    params = Unexpected(std::string("the query's @context has no URL to name to the sources"));
  }
  if (!params) return RunQuery(req, as_call, query, ctx, nullptr, params.error());
  Request as_get = req;
  as_get.method = Method::kGet;
  as_get.body.clear();
  for (auto& kv : *params) as_get.query.push_back(std::move(kv));
  return RunQuery(req, as_call, query, ctx, &as_get);
}

}  // namespace citybed::broker
