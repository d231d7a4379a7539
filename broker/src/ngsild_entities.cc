// Entity operations: create, retrieve, delete, replace, merge, and the attribute operations.
#include <optional>

#include "citybed/common/strings.h"
#include "ngsild_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

Response NoContent() {
  Response r;
  r.status = 204;
  return r;
}

Problem NotFound(const std::string& id) {
  return MakeProblem(ErrorType::kResourceNotFound, "entity " + id + " does not exist");
}

// CIM 009, 5.6 and 5.7: an entity id in the path that is not a URI is BadRequestData.
std::optional<Problem> BadEntityId(const std::string& id) {
  if (IsUri(id)) return std::nullopt;
  return MakeProblem(ErrorType::kBadRequestData, "entity id \"" + id + "\" is not a URI");
}

// ?type=... in the path of an entity operation: the entity must have one of them (else it is
// not the entity the request means: 404, 5.6.2.4).
bool TypeMatches(const Request& req, const Entity& e, const Context& ctx, Interner& names) {
  const std::string* type = req.FindParam("type");
  if (type == nullptr) return true;
  for (const std::string& t : SplitList(*type)) {
    if (e.HasType(ctx.FindId(t, names))) return true;
  }
  return false;
}

}  // namespace

Response NgsiLdApi::Impl::CreateEntity(Request& req, const PathParams&) {
  auto call = Prepare(req, {.has_body = true});
  if (!call) return ProblemResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "an entity must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  const int64_t now = UnixMicrosNow();
  auto parsed = ParseEntity(body->get_object(), MakeCodec(**ctx), now);
  if (!parsed) return ProblemResponse(parsed.error());
  if (ContainsNgsiLdNull(*parsed)) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "urn:ngsi-ld:null may only appear in partial updates and merges"));
  }
  auto entity = std::make_shared<const Entity>(std::move(*parsed));
  const std::string id = entity->id;
  auto change = store_.Mutate(call->tenant, id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    if (current) return Unexpected(MakeProblem(ErrorType::kAlreadyExists, "entity " + id + " already exists"));
    return EntityPtr(entity);
  });
  if (!change) return ProblemResponse(change.error());
  Notify(call->tenant, *change, AllAttributeNames(*entity));
  Response r;
  r.status = 201;
  r.SetHeader("Location", "/ngsi-ld/v1/entities/" + PercentEncode(id, ":"));
  return r;
}

Response NgsiLdApi::Impl::RetrieveEntity(Request& req, const PathParams& p) {
  auto call = Prepare(req, {.allow_geo = true});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  const std::string& id = p.Get("entityId");
  if (auto bad = BadEntityId(id)) return ProblemResponse(*bad);
  std::vector<uint32_t> attrs;
  auto opts = ReadRenderOptions(req, *call->ctx, attrs);
  if (!opts) return ProblemResponse(opts.error());
  if (req.FindParam("geometryProperty") && call->accept != AcceptKind::kGeo) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "geometryProperty needs Accept: application/geo+json"));
  }
  opts->with_context = call->accept == AcceptKind::kLd;
  EntityPtr e = store_.Get(call->tenant, id);
  // A distributed retrieve (5.7.1.4) when registered sources may hold this entity.
  DistributedAsk ask;
  ask.operation = "retrieveEntity";
  ask.ids = {id};
  for (uint32_t a : attrs) {
    if (a != 0) ask.attrs.push_back(a);  // 0: pick= of id or type only
  }
  if (const std::string* type = req.FindParam("type")) {
    for (const std::string& t : SplitList(*type)) ask.types.push_back(call->ctx->FindId(t, names_));
  }
  Distribution dist = Distribute(req, *call, ask);
  if (!dist.plans.empty()) return DistributedRetrieve(req, *call, std::move(dist), std::move(e), id, *opts, std::move(attrs));
  Response r = FinishRetrieve(req, *call, e.get(), id, *opts, attrs);
  AddWarnings(r, dist.warnings, dist.self);
  return r;
}

