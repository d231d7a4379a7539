// NGSI-v2 entity operations: /v2/entities/{id}[/attrs[/{attr}[/value]]] and POST /v2/entities.
#include <algorithm>

#include "citybed/common/strings.h"
#include "ngsiv2_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

std::string NameList(const std::vector<std::string>& names) {
  std::string out = "[ ";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ", ";
    out += names[i];
  }
  return out + " ]";
}

// Renders an entity, with the cached text for the common case (normalized, everything).
void RenderWhole(JsonWriter& w, const Entity& e, v2::RenderFormat format, const v2::Projection& p, const Codec& codec,
                 bool plain) {
  if (!plain) {
    v2::RenderEntity(w, e, format, p, codec);
    return;
  }
  const std::string* text = e.rendered_v2.Get();
  if (text == nullptr) {
    std::string fresh;
    fresh.reserve(512);
    JsonWriter fw(fresh);
    v2::RenderEntity(fw, e, format, p, codec);
    text = e.rendered_v2.Set(std::move(fresh));
  }
  w.Raw(*text);
}

v2::RenderFormat FormatOf(const v2::Options& o) {
  if (o.key_values) return v2::RenderFormat::kKeyValues;
  if (o.values) return v2::RenderFormat::kValues;
  if (o.unique) return v2::RenderFormat::kUnique;
  return v2::RenderFormat::kNormalized;
}

// The error of a write that left attributes out: 422 Unprocessable when nothing was written,
// PartialUpdate when some was.
OrionError AttrsRefused(const NgsiV2Api::Impl::WriteOutcome& out) {
  const bool partial = !out.written.empty();
  const std::string what = !out.missing.empty()
                               ? "do not exist: " + NameList(out.missing)
                               : "already exist: " + NameList(out.existing);
  return OrionError{422, partial ? "PartialUpdate" : "Unprocessable",
                    "one or more of the attributes in the request " + what};
}

}  // namespace

Response NgsiV2Api::Impl::CreateEntity(Request& req, const PathParams&) {
  auto call = Prepare(req, true, true);
  if (!call) return OrionResponse(call.error());
  auto opts = v2::ReadOptions(req, {"keyValues", "upsert", "forcedUpdate", "overrideMetadata", "flowControl"});
  if (!opts) return OrionResponse(opts.error());
  auto body = ParseBody(req);
  if (!body) return OrionResponse(body.error());
  if (!body->is_object()) return OrionResponse(V2BadRequest("an entity is a JSON object"));
  const json::object& o = body->get_object();
  const json::value* id = o.if_contains("id");
  if (id == nullptr) return OrionResponse(V2BadRequest("entity id is missing"));
  if (!id->is_string()) return OrionResponse(V2BadRequest("Invalid JSON type for entity id"));
  if (std::string bad = v2::CheckIdentifier("entity id", id->get_string()); !bad.empty()) {
    return OrionResponse(V2BadRequest(bad));
  }
  std::string type = "Thing";  // Orion's default entity type
  if (const json::value* t = o.if_contains("type")) {
    if (!t->is_string()) return OrionResponse(V2BadRequest("Invalid JSON type for entity type"));
    type = std::string(t->get_string());
    if (std::string bad = v2::CheckIdentifier("entity type", type); !bad.empty()) return OrionResponse(V2BadRequest(bad));
  }
  const int64_t now = UnixMicrosNow();
  const Codec codec = MakeCodec();
  auto attrs = v2::ParseAttrs(o, codec, opts->key_values, now, true);
  if (!attrs) return OrionResponse(attrs.error());
  const std::string v2id(id->get_string());

  if (opts->upsert) {
    auto existing = FindOne(*call, v2id, &type);
    if (existing) {
      const std::string key = (*existing)->id;
      WriteOutcome out;
      std::optional<OrionError> refused;
      auto change = store_.Mutate(call->tenant, key, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
        refused.reset();
        if (!current) return current;
        auto next = std::make_shared<Entity>(*current);
        out = WriteAttrs(*next, *attrs, WriteMode::kUpsert, opts->override_metadata, now);
        if (auto bad = v2::CheckOneLocation(*next)) {
          refused = *bad;
          return current;
        }
        return EntityPtr(next);
      });
      if (refused) return OrionResponse(*refused);
      if (RefusedByStore(change)) return OrionResponse(V2BadRequest(change.error().detail));
      if (change && change->after) {
        Notify(call->tenant, *change, out.written, opts->forced_update);
        return NoContent();
      }
      // Deleted meanwhile: create it below.
    } else if (existing.error().status != 404) {
      return OrionResponse(existing.error());
    }
  }

  Entity e;
  e.id = v2id;
  e.types.push_back(codec.context.ExpandToId(type, names_));
  e.created_at = e.modified_at = now;
  e.service_path = call->scope.items.empty() ? "/" : call->scope.items[0].path;
  for (v2::V2Attr& a : *attrs) {
    if (e.Find(a.attr.name) != nullptr) {
      return OrionResponse(V2BadRequest("attribute " + std::string(codec.context.CompactId(a.attr.name, names_)) +
                                        " is given twice"));
    }
    e.attrs.push_back(v2::MergeAttr(nullptr, std::move(a), false, names_, now));
  }
  if (auto bad = v2::CheckOneLocation(e)) return OrionResponse(*bad);
  auto change = Create(call->tenant, std::move(e));
  if (!change) return OrionResponse(change.error());
  Notify(call->tenant, *change, AllAttributeNames(*change->after), opts->forced_update);
  Response r;
  r.status = 201;
  r.SetHeader("Location", "/v2/entities/" + v2id + "?type=" + type);
  return r;
}

