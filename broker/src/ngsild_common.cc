#include <algorithm>

#include "citybed/common/strings.h"
#include "ngsild_internal.h"
#include "json_parse.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

// The Link header's context URL: <url>; rel="http://www.w3.org/ns/json-ld#context"
Expected<std::string, Problem> LinkContext(std::string_view link) {
  for (std::string_view part : Split(link, ',')) {
    part = Trim(part);
    if (part.empty() || part.front() != '<') continue;
    const size_t close = part.find('>');
    if (close == std::string_view::npos) break;
    const std::string_view params = part.substr(close + 1);
    if (params.find("json-ld#context") == std::string_view::npos) continue;
    return std::string(part.substr(1, close - 1));
  }
  return Unexpected(MakeProblem(ErrorType::kBadRequestData,
                                "the Link header names no JSON-LD context (rel=\"http://www.w3.org/ns/json-ld#context\")"));
}

}  // namespace

std::vector<uint32_t> AllAttributeNames(const Entity& e) {
  std::vector<uint32_t> out;
  for (const Attribute& a : e.attrs) {
    if (std::find(out.begin(), out.end(), a.name) == out.end()) out.push_back(a.name);
  }
  return out;
}

std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  for (std::string_view part : Split(s, ',')) {
    part = Trim(part);
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

bool ParseCount(std::string_view s, size_t& out) {
  if (s.empty() || s.size() > 9) return false;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  out = v;
  return true;
}

Expected<Call, Problem> NgsiLdApi::Impl::Prepare(const Request& req, const CallOptions& opts) {
  Call call;
  if (const std::string* t = req.FindHeader("NGSILD-Tenant")) {
    if (!ValidTenantName(*t)) {
      return Unexpected(MakeProblem(ErrorType::kBadRequestData,
                                    "invalid NGSILD-Tenant \"" + *t + "\" (letters, digits, - _ . up to 64)"));
    }
    call.tenant = *t;
  }
  // Accept.
  call.accept = AcceptKind::kJson;
  if (const std::string* accept = req.FindHeader("Accept")) {
    bool acceptable = false;
    for (std::string_view item : Split(*accept, ',')) {
      const std::string_view type = MediaType(item);
      if (item.find("q=0") != std::string_view::npos && item.find("q=0.") == std::string_view::npos) continue;
      if (type == "application/ld+json") {
        call.accept = AcceptKind::kLd;
        acceptable = true;
        break;
      }
      if (type == "application/geo+json" && opts.allow_geo) {
        call.accept = AcceptKind::kGeo;
        acceptable = true;
        break;
      }
      if (type == "application/json" || type == "*/*" || type == "application/*") {
        acceptable = true;
        break;
      }
    }
    if (!acceptable) {
      return Unexpected(MakeProblem(ErrorType::kInvalidRequest,
                                    "cannot answer in " + *accept +
                                        " (acceptable: application/json, application/ld+json" +
                                        (opts.allow_geo ? ", application/geo+json)" : ")"),
                                    406));
    }
  }
  // Content-Type.
  if (opts.has_body) {
    const std::string* ct = req.FindHeader("Content-Type");
    const std::string_view type = ct ? MediaType(*ct) : std::string_view();
    if (type == "application/ld+json") {
      call.ld_body = true;
    } else if (type == "application/json" || (opts.allow_merge_patch && type == "application/merge-patch+json")) {
      call.ld_body = false;
    } else {
      return Unexpected(MakeProblem(ErrorType::kInvalidRequest,
                                    ct ? "unsupported Content-Type " + *ct + " (use application/json or application/ld+json)"
                                       : std::string("a body needs a Content-Type (application/json or application/ld+json)"),
                                    415));
    }
  }
  // Context: the Link header. With an application/ld+json body it is an error (6.3.5).
  call.ctx = contexts_.Core();
  if (call.ld_body && req.FindHeader("Link") != nullptr) {
    return Unexpected(MakeProblem(ErrorType::kBadRequestData,
                                  "an application/ld+json request carries its @context in the body, not in a Link header"));
  }
  if (const std::string* link = req.FindHeader("Link"); link && !call.ld_body) {
    auto url = LinkContext(*link);
    if (!url) return Unexpected(std::move(url).error());
    auto ctx = contexts_.FromUrl(*url);
    if (!ctx) return Unexpected(std::move(ctx).error());
    call.ctx = *ctx;
  }
  return call;
}

Expected<json::value, Problem> NgsiLdApi::Impl::ParseBody(const Request& req) {
  if (req.body.empty()) return Unexpected(MakeProblem(ErrorType::kInvalidRequest, "the request has no body"));
  boost::system::error_code ec;
  json::parse_options po;
  po.max_depth = 64;
  // One arena per request: the parsed tree is freed at once. Long-lived copies (entity
  // values) are made by assignment, which allocates from the destination's default resource.
  json::value v = ParseJson(
      req.body, ec, json::make_shared_resource<json::monotonic_resource>(std::max<size_t>(1024, req.body.size() * 2)), po);
  if (ec) return Unexpected(MakeProblem(ErrorType::kInvalidRequest, "the body is not valid JSON: " + ec.message()));
  return v;
}

Expected<ContextPtr, Problem> NgsiLdApi::Impl::PayloadContext(const json::object& body, const Call& call) {
  const json::value* ctx = body.if_contains("@context");
  if (call.ld_body) {
    if (ctx == nullptr) {
      return Unexpected(MakeProblem(ErrorType::kBadRequestData,
                                    "an application/ld+json payload must carry an \"@context\""));
    }
    return contexts_.FromJson(*ctx);
  }
  if (ctx != nullptr) {
    return Unexpected(MakeProblem(ErrorType::kBadRequestData,
                                  "an application/json payload must not carry \"@context\" (use application/ld+json, or a Link header)"));
  }
  return call.ctx;
}

Response NgsiLdApi::Impl::Json(int status, std::string body, const Call& call) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  if (call.accept == AcceptKind::kLd) {
    r.SetHeader("Content-Type", "application/ld+json");
  } else {
    r.SetHeader("Content-Type", call.accept == AcceptKind::kGeo ? "application/geo+json" : "application/json");
    r.SetHeader("Link", call.ctx->link_header());
  }
  return r;
}