Response NgsiLdApi::Impl::FinishRetrieve(const Request& req, const Call& call, const Entity* e, const std::string& id,
                                         const RenderOptions& opts, const std::vector<uint32_t>& attrs) {
  if (e == nullptr) return ProblemResponse(NotFound(id));
  if (!attrs.empty()) {  // 5.7.1.4: none of the asked attributes: ResourceNotFound
    bool any = false;
    for (uint32_t a : attrs) any = any || e->HasAttribute(a);
    if (!any) return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "entity " + id + " has none of the attributes asked for"));
  }
  if (const std::string* type = req.FindParam("type")) {
    bool any = false;
    for (const std::string& t : SplitList(*type)) any = any || e->HasType(call.ctx->FindId(t, names_));
    if (!any) return ProblemResponse(MakeProblem(ErrorType::kResourceNotFound, "entity " + id + " is not of type " + *type));
  }
  std::string body;
  body.reserve(512);
  JsonWriter w(body);
  if (call.accept == AcceptKind::kGeo) {
    const std::string* gp = req.FindParam("geometryProperty");
    RenderGeoJsonFeature(w, *e, call.ctx->FindId(gp ? *gp : "location", names_), opts, MakeCodec(*call.ctx));
  } else {
    RenderEntity(w, *e, opts, MakeCodec(*call.ctx));
  }
  return Json(200, std::move(body), call);
}

Response NgsiLdApi::Impl::DeleteEntity(Request& req, const PathParams& p) {
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  const std::string& id = p.Get("entityId");
  if (auto bad = BadEntityId(id)) return ProblemResponse(*bad);
  auto change = store_.Mutate(call->tenant, id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    if (!current) return Unexpected(NotFound(id));
    return EntityPtr(nullptr);
  });
  if (!change) return ProblemResponse(change.error());
  Notify(call->tenant, *change, AllAttributeNames(*change->before));
  return NoContent();
}

Response NgsiLdApi::Impl::ReplaceEntity(Request& req, const PathParams& p) {
  auto call = Prepare(req, {.has_body = true});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "an entity must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  const std::string& id = p.Get("entityId");
  if (auto bad = BadEntityId(id)) return ProblemResponse(*bad);
  const int64_t now = UnixMicrosNow();
  auto parsed = ParseEntity(body->get_object(), MakeCodec(**ctx), now, false, false);
  if (!parsed) return ProblemResponse(parsed.error());
  if (ContainsNgsiLdNull(*parsed)) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "urn:ngsi-ld:null may only appear in partial updates and merges"));
  }
  if (!parsed->id.empty() && parsed->id != id) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "the body's id differs from the URL's " + id));
  }
  parsed->id = id;
  auto change = store_.Mutate(call->tenant, id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    if (!current) return Unexpected(NotFound(id));
    auto next = std::make_shared<Entity>(*parsed);
    if (next->types.empty()) next->types = current->types;
    next->created_at = current->created_at;
    next->v2_id = current->v2_id;  // the NGSI-v2 identity stays (ngsiv2_mapping.h)
    next->service_path = current->service_path;
    return EntityPtr(next);
  });
  if (!change) return ProblemResponse(change.error());
  Notify(call->tenant, *change, AllAttributeNames(*change->after));
  return NoContent();
}

Response NgsiLdApi::Impl::MergeEntity(Request& req, const PathParams& p) {
  auto call = Prepare(req, {.has_body = true, .allow_merge_patch = true});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "a merge patch must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  const std::string& id = p.Get("entityId");
  if (auto bad = BadEntityId(id)) return ProblemResponse(*bad);
  if (const json::value* bid = body->get_object().if_contains("id"); bid && (!bid->is_string() || bid->get_string() != id)) {
    return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "the body's id differs from the URL's " + id));
  }
  if (auto merged = MergeOne(call->tenant, id, body->get_object(), *ctx, {}); !merged) return ProblemResponse(merged.error());
  return NoContent();
}

