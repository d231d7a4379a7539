// NGSI-v2: what every handler shares (headers, bodies, lookup, writes) and the routes.
#include <algorithm>
#include <array>
#include <mutex>

#include "citybed/common/strings.h"
#include "ngsiv2_internal.h"
#include "json_parse.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

// Parameters whose values may hold the characters Orion otherwise forbids in URI parameters.
bool FreeTextParam(std::string_view name) {
  return name == "q" || name == "mq" || name == "georel" || name == "coords" || name == "idPattern" ||
         name == "typePattern" || name == "geometry";
}

// v2 creates are serialised per id stripe, so that two concurrent creates of one (id, type,
// service path) cannot both pass the existence check.
std::mutex& CreateStripe(std::string_view id) {
  static std::array<std::mutex, 64> stripes;
  return stripes[std::hash<std::string_view>{}(id) % stripes.size()];
}

}  // namespace

namespace v2 {

Expected<Options, OrionError> ReadOptions(const Request& req, std::initializer_list<std::string_view> allowed) {
  Options o;
  const std::string* text = req.FindParam("options");
  if (text == nullptr) return o;
  for (std::string_view opt : Split(*text, ',')) {
    opt = Trim(opt);
    if (opt.empty()) continue;
    if (std::find(allowed.begin(), allowed.end(), opt) == allowed.end()) {
      return Unexpected(V2BadRequest("Invalid value for URI param /options/: " + std::string(opt)));
    }
    if (opt == "keyValues") o.key_values = true;
    else if (opt == "values") o.values = true;
    else if (opt == "unique") o.unique = true;
    else if (opt == "upsert") o.upsert = true;
    else if (opt == "append") o.append = true;
    else if (opt == "count") o.count = true;
    else if (opt == "overrideMetadata") o.override_metadata = true;
    else if (opt == "forcedUpdate") o.forced_update = true;
    else if (opt == "noAttrDetail") o.no_attr_detail = true;
  }
  if (o.key_values + o.values + o.unique > 1) {
    return Unexpected(V2BadRequest("options keyValues, values and unique exclude one another"));
  }
  return o;
}

std::vector<std::string> ListParam(const Request& req, std::string_view name) {
  std::vector<std::string> out;
  if (const std::string* v = req.FindParam(name)) {
    for (std::string_view part : Split(*v, ',')) {
      part = Trim(part);
      if (!part.empty()) out.emplace_back(part);
    }
  }
  return out;
}

}  // namespace v2

NgsiV2Api::NgsiV2Api(Store& store, ContextResolver& contexts, Interner& names, SubscriptionManager& subs,
                     RegistrationManager& registrations, V2Options options)
    : impl_(std::make_shared<Impl>(store, contexts, names, subs, registrations, std::move(options))) {}

Expected<NgsiV2Api::Impl::Call, OrionError> NgsiV2Api::Impl::Prepare(const Request& req, bool write, bool has_body) {
  Call call;
  // Fiware-Service, trimmed and in lower case as Orion reads it (Request::Tenant, which the
  // broker's rate limits and quotas use too).
  call.tenant = req.Tenant();
  if (call.tenant.size() > 50) return Unexpected(V2BadRequest("bad length - a tenant name can be max 50 characters long"));
  for (char c : call.tenant) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') {
      return Unexpected(V2BadRequest("bad character in tenant name - only underscore and alphanumeric characters are allowed"));
    }
  }
  auto scope = v2::ParseServicePath(req, write);
  if (!scope) return Unexpected(std::move(scope).error());
  call.scope = std::move(*scope);
  for (const auto& [name, value] : req.query) {
    if (FreeTextParam(name)) continue;
    for (char c : value) {
      if (v2::ForbiddenValueChar(c)) return Unexpected(V2BadRequest("invalid character in URI parameter"));
    }
  }
  if (has_body) {
    if (req.body.empty()) {
      return Unexpected(OrionError{411, "ContentLengthRequired", "Zero/No Content-Length in PUT/POST/PATCH request"});
    }
    if (req.body.size() > options_.max_body_bytes) {
      return Unexpected(OrionError{413, "RequestEntityTooLarge",
                                   "payload size: " + std::to_string(req.body.size()) +
                                       ", max size supported: " + std::to_string(options_.max_body_bytes)});
    }
  }
  return call;
}

Expected<std::string, OrionError> NgsiV2Api::Impl::Negotiate(const Request& req, bool text_ok) {
  const std::string* accept = req.FindHeader("Accept");
  if (accept == nullptr || Trim(*accept).empty()) return std::string("application/json");
  bool json_ok = false, text = false;
  for (std::string_view item : Split(*accept, ',')) {
    const std::string_view type = MediaType(item);
    if (type == "application/json" || type == "application/*" || type == "*/*") json_ok = true;
    if (text_ok && (type == "text/plain" || type == "text/*" || type == "*/*")) text = true;
  }
  if (json_ok) return std::string("application/json");
  if (text) return std::string("text/plain");
  return Unexpected(OrionError{406, "NotAcceptable",
                               text_ok ? "acceptable MIME types: application/json, text/plain"
                                       : "acceptable MIME types: application/json"});
}