bool NgsiLdApi::Impl::TenantExists(const std::string& tenant) const {
  return tenant.empty() || store_.HasTenant(tenant) || subs_.HasTenant(tenant) || registrations_.HasTenant(tenant);
}

Problem NgsiLdApi::Impl::TenantMissing(const std::string& tenant) const {
  return MakeProblem(ErrorType::kNonexistentTenant, "tenant \"" + tenant + "\" does not exist");
}

Expected<RenderOptions, Problem> NgsiLdApi::Impl::ReadRenderOptions(const Request& req, const Context& ctx,
                                                                    std::vector<uint32_t>& attrs_storage) {
  RenderOptions o;
  if (const std::string* options = req.FindParam("options")) {
    for (const std::string& opt : SplitList(*options)) {
      if (opt == "keyValues" || opt == "simplified") o.format = Format::kKeyValues;
      else if (opt == "concise") o.format = Format::kConcise;
      else if (opt == "normalized") o.format = Format::kNormalized;
      else if (opt == "sysAttrs") o.sys_attrs = true;
      else if (opt == "noOverwrite" || opt == "replace" || opt == "update") continue;
      else return Unexpected(MakeProblem(ErrorType::kBadRequestData, "unknown option \"" + opt + "\""));
    }
  }
  if (const std::string* format = req.FindParam("format")) {
    if (*format == "keyValues" || *format == "simplified") o.format = Format::kKeyValues;
    else if (*format == "concise") o.format = Format::kConcise;
    else if (*format == "normalized") o.format = Format::kNormalized;
    else return Unexpected(MakeProblem(ErrorType::kBadRequestData, "unknown format \"" + *format + "\""));
  }
  // attrs= and pick= (4.21) project onto the listed attributes, omit= leaves some out; the
  // entity members id and type are always rendered.
  for (const char* param : {"attrs", "pick"}) {
    if (const std::string* list = req.FindParam(param)) {
      for (const std::string& a : SplitList(*list)) {
        if (a != "id" && a != "type") attrs_storage.push_back(ctx.FindId(a, names_));
      }
    }
  }
  if (!attrs_storage.empty()) o.only_attrs = &attrs_storage;
  if (const std::string* pick = req.FindParam("pick")) {
    const auto members = SplitList(*pick);
    o.omit_id = std::find(members.begin(), members.end(), "id") == members.end();
    o.omit_type = std::find(members.begin(), members.end(), "type") == members.end();
    if (attrs_storage.empty()) {  // only id and/or type picked: no attribute
      attrs_storage.push_back(0);
      o.only_attrs = &attrs_storage;
    }
  }
  if (const std::string* omit = req.FindParam("omit")) {
    for (const std::string& a : SplitList(*omit)) {
      if (a == "id") o.omit_id = true;
      else if (a == "type") o.omit_type = true;
      else o.omit_attrs.push_back(ctx.FindId(a, names_));
    }
  }
  if (const std::string* lang = req.FindParam("lang")) o.lang = *lang;
  return o;
}