Expected<void, Problem> NgsiLdApi::Impl::MergeOne(const std::string& tenant, const std::string& id,
                                                  const json::object& body, const ContextPtr& ctx,
                                                  const std::vector<uint32_t>& types) {
  const int64_t now = UnixMicrosNow();
  const Codec codec = MakeCodec(*ctx);
  if (auto check = ParseAttributes(body, codec, now); !check) return Unexpected(check.error());
  std::vector<uint32_t> touched;
  auto change = store_.Mutate(tenant, id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    if (!current) return Unexpected(NotFound(id));
    // CIM 009, 5.6.17.4: an attribute given in the simplified representation keeps the type
    // of the attribute it merges into.
    json::object fragment = body;
    for (auto& kv : fragment) {
      if (kv.value().is_object() && kv.value().get_object().contains("type")) continue;
      if (kv.value().is_string() && kv.value().get_string() == kNullUri) continue;
      const Attribute* existing = current->Find(ctx->FindId(kv.key(), names_));  // interned by the check above
      if (existing == nullptr || existing->kind == AttrKind::kProperty) continue;
      json::object full;
      full["type"] = std::string(ToString(existing->kind));
      full[std::string(ValueMember(existing->kind))] = kv.value();
      kv.value() = std::move(full);
    }
    auto attrs = ParseAttributes(fragment, codec, now);
    if (!attrs) return Unexpected(std::move(attrs).error());
    auto next = std::make_shared<Entity>(*current);
    for (uint32_t t : types) {
      if (!next->HasType(t)) next->types.push_back(t);
    }
    auto out = ApplyAttributes(*next, std::move(*attrs), AttrMode::kMerge, now);
    touched = out.updated;
    next->modified_at = now;
    return EntityPtr(next);
  });
  if (!change) return Unexpected(change.error());
  Notify(tenant, *change, touched);
  return {};
}

Response NgsiLdApi::Impl::AppendAttrs(Request& req, const PathParams& p) {
  auto call = Prepare(req, {.has_body = true});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "the attributes must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  bool no_overwrite = false;
  if (const std::string* options = req.FindParam("options")) {
    for (const std::string& o : SplitList(*options)) no_overwrite = no_overwrite || o == "noOverwrite";
  }
  const std::string& id = p.Get("entityId");
  if (auto bad = BadEntityId(id)) return ProblemResponse(*bad);
  const int64_t now = UnixMicrosNow();
  auto attrs = ParseAttributes(body->get_object(), MakeCodec(**ctx), now);
  if (!attrs) return ProblemResponse(attrs.error());
  AttrOutcome outcome;
  auto change = store_.Mutate(call->tenant, id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    if (!current) return Unexpected(NotFound(id));
    auto next = std::make_shared<Entity>(*current);
    outcome = ApplyAttributes(*next, *attrs, no_overwrite ? AttrMode::kAppendNoOverwrite : AttrMode::kAppend, now);
    if (outcome.updated.empty()) return current;
    return EntityPtr(next);
  });
  if (!change) return ProblemResponse(change.error());
  Notify(call->tenant, *change, outcome.updated);
  return AttrOutcomeResponse(outcome, *call, **ctx);
}

Response NgsiLdApi::Impl::UpdateAttrs(Request& req, const PathParams& p) {
  auto call = Prepare(req, {.has_body = true, .allow_merge_patch = true});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "the attributes must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  const std::string& id = p.Get("entityId");
  if (auto bad = BadEntityId(id)) return ProblemResponse(*bad);
  const int64_t now = UnixMicrosNow();
  auto attrs = ParseAttributes(body->get_object(), MakeCodec(**ctx), now);
  if (!attrs) return ProblemResponse(attrs.error());
  AttrOutcome outcome;
  auto change = store_.Mutate(call->tenant, id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    if (!current || !TypeMatches(req, *current, *call->ctx, names_)) return Unexpected(NotFound(id));
    auto next = std::make_shared<Entity>(*current);
    // CIM 009 V1.9.1, 5.6.2: existing attributes are updated and missing ones appended.
    outcome = ApplyAttributes(*next, *attrs, AttrMode::kAppend, now);
    if (outcome.updated.empty()) return current;
    return EntityPtr(next);
  });
  if (!change) return ProblemResponse(change.error());
  Notify(call->tenant, *change, outcome.updated);
  return AttrOutcomeResponse(outcome, *call, **ctx);
}