Response NgsiV2Api::Impl::RetrieveEntity(Request& req, const PathParams& p) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  auto accept = Negotiate(req, false);
  if (!accept) return OrionResponse(accept.error());
  auto opts = v2::ReadOptions(req, {"keyValues", "values", "unique", "sysAttrs", "normalized"});
  if (!opts) return OrionResponse(opts.error());
  auto found = FindOne(*call, p.Get("entityId"), req.FindParam("type"));
  if (!found) return OrionResponse(found.error());
  const Codec codec = MakeCodec();
  const auto attrs = v2::ListParam(req, "attrs");
  const auto metadata = v2::ListParam(req, "metadata");
  const v2::Projection proj = v2::MakeProjection(attrs, metadata, codec);
  const v2::RenderFormat format = FormatOf(*opts);
  std::string body;
  JsonWriter w(body);
  RenderWhole(w, **found, format, proj, codec,
              format == v2::RenderFormat::kNormalized && attrs.empty() && metadata.empty());
  return Json(200, std::move(body));
}

Response NgsiV2Api::Impl::RetrieveAttrs(Request& req, const PathParams& p) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  auto accept = Negotiate(req, false);
  if (!accept) return OrionResponse(accept.error());
  auto opts = v2::ReadOptions(req, {"keyValues", "values", "unique", "normalized"});
  if (!opts) return OrionResponse(opts.error());
  auto found = FindOne(*call, p.Get("entityId"), req.FindParam("type"));
  if (!found) return OrionResponse(found.error());
  const Codec codec = MakeCodec();
  const v2::Projection proj = v2::MakeProjection(v2::ListParam(req, "attrs"), v2::ListParam(req, "metadata"), codec);
  std::string body;
  JsonWriter w(body);
  v2::RenderEntity(w, **found, FormatOf(*opts), proj, codec, false);
  return Json(200, std::move(body));
}

Response NgsiV2Api::Impl::DeleteEntity(Request& req, const PathParams& p) {
  auto call = Prepare(req, true, false);
  if (!call) return OrionResponse(call.error());
  auto found = FindOne(*call, p.Get("entityId"), req.FindParam("type"));
  if (!found) return OrionResponse(found.error());
  auto change = store_.Mutate(call->tenant, (*found)->id, [](const EntityPtr&) -> Expected<EntityPtr, Problem> {
    return EntityPtr();
  });
  if (RefusedByStore(change)) return OrionResponse(V2BadRequest(change.error().detail));
  if (!change || !change->before) return OrionResponse(V2EntityNotFound());
  Notify(call->tenant, *change, AllAttributeNames(*change->before), false);
  return NoContent();
}