Expected<json::value, OrionError> NgsiV2Api::Impl::ParseBody(const Request& req) {
  const std::string* ct = req.FindHeader("Content-Type");
  if (ct == nullptr) {
    return Unexpected(OrionError{415, "UnsupportedMediaType", "missing Content-Type header (application/json)"});
  }
  if (MediaType(*ct) != "application/json") {
    return Unexpected(OrionError{415, "UnsupportedMediaType", "not supported content type: " + *ct});
  }
  boost::system::error_code ec;
  json::parse_options po;
  po.max_depth = 64;
  json::value v = ParseJson(
      req.body, ec, json::make_shared_resource<json::monotonic_resource>(std::max<size_t>(1024, req.body.size() * 2)), po);
  if (ec) return Unexpected(V2ParseError("Errors found in incoming JSON buffer: " + ec.message()));
  return v;
}

Response NgsiV2Api::Impl::ListPage(const EntityQuery& paging, size_t total,
                                   const std::function<void(JsonWriter&, size_t)>& render) const {
  std::string body;
  JsonWriter w(body);
  w.BeginArray();
  for (size_t i = paging.offset; i < total && i < paging.offset + paging.limit; ++i) render(w, i);
  w.EndArray();
  Response r = Json(200, std::move(body));
  if (paging.count) r.SetHeader("Fiware-Total-Count", std::to_string(total));
  return r;
}

Response NgsiV2Api::Impl::Json(int status, std::string body) const {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.SetHeader("Content-Type", "application/json");
  return r;
}

Response NgsiV2Api::Impl::NoContent() {
  Response r;
  r.status = 204;
  return r;
}

Expected<EntityPtr, OrionError> NgsiV2Api::Impl::FindOne(const Call& call, std::string_view id,
                                                         const std::string* type) {
  if (std::string bad = v2::CheckIdentifier("entity id", id); !bad.empty()) return Unexpected(V2BadRequest(bad));
  const Codec codec = MakeCodec();
  EntityPtr found;
  int n = 0;
  for (EntityPtr& e : v2::FindById(store_, call.tenant, id)) {
    if (!call.scope.Contains(v2::ServicePathOf(*e))) continue;
    if (type != nullptr && !type->empty() && v2::V2Type(*e, codec) != *type) continue;
    ++n;
    found = std::move(e);
  }
  if (n == 0) return Unexpected(V2EntityNotFound());
  if (n > 1) {
    return Unexpected(OrionError{409, "TooManyResults", "More than one matching entity. Please refine your query"});
  }
  return found;
}

NgsiV2Api::Impl::WriteOutcome NgsiV2Api::Impl::WriteAttrs(Entity& e, std::vector<v2::V2Attr> attrs, WriteMode mode,
                                                          bool override_metadata, int64_t now) const {
  WriteOutcome out;
  const Codec codec{names_, *options_.context};
  for (v2::V2Attr& in : attrs) {
    const uint32_t name = in.attr.name;
    Attribute* old = e.FindMutable(name, 0);
    auto display = [&] { return std::string(codec.context.CompactId(name, names_)); };
    if (old == nullptr && mode == WriteMode::kUpdateOnly) {
      out.missing.push_back(display());
      continue;
    }
    if (old != nullptr && mode == WriteMode::kAppendOnly) {
      out.existing.push_back(display());
      continue;
    }
    if (old != nullptr && !in.type_given) {
      // Orion keeps an attribute's type when an update omits it.
      const std::string old_type = v2::V2AttrType(*old, names_);
      if (old_type != v2::V2AttrType(in.attr, names_)) {
        json::object typed;
        typed["type"] = old_type;
        json::value value;
        // Re-read the new value under the old type (a DateTime, a geo:point ...).
        std::string text;
        JsonWriter tw(text);
        v2::RenderValue(tw, in.attr, codec);
        boost::system::error_code pec;
        value = ParseJson(text, pec);
        typed["value"] = std::move(value);
        if (auto again = v2::ParseAttr(display(), typed, codec, false, now)) {
          again->metadata_given = in.metadata_given;
          again->attr.sub = std::move(in.attr.sub);
          again->attr.unit_code = in.attr.unit_code;
          again->attr.observed_at = in.attr.observed_at;
          in = std::move(*again);
        }
      }
    }
    Attribute next = v2::MergeAttr(old, std::move(in), override_metadata, names_, now);
    if (old != nullptr) {
      *old = std::move(next);
    } else {
      e.attrs.push_back(std::move(next));
    }
    out.written.push_back(name);
  }
  if (!out.written.empty()) e.modified_at = now;
  return out;
}