Response NgsiLdApi::Impl::PartialAttrUpdate(Request& req, const PathParams& p) {
  auto call = Prepare(req, {.has_body = true, .allow_merge_patch = true});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "the attribute fragment must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  const std::string& id = p.Get("entityId");
  if (auto bad = BadEntityId(id)) return ProblemResponse(*bad);
  const std::string& attr = p.Get("attrId");
  const uint32_t name = (*ctx)->ExpandToId(attr, names_);
  const int64_t now = UnixMicrosNow();
  json::object fragment = body->get_object();
  fragment.erase("@context");
  uint32_t dataset = 0;
  if (const json::value* ds = fragment.if_contains("datasetId"); ds && ds->is_string()) dataset = names_.Intern(ds->get_string());
  auto change = store_.Mutate(call->tenant, id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    if (!current) return Unexpected(NotFound(id));
    const Attribute* existing = current->Find(name, dataset);
    if (existing == nullptr) {
      return Unexpected(MakeProblem(ErrorType::kResourceNotFound, "entity " + id + " has no attribute " + attr));
    }
    // Complete the fragment with the attribute's type so a bare {"value": ...} is accepted.
    json::object full = fragment;
    if (!full.contains("type")) full["type"] = std::string(ToString(existing->kind));
    auto parsed = ParseAttribute(name, attr, full, MakeCodec(**ctx), now);
    if (!parsed) return Unexpected(std::move(parsed).error());
    auto next = std::make_shared<Entity>(*current);
    ApplyAttributes(*next, std::move(*parsed), AttrMode::kMerge, now);
    return EntityPtr(next);
  });
  if (!change) return ProblemResponse(change.error());
  Notify(call->tenant, *change, {name});
  return NoContent();
}

Response NgsiLdApi::Impl::ReplaceAttr(Request& req, const PathParams& p) {
  auto call = Prepare(req, {.has_body = true});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  auto body = ParseBody(req);
  if (!body) return ProblemResponse(body.error());
  if (!body->is_object()) return ProblemResponse(MakeProblem(ErrorType::kBadRequestData, "the attribute must be a JSON object"));
  auto ctx = PayloadContext(body->get_object(), *call);
  if (!ctx) return ProblemResponse(ctx.error());
  const std::string& id = p.Get("entityId");
  if (auto bad = BadEntityId(id)) return ProblemResponse(*bad);
  const std::string& attr = p.Get("attrId");
  const uint32_t name = (*ctx)->ExpandToId(attr, names_);
  const int64_t now = UnixMicrosNow();
  json::object fragment = body->get_object();
  fragment.erase("@context");
  auto parsed = ParseAttribute(name, attr, fragment, MakeCodec(**ctx), now);
  if (!parsed) return ProblemResponse(parsed.error());
  auto change = store_.Mutate(call->tenant, id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    if (!current) return Unexpected(NotFound(id));
    if (!current->HasAttribute(name)) {
      return Unexpected(MakeProblem(ErrorType::kResourceNotFound, "entity " + id + " has no attribute " + attr));
    }
    auto next = std::make_shared<Entity>(*current);
    ApplyAttributes(*next, *parsed, AttrMode::kAppend, now);
    return EntityPtr(next);
  });
  if (!change) return ProblemResponse(change.error());
  Notify(call->tenant, *change, {name});
  return NoContent();
}

Response NgsiLdApi::Impl::DeleteAttr(Request& req, const PathParams& p) {
  auto call = Prepare(req, {});
  if (!call) return ProblemResponse(call.error());
  if (!TenantExists(call->tenant)) return ProblemResponse(TenantMissing(call->tenant));
  const std::string& id = p.Get("entityId");
  if (auto bad = BadEntityId(id)) return ProblemResponse(*bad);
  const std::string& attr = p.Get("attrId");
  // A delete looks names up, never adds them: a name nobody wrote matches nothing (404).
  const uint32_t name = call->ctx->FindId(attr, names_);
  const std::string* ds_param = req.FindParam("datasetId");
  const std::string* all_param = req.FindParam("deleteAll");
  const bool delete_all = all_param && *all_param == "true";
  const uint32_t dataset = ds_param ? names_.Find(*ds_param).value_or(Interner::kUnknown) : 0;
  const int64_t now = UnixMicrosNow();
  auto change = store_.Mutate(call->tenant, id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    if (!current) return Unexpected(NotFound(id));
    auto next = std::make_shared<Entity>(*current);
    const size_t before = next->attrs.size();
    next->attrs.erase(std::remove_if(next->attrs.begin(), next->attrs.end(),
                                     [&](const Attribute& a) {
                                       return a.name == name && (delete_all || a.dataset_id == dataset);
                                     }),
                      next->attrs.end());
    if (next->attrs.size() == before) {
      return Unexpected(MakeProblem(ErrorType::kResourceNotFound, "entity " + id + " has no attribute " + attr +
                                                                      (ds_param ? " with datasetId " + *ds_param : "")));
    }
    next->modified_at = now;
    return EntityPtr(next);
  });
  if (!change) return ProblemResponse(change.error());
  Notify(call->tenant, *change, {name});
  return NoContent();
}

}  // namespace citybed::broker