NgsiLdApi::Impl::AttrOutcome NgsiLdApi::Impl::ApplyAttributes(Entity& e, std::vector<Attribute> attrs, AttrMode mode,
                                                              int64_t now) {
  AttrOutcome out;
  for (Attribute& a : attrs) {
    const bool is_null = a.value.is_string() && a.value.get_string() == kNullUri;
    Attribute* existing = e.FindMutable(a.name, a.dataset_id);
    if (mode == AttrMode::kMerge && is_null) {  // NGSI-LD null: delete the attribute
      if (existing != nullptr) {
        const uint32_t name = a.name, ds = a.dataset_id;
        e.attrs.erase(std::remove_if(e.attrs.begin(), e.attrs.end(),
                                     [&](const Attribute& x) { return x.name == name && x.dataset_id == ds; }),
                      e.attrs.end());
        out.updated.push_back(name);
      }
      continue;
    }
    if (existing == nullptr) {
      if (mode == AttrMode::kUpdateOnly) {
        out.not_updated.emplace_back(a.name, "attribute does not exist");
        continue;
      }
      out.updated.push_back(a.name);
      e.attrs.push_back(std::move(a));
      continue;
    }
    if (mode == AttrMode::kAppendNoOverwrite) {
      out.not_updated.emplace_back(a.name, "attribute exists and noOverwrite was requested");
      continue;
    }
    a.created_at = existing->created_at;
    a.modified_at = now;
    if (mode == AttrMode::kMerge && a.kind == existing->kind) {
      // Merge: members given replace, sub-attributes merge, the rest is kept.
      if (a.observed_at == kNoTime) a.observed_at = existing->observed_at;
      if (a.unit_code == 0) a.unit_code = existing->unit_code;
      for (const Attribute& old_sub : existing->sub) {
        if (a.FindSub(old_sub.name) == nullptr) a.sub.push_back(old_sub);
      }
    }
    out.updated.push_back(a.name);
    *existing = std::move(a);
  }
  if (!out.updated.empty()) e.modified_at = now;
  return out;
}