Expected<Change, OrionError> NgsiV2Api::Impl::Create(const std::string& tenant, Entity entity) {
  const std::string v2id = entity.v2_id.empty() ? entity.id : entity.v2_id;
  const Codec codec = MakeCodec();
  const std::string type(v2::V2Type(entity, codec));
  const std::string path(v2::ServicePathOf(entity));
  std::lock_guard lock(CreateStripe(v2id));
  for (const EntityPtr& e : v2::FindById(store_, tenant, v2id)) {
    if (v2::V2Type(*e, codec) == type && v2::ServicePathOf(*e) == path) {
      return Unexpected(OrionError{422, "Unprocessable", "Already Exists"});
    }
  }
  const std::string preferred = v2::PreferredKey(v2id);
  std::string base = preferred + ";type=" + type;
  if (path != "/") base += ";path=" + path;
  for (int attempt = 0; attempt < 10; ++attempt) {
    const std::string key = attempt == 0 ? preferred : attempt == 1 ? base : base + "~" + std::to_string(attempt);
    auto next = std::make_shared<Entity>(entity);
    next->id = key;
    next->v2_id = key == v2id ? std::string() : v2id;
    next->service_path = path == "/" ? std::string() : path;
    EntityPtr ptr = next;
    bool taken = false;
    auto change = store_.Mutate(tenant, key, [&](const EntityPtr& current) -> Expected<EntityPtr, Problem> {
      taken = current != nullptr;
      return taken ? current : ptr;
    });
    if (!change) return Unexpected(V2BadRequest(change.error().detail));
    if (!taken) return *change;
  }
  return Unexpected(OrionError{500, "InternalServerError", "no free key for entity " + v2id});
}

void NgsiV2Api::Register(Router& router) {
  auto bind = [impl = impl_](Response (Impl::*fn)(Request&, const PathParams&)) {
    return [impl, fn](Request& r, const PathParams& p) { return ((*impl).*fn)(r, p); };
  };
  router.Add(Method::kPost, "/v2/entities", bind(&Impl::CreateEntity));
  router.Add(Method::kGet, "/v2/entities", bind(&Impl::ListEntities));
  router.Add(Method::kGet, "/v2/entities/{entityId}", bind(&Impl::RetrieveEntity));
  router.Add(Method::kDelete, "/v2/entities/{entityId}", bind(&Impl::DeleteEntity));
  router.Add(Method::kGet, "/v2/entities/{entityId}/attrs", bind(&Impl::RetrieveAttrs));
  router.Add(Method::kPost, "/v2/entities/{entityId}/attrs", bind(&Impl::AppendAttrs));
  router.Add(Method::kPatch, "/v2/entities/{entityId}/attrs", bind(&Impl::UpdateAttrs));
  router.Add(Method::kPut, "/v2/entities/{entityId}/attrs", bind(&Impl::ReplaceAttrs));
  router.Add(Method::kGet, "/v2/entities/{entityId}/attrs/{attrName}", bind(&Impl::RetrieveAttr));
  router.Add(Method::kPut, "/v2/entities/{entityId}/attrs/{attrName}", bind(&Impl::UpdateAttr));
  router.Add(Method::kDelete, "/v2/entities/{entityId}/attrs/{attrName}", bind(&Impl::DeleteAttr));
  router.Add(Method::kGet, "/v2/entities/{entityId}/attrs/{attrName}/value", bind(&Impl::RetrieveValue));
  router.Add(Method::kPut, "/v2/entities/{entityId}/attrs/{attrName}/value", bind(&Impl::UpdateValue));
  router.Add(Method::kGet, "/v2/types", bind(&Impl::ListTypes));
  router.Add(Method::kGet, "/v2/types/{entityType}", bind(&Impl::RetrieveType));
  router.Add(Method::kPost, "/v2/op/update", bind(&Impl::UpdateOp));
  router.Add(Method::kPost, "/v2/op/query", bind(&Impl::QueryOp));
  router.Add(Method::kPost, "/v2/subscriptions", bind(&Impl::CreateSubscription));
  router.Add(Method::kGet, "/v2/subscriptions", bind(&Impl::ListSubscriptions));
  router.Add(Method::kGet, "/v2/subscriptions/{subscriptionId}", bind(&Impl::RetrieveSubscription));
  router.Add(Method::kPatch, "/v2/subscriptions/{subscriptionId}", bind(&Impl::UpdateSubscription));
  router.Add(Method::kDelete, "/v2/subscriptions/{subscriptionId}", bind(&Impl::DeleteSubscription));
  router.Add(Method::kPost, "/v2/registrations", bind(&Impl::CreateRegistration));
  router.Add(Method::kGet, "/v2/registrations", bind(&Impl::ListRegistrations));
  router.Add(Method::kGet, "/v2/registrations/{registrationId}", bind(&Impl::RetrieveRegistration));
  router.Add(Method::kPatch, "/v2/registrations/{registrationId}", bind(&Impl::UpdateRegistration));
  router.Add(Method::kDelete, "/v2/registrations/{registrationId}", bind(&Impl::DeleteRegistration));
  router.Add(Method::kGet, "/v2", [](Request&, const PathParams&) {
    Response r;
    r.SetHeader("Content-Type", "application/json");
    r.body = R"({"entities_url":"/v2/entities","types_url":"/v2/types","subscriptions_url":"/v2/subscriptions","registrations_url":"/v2/registrations"})";
    return r;
  });
}

}  // namespace citybed::broker