Expected<std::vector<v2::V2Attr>, OrionError> NgsiV2Api::Impl::ParseAttrsBody(const Request& req, bool key_values,
                                                                             int64_t now) {
  auto body = ParseBody(req);
  if (!body) return Unexpected(body.error());
  if (!body->is_object()) return Unexpected(V2BadRequest("the attributes are a JSON object"));
  return v2::ParseAttrs(body->get_object(), MakeCodec(), key_values, now, false);
}

Response NgsiV2Api::Impl::AppendAttrs(Request& req, const PathParams& p) { return WriteAttrsOf(req, p, false); }

Response NgsiV2Api::Impl::UpdateAttrs(Request& req, const PathParams& p) { return WriteAttrsOf(req, p, true); }

// POST /attrs (update or append; options=append: only new ones) and PATCH /attrs (only
// existing ones).
Response NgsiV2Api::Impl::WriteAttrsOf(Request& req, const PathParams& p, bool update_only) {
  auto call = Prepare(req, true, true);
  if (!call) return OrionResponse(call.error());
  auto opts = update_only
                  ? v2::ReadOptions(req, {"keyValues", "overrideMetadata", "forcedUpdate", "flowControl"})
                  : v2::ReadOptions(req, {"keyValues", "append", "overrideMetadata", "forcedUpdate", "flowControl"});
  if (!opts) return OrionResponse(opts.error());
  const WriteMode mode = update_only ? WriteMode::kUpdateOnly : opts->append ? WriteMode::kAppendOnly : WriteMode::kUpsert;
  const int64_t now = UnixMicrosNow();
  auto attrs = ParseAttrsBody(req, opts->key_values, now);
  if (!attrs) return OrionResponse(attrs.error());
  auto found = FindOne(*call, p.Get("entityId"), req.FindParam("type"));
  if (!found) return OrionResponse(found.error());
  WriteOutcome out;
  std::optional<OrionError> refused;
  auto change = store_.Mutate(call->tenant, (*found)->id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    refused.reset();
    if (!current) return current;
    auto next = std::make_shared<Entity>(*current);
    out = WriteAttrs(*next, *attrs, mode, opts->override_metadata, now);
    if (auto bad = v2::CheckOneLocation(*next)) {
      refused = *bad;
      return current;
    }
    return out.written.empty() ? current : EntityPtr(next);
  });
  if (refused) return OrionResponse(*refused);
  if (RefusedByStore(change)) return OrionResponse(V2BadRequest(change.error().detail));
  if (!change || !change->before) return OrionResponse(V2EntityNotFound());
  if (!out.written.empty()) Notify(call->tenant, *change, out.written, opts->forced_update);
  if (!out.missing.empty() || !out.existing.empty()) return OrionResponse(AttrsRefused(out));
  return NoContent();
}

Response NgsiV2Api::Impl::ReplaceAttrs(Request& req, const PathParams& p) {
  auto call = Prepare(req, true, true);
  if (!call) return OrionResponse(call.error());
  auto opts = v2::ReadOptions(req, {"keyValues", "forcedUpdate", "flowControl"});
  if (!opts) return OrionResponse(opts.error());
  const int64_t now = UnixMicrosNow();
  auto attrs = ParseAttrsBody(req, opts->key_values, now);
  if (!attrs) return OrionResponse(attrs.error());
  auto found = FindOne(*call, p.Get("entityId"), req.FindParam("type"));
  if (!found) return OrionResponse(found.error());
  std::vector<uint32_t> touched;
  std::optional<OrionError> refused;
  auto change = store_.Mutate(call->tenant, (*found)->id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    refused.reset();
    if (!current) return current;
    auto next = std::make_shared<Entity>(*current);
    touched = AllAttributeNames(*current);
    next->attrs.clear();
    for (const v2::V2Attr& a : *attrs) {
      next->attrs.push_back(v2::MergeAttr(nullptr, a, false, names_, now));
      if (std::find(touched.begin(), touched.end(), a.attr.name) == touched.end()) touched.push_back(a.attr.name);
    }
    next->modified_at = now;
    if (auto bad = v2::CheckOneLocation(*next)) {
      refused = *bad;
      return current;
    }
    return EntityPtr(next);
  });
  if (refused) return OrionResponse(*refused);
  if (RefusedByStore(change)) return OrionResponse(V2BadRequest(change.error().detail));
  if (!change || !change->before) return OrionResponse(V2EntityNotFound());
  Notify(call->tenant, *change, touched, opts->forced_update);
  return NoContent();
}