Response NgsiLdApi::Impl::AttrOutcomeResponse(const AttrOutcome& out, const Call& call, const Context& ctx) {
  if (out.not_updated.empty()) {
    Response r;
    r.status = 204;
    return r;
  }
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  w.Key("updated");
  w.BeginArray();
  for (uint32_t n : out.updated) w.String(ctx.CompactId(n, names_));
  w.EndArray();
  w.Key("notUpdated");
  w.BeginArray();
  for (const auto& [n, reason] : out.not_updated) {
    w.BeginObject();
    w.Key("attributeName");
    w.String(ctx.CompactId(n, names_));
    w.Key("reason");
    w.String(reason);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return Json(207, std::move(body), call);
}

Expected<NgsiLdApi::Impl::ListPageSpec, Problem> NgsiLdApi::Impl::ReadListPage(const Request& req) const {
  ListPageSpec page{options_.default_limit, 0};
  if (const std::string* l = req.FindParam("limit")) {
    if (!ParseCount(*l, page.limit)) return Unexpected(MakeProblem(ErrorType::kBadRequestData, "limit must be a non-negative integer"));
    if (page.limit > options_.max_limit) {
      return Unexpected(MakeProblem(ErrorType::kTooManyResults, "limit exceeds the maximum " + std::to_string(options_.max_limit)));
    }
  }
  if (const std::string* o = req.FindParam("offset")) {
    if (!ParseCount(*o, page.offset)) return Unexpected(MakeProblem(ErrorType::kBadRequestData, "offset must be a non-negative integer"));
  }
  return page;
}

Response NgsiLdApi::Impl::ListPage(const Request& req, const Call& call, const ListPageSpec& page, size_t total,
                                   const std::function<void(JsonWriter&, size_t)>& render) {
  std::string body;
  JsonWriter w(body);
  w.BeginArray();
  for (size_t i = page.offset; i < total && i < page.offset + page.limit; ++i) render(w, i);
  w.EndArray();
  Response r = Json(200, std::move(body), call);
  if (const std::string* c = req.FindParam("count"); c && *c == "true") r.SetHeader("NGSILD-Results-Count", std::to_string(total));
  AddPageLinks(req, r, page.offset, page.limit, total > page.offset + page.limit);
  return r;
}

NgsiLdApi::NgsiLdApi(Store& store, ContextResolver& contexts, Interner& names, SubscriptionManager& subs,
                     RegistrationManager& registrations, ApiOptions options, SubscriptionManager* csource_subs)
    : impl_(std::make_shared<Impl>(store, contexts, names, subs, registrations, options)) {
  impl_->csource_subs_ = csource_subs;
}

void NgsiLdApi::EnableForwarding(Forwarder* forwarder, std::string via_name) {
  impl_->EnableForwarding(forwarder, std::move(via_name));
}

void NgsiLdApi::Register(Router& router) {
  auto bind = [impl = impl_](Response (Impl::*fn)(Request&, const PathParams&)) {
    return [impl, fn](Request& r, const PathParams& p) { return ((*impl).*fn)(r, p); };
  };
  // Writes that registered context sources may concern (4.3.6.3), by their 4.20 names.
  auto write = [impl = impl_](Impl::LocalWrite fn, std::string_view operation) {
    return [impl, fn, operation](Request& r, const PathParams& p) { return impl->DistributedWrite(r, p, operation, fn); };
  };
  auto batch = [impl = impl_](Impl::LocalWrite fn, std::string_view operation) {
    return [impl, fn, operation](Request& r, const PathParams& p) { return impl->DistributedBatch(r, p, operation, fn); };
  };
  const std::string base = "/ngsi-ld/v1";
  router.Add(Method::kPost, base + "/entities", write(&Impl::CreateEntity, "createEntity"));
  router.Add(Method::kGet, base + "/entities", bind(&Impl::QueryEntities));
  router.Add(Method::kGet, base + "/entities/{entityId}", bind(&Impl::RetrieveEntity));
  router.Add(Method::kDelete, base + "/entities/{entityId}", write(&Impl::DeleteEntity, "deleteEntity"));
  router.Add(Method::kPut, base + "/entities/{entityId}", write(&Impl::ReplaceEntity, "replaceEntity"));
  router.Add(Method::kPatch, base + "/entities/{entityId}", write(&Impl::MergeEntity, "mergeEntity"));
  router.Add(Method::kPost, base + "/entities/{entityId}/attrs", write(&Impl::AppendAttrs, "appendAttrs"));
  router.Add(Method::kPatch, base + "/entities/{entityId}/attrs", write(&Impl::UpdateAttrs, "updateEntity"));
  router.Add(Method::kPatch, base + "/entities/{entityId}/attrs/{attrId}", write(&Impl::PartialAttrUpdate, "updateAttrs"));
  router.Add(Method::kPut, base + "/entities/{entityId}/attrs/{attrId}", write(&Impl::ReplaceAttr, "replaceAttrs"));
  router.Add(Method::kDelete, base + "/entities/{entityId}/attrs/{attrId}", write(&Impl::DeleteAttr, "deleteAttrs"));
  router.Add(Method::kPost, base + "/entityOperations/create", batch(&Impl::BatchCreate, "createBatch"));
  router.Add(Method::kPost, base + "/entityOperations/upsert", batch(&Impl::BatchUpsert, "upsertBatch"));
  router.Add(Method::kPost, base + "/entityOperations/update", batch(&Impl::BatchUpdate, "updateBatch"));
  router.Add(Method::kPost, base + "/entityOperations/delete", batch(&Impl::BatchDelete, "deleteBatch"));
  router.Add(Method::kPost, base + "/entityOperations/merge", batch(&Impl::BatchMerge, "mergeBatch"));
  router.Add(Method::kPost, base + "/entityOperations/query", bind(&Impl::QueryPost));
  router.Add(Method::kGet, base + "/types", bind(&Impl::ListTypes));
  router.Add(Method::kGet, base + "/types/{type}", bind(&Impl::GetType));
  router.Add(Method::kGet, base + "/attributes", bind(&Impl::ListAttributes));
  router.Add(Method::kGet, base + "/attributes/{attrId}", bind(&Impl::GetAttribute));
  // Subscriptions, and context source registration subscriptions when there is a manager for them.
  auto subscriptions = [impl = impl_](Response (Impl::*fn)(Request&, const PathParams&, bool), bool csource) {
    return [impl, fn, csource](Request& r, const PathParams& p) { return ((*impl).*fn)(r, p, csource); };
  };
  for (const bool csource : {false, true}) {
    if (csource && impl_->csource_subs_ == nullptr) continue;
    const std::string at = base + (csource ? "/csourceSubscriptions" : "/subscriptions");
    router.Add(Method::kPost, at, subscriptions(&Impl::CreateSubscription, csource));
    router.Add(Method::kGet, at, subscriptions(&Impl::ListSubscriptions, csource));
    router.Add(Method::kGet, at + "/{subscriptionId}", subscriptions(&Impl::GetSubscription, csource));
    router.Add(Method::kPatch, at + "/{subscriptionId}", subscriptions(&Impl::UpdateSubscription, csource));
    router.Add(Method::kDelete, at + "/{subscriptionId}", subscriptions(&Impl::DeleteSubscription, csource));
  }
  router.Add(Method::kPost, base + "/csourceRegistrations", bind(&Impl::CreateRegistration));
  router.Add(Method::kGet, base + "/csourceRegistrations", bind(&Impl::ListRegistrations));
  router.Add(Method::kGet, base + "/csourceRegistrations/{registrationId}", bind(&Impl::GetRegistration));
  router.Add(Method::kPatch, base + "/csourceRegistrations/{registrationId}", bind(&Impl::UpdateRegistration));
  router.Add(Method::kDelete, base + "/csourceRegistrations/{registrationId}", bind(&Impl::DeleteRegistration));
  router.Add(Method::kPost, base + "/jsonldContexts", bind(&Impl::AddContext));
  router.Add(Method::kGet, base + "/jsonldContexts", bind(&Impl::ListContexts));
  router.Add(Method::kGet, base + "/jsonldContexts/{contextId}", bind(&Impl::ServeContext));
  router.Add(Method::kDelete, base + "/jsonldContexts/{contextId}", bind(&Impl::DeleteContext));
  // What CIM 009 V1.9.1 defines and this broker does not implement: 501 with a ProblemDetails
  // body (OperationNotSupported), so that a client (and citybed conformance) can tell a missing
  // feature from a missing resource.
  auto not_implemented = [](std::string what) {
    return [what = std::move(what)](Request&, const PathParams&) {
      return ProblemResponse(MakeProblem(ErrorType::kOperationNotSupported,
                                         what + " is not implemented by citybed's broker", 501));
    };
  };
  const std::pair<Method, std::string> kNotImplemented[] = {
      {Method::kDelete, "/entities"},
      {Method::kGet, "/temporal/entities"},
      {Method::kPost, "/temporal/entities"},
      {Method::kGet, "/temporal/entities/{entityId}"},
      {Method::kDelete, "/temporal/entities/{entityId}"},
      {Method::kPost, "/temporal/entities/{entityId}/attrs"},
      {Method::kDelete, "/temporal/entities/{entityId}/attrs/{attrId}"},
      {Method::kPatch, "/temporal/entities/{entityId}/attrs/{attrId}/{instanceId}"},
      {Method::kDelete, "/temporal/entities/{entityId}/attrs/{attrId}/{instanceId}"},
      {Method::kPost, "/temporal/entityOperations/query"},
      {Method::kGet, "/entityMaps/{entityMapId}"},
      {Method::kPatch, "/entityMaps/{entityMapId}"},
      {Method::kDelete, "/entityMaps/{entityMapId}"},
      {Method::kGet, "/info/sourceIdentity"},
  };
  for (const auto& [method, path] : kNotImplemented) {
    router.Add(method, base + path, not_implemented(std::string(ToString(method)) + " " + base + path));
  }
  if (impl_->csource_subs_ == nullptr) {
    for (const auto& [method, path] : std::vector<std::pair<Method, std::string>>{
             {Method::kPost, "/csourceSubscriptions"},
             {Method::kGet, "/csourceSubscriptions"},
             {Method::kGet, "/csourceSubscriptions/{subscriptionId}"},
             {Method::kPatch, "/csourceSubscriptions/{subscriptionId}"},
             {Method::kDelete, "/csourceSubscriptions/{subscriptionId}"}}) {
      router.Add(method, base + path, not_implemented(std::string(ToString(method)) + " " + base + path));
    }
  }
}

}  // namespace citybed::broker