Response NgsiV2Api::Impl::RetrieveAttr(Request& req, const PathParams& p) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  auto accept = Negotiate(req, false);
  if (!accept) return OrionResponse(accept.error());
  auto found = FindOne(*call, p.Get("entityId"), req.FindParam("type"));
  if (!found) return OrionResponse(found.error());
  const Codec codec = MakeCodec();
  const Attribute* a = (*found)->Find(codec.context.FindId(p.Get("attrName"), names_));
  if (a == nullptr) return OrionResponse(V2AttributeNotFound());
  const v2::Projection proj = v2::MakeProjection({}, v2::ListParam(req, "metadata"), codec);
  std::string body;
  JsonWriter w(body);
  v2::RenderAttr(w, *a, &proj, codec);
  return Json(200, std::move(body));
}

Response NgsiV2Api::Impl::UpdateAttr(Request& req, const PathParams& p) {
  auto call = Prepare(req, true, true);
  if (!call) return OrionResponse(call.error());
  auto opts = v2::ReadOptions(req, {"overrideMetadata", "forcedUpdate", "flowControl"});
  if (!opts) return OrionResponse(opts.error());
  auto body = ParseBody(req);
  if (!body) return OrionResponse(body.error());
  const std::string& name = p.Get("attrName");
  const int64_t now = UnixMicrosNow();
  auto attr = v2::ParseAttr(name, *body, MakeCodec(), false, now);
  if (!attr) return OrionResponse(attr.error());
  auto found = FindOne(*call, p.Get("entityId"), req.FindParam("type"));
  if (!found) return OrionResponse(found.error());
  WriteOutcome out;
  auto change = store_.Mutate(call->tenant, (*found)->id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    if (!current) return current;
    auto next = std::make_shared<Entity>(*current);
    out = WriteAttrs(*next, {*attr}, WriteMode::kUpdateOnly, opts->override_metadata, now);
    return out.written.empty() ? current : EntityPtr(next);
  });
  if (RefusedByStore(change)) return OrionResponse(V2BadRequest(change.error().detail));
  if (!change || !change->before) return OrionResponse(V2EntityNotFound());
  if (out.written.empty()) return OrionResponse(V2AttributeNotFound());
  Notify(call->tenant, *change, out.written, opts->forced_update);
  return NoContent();
}

Response NgsiV2Api::Impl::DeleteAttr(Request& req, const PathParams& p) {
  auto call = Prepare(req, true, false);
  if (!call) return OrionResponse(call.error());
  auto found = FindOne(*call, p.Get("entityId"), req.FindParam("type"));
  if (!found) return OrionResponse(found.error());
  const uint32_t name = context().FindId(p.Get("attrName"), names_);  // looked up: a delete adds no name
  const int64_t now = UnixMicrosNow();
  bool had = false;
  auto change = store_.Mutate(call->tenant, (*found)->id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    had = current && current->HasAttribute(name);
    if (!had) return current;
    auto next = std::make_shared<Entity>(*current);
    std::erase_if(next->attrs, [&](const Attribute& a) { return a.name == name; });
    next->modified_at = now;
    return EntityPtr(next);
  });
  if (RefusedByStore(change)) return OrionResponse(V2BadRequest(change.error().detail));
  if (!change || !change->before) return OrionResponse(V2EntityNotFound());
  if (!had) return OrionResponse(V2AttributeNotFound());
  Notify(call->tenant, *change, {name}, false);
  return NoContent();
}

Response NgsiV2Api::Impl::RetrieveValue(Request& req, const PathParams& p) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  bool json_ok = true, text_ok = true;
  if (const std::string* accept = req.FindHeader("Accept"); accept && !Trim(*accept).empty()) {
    json_ok = text_ok = false;
    for (std::string_view item : Split(*accept, ',')) {
      const std::string_view type = Trim(item.substr(0, item.find(';')));
      if (type == "application/json" || type == "application/*" || type == "*/*") json_ok = true;
      if (type == "text/plain" || type == "text/*" || type == "*/*") text_ok = true;
    }
    if (!json_ok && !text_ok) {
      return OrionResponse(OrionError{406, "NotAcceptable", "acceptable MIME types: application/json, text/plain"});
    }
  }
  auto found = FindOne(*call, p.Get("entityId"), req.FindParam("type"));
  if (!found) return OrionResponse(found.error());
  const Codec codec = MakeCodec();
  const Attribute* a = (*found)->Find(codec.context.FindId(p.Get("attrName"), names_));
  if (a == nullptr) return OrionResponse(V2AttributeNotFound());
  std::string body;
  JsonWriter w(body);
  v2::RenderValue(w, *a, codec);
  const bool structured = !body.empty() && (body.front() == '{' || body.front() == '[');
  Response r;
  r.body = std::move(body);
  if (structured && json_ok) {
    r.SetHeader("Content-Type", "application/json");
  } else if (text_ok) {
    r.SetHeader("Content-Type", "text/plain");
  } else {
    return OrionResponse(OrionError{406, "NotAcceptable",
                                    "accepted MIME types: text/plain. The value of this attribute is not an object or "
                                    "an array: it can only be given as text/plain"});
  }
  return r;
}

Response NgsiV2Api::Impl::UpdateValue(Request& req, const PathParams& p) {
  auto call = Prepare(req, true, true);
  if (!call) return OrionResponse(call.error());
  auto opts = v2::ReadOptions(req, {"forcedUpdate", "flowControl"});
  if (!opts) return OrionResponse(opts.error());
  const std::string* ct = req.FindHeader("Content-Type");
  const std::string_view media = ct ? Trim(std::string_view(*ct).substr(0, ct->find(';'))) : std::string_view();
  json::value value;
  if (media == "text/plain") {
    auto v = v2::ParseTextValue(req.body);
    if (!v) return OrionResponse(v.error());
    value = std::move(*v);
  } else if (media == "application/json") {
    auto v = ParseBody(req);
    if (!v) return OrionResponse(v.error());
    if (!v->is_object() && !v->is_array()) {
      return OrionResponse(V2BadRequest("with application/json the value is an object or an array (use text/plain for others)"));
    }
    value = std::move(*v);
  } else {
    return OrionResponse(OrionError{415, "UnsupportedMediaType",
                                    "not supported content type: " + (ct ? *ct : std::string("(none)")) +
                                        " (use text/plain or application/json)"});
  }
  auto found = FindOne(*call, p.Get("entityId"), req.FindParam("type"));
  if (!found) return OrionResponse(found.error());
  const std::string& name = p.Get("attrName");
  const Codec codec = MakeCodec();
  const uint32_t id = codec.context.ExpandToId(name, names_);
  const int64_t now = UnixMicrosNow();
  std::optional<OrionError> refused;
  auto change = store_.Mutate(call->tenant, (*found)->id, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
    refused.reset();
    if (!current) return current;
    const Attribute* old = current->Find(id);
    if (old == nullptr) {
      refused = V2AttributeNotFound();
      return current;
    }
    // The value under the attribute's type; type and metadata stay.
    json::object typed;
    typed["type"] = v2::V2AttrType(*old, names_);
    typed["value"] = value;
    auto in = v2::ParseAttr(name, typed, codec, false, now);
    if (!in) {
      refused = in.error();
      return current;
    }
    in->metadata_given = false;
    auto next = std::make_shared<Entity>(*current);
    Attribute* slot = next->FindMutable(id, old->dataset_id);
    *slot = v2::MergeAttr(old, std::move(*in), false, names_, now);
    next->modified_at = now;
    return EntityPtr(next);
  });
  if (refused) return OrionResponse(*refused);
  if (RefusedByStore(change)) return OrionResponse(V2BadRequest(change.error().detail));
  if (!change || !change->before) return OrionResponse(V2EntityNotFound());
  Notify(call->tenant, *change, {id}, opts->forced_update);
  return NoContent();
}

}  // namespace citybed::broker
