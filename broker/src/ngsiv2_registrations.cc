// NGSI-v2 registrations (Orion's /v2/registrations) over the broker's one registration store: a
// v2 registration is an NGSI-LD context source registration (registrations.h), so that either
// API sees the registrations made through the other, and distributed operations act on both.
//
// v2 -> NGSI-LD: id <hex> is urn:ngsi-ld:ContextSourceRegistration:<hex>; dataProvided.entities
// are the EntityInfo (a v2 id that is not a URI as urn:ngsi-v2:<id>, as entities are stored);
// dataProvided.attrs are propertyNames (v2 does not tell properties from relationships);
// provider.http.url is the endpoint; supportedForwardingMode all/query/update are the operation
// groups federationOps + updateOps / retrieveOps / updateOps; expires is expiresAt; description stays; status
// "inactive" is kept as a "status" member. The mode is inclusive (Orion's only one).
#include <algorithm>
#include <string>

#include "citybed/common/strings.h"
#include "ngsiv2_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {

constexpr std::string_view kLdPrefix = "urn:ngsi-ld:ContextSourceRegistration:";
constexpr std::string_view kV2IdPrefix = "urn:ngsi-v2:";

bool IsObjectId(std::string_view s) {
  return s.size() == 24 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The NGSI-LD id of a v2 registration id, and back.
std::string LdId(std::string_view v2_id) {
  return IsObjectId(v2_id) ? std::string(kLdPrefix) + std::string(v2_id) : std::string(v2_id);
}
std::string_view V2IdOf(std::string_view ld_id) {
  if (ld_id.starts_with(kLdPrefix) && IsObjectId(ld_id.substr(kLdPrefix.size()))) return ld_id.substr(kLdPrefix.size());
  return ld_id;
}

// A v2 registration body as an NGSI-LD ContextSourceRegistration (names compacted: the
// registration manager expands them with the v2 context).
Expected<json::object, OrionError> ToLd(const json::object& body, std::string_view id, bool patch) {
  json::object ld;
  if (!patch) {
    ld["id"] = LdId(id);
    ld["type"] = "ContextSourceRegistration";
  }
  for (const auto& kv : body) {
    const std::string_view key = kv.key();
    if (key != "description" && key != "dataProvided" && key != "provider" && key != "status" && key != "expires") {
      return Unexpected(V2BadRequest("unrecognized member of a registration: " + std::string(key)));
    }
  }
  if (const json::value* d = body.if_contains("description")) {
    if (!d->is_string() || d->get_string().size() > 1024) {
      return Unexpected(V2BadRequest("description must be a string of at most 1024 characters"));
    }
    ld["description"] = *d;
  }
  const json::value* data = body.if_contains("dataProvided");
  if (data == nullptr && !patch) return Unexpected(V2BadRequest("dataProvided is missing"));
  if (data != nullptr) {
    if (!data->is_object()) return Unexpected(V2BadRequest("dataProvided must be an object"));
    for (const auto& kv : data->get_object()) {
      if (kv.key() == "expression") {
        return Unexpected(OrionError{501, "NotImplemented", "dataProvided.expression is not supported"});
      }
      if (kv.key() != "entities" && kv.key() != "attrs") {
        return Unexpected(V2BadRequest("unrecognized member of dataProvided: " + std::string(kv.key())));
      }
    }
    const json::value* ents = data->get_object().if_contains("entities");
    if (ents == nullptr || !ents->is_array() || ents->get_array().empty()) {
      return Unexpected(V2BadRequest("dataProvided.entities must be a non-empty array"));
    }
    json::array ld_ents;
    for (const json::value& e : ents->get_array()) {
      if (!e.is_object()) return Unexpected(V2BadRequest("each of dataProvided.entities is an object"));
      json::object le;
      for (const auto& kv : e.get_object()) {
        if (!kv.value().is_string()) return Unexpected(V2BadRequest(std::string(kv.key()) + " must be a string"));
        const std::string_view v = kv.value().get_string();
        if (kv.key() == "id") {
          if (std::string bad = v2::CheckIdentifier("entity id", v); !bad.empty()) return Unexpected(V2BadRequest(bad));
          le["id"] = IsUri(v) ? std::string(v) : std::string(kV2IdPrefix) + std::string(v);
        } else if (kv.key() == "idPattern") {
          le["idPattern"] = std::string(v);
        } else if (kv.key() == "type") {
          if (std::string bad = v2::CheckIdentifier("entity type", v); !bad.empty()) return Unexpected(V2BadRequest(bad));
          le["type"] = std::string(v);
        } else if (kv.key() == "typePattern") {
          return Unexpected(OrionError{501, "NotImplemented", "typePattern is not supported in registrations"});
        } else {
          return Unexpected(V2BadRequest("unrecognized member of dataProvided.entities: " + std::string(kv.key())));
        }
      }
      if (!le.contains("type")) return Unexpected(V2BadRequest("each of dataProvided.entities needs a type"));
      if (le.contains("id") == le.contains("idPattern")) {
        return Unexpected(V2BadRequest("each of dataProvided.entities needs id or idPattern (one of them)"));
      }
      ld_ents.push_back(std::move(le));
    }
    json::object info;
    info["entities"] = std::move(ld_ents);
    if (const json::value* attrs = data->get_object().if_contains("attrs")) {
      if (!attrs->is_array()) return Unexpected(V2BadRequest("dataProvided.attrs must be an array of names"));
      json::array names;
      for (const json::value& a : attrs->get_array()) {
        if (!a.is_string()) return Unexpected(V2BadRequest("dataProvided.attrs must be an array of names"));
        if (std::string bad = v2::CheckIdentifier("attribute name", a.get_string()); !bad.empty()) {
          return Unexpected(V2BadRequest(bad));
        }
        names.push_back(a);
      }
      if (!names.empty()) info["propertyNames"] = std::move(names);
    }
    ld["information"] = json::array{std::move(info)};
  }
  const json::value* provider = body.if_contains("provider");
  if (provider == nullptr && !patch) return Unexpected(V2BadRequest("provider is missing"));
  if (provider != nullptr) {
    if (!provider->is_object()) return Unexpected(V2BadRequest("provider must be an object"));
    const json::object& po = provider->get_object();
    const json::value* http = po.if_contains("http");
    const json::value* url = http && http->is_object() ? http->get_object().if_contains("url") : nullptr;
    if (url == nullptr || !url->is_string() || !url->get_string().starts_with("http")) {
      return Unexpected(V2BadRequest("provider.http.url must be an http URL"));
    }
    ld["endpoint"] = *url;
    std::string_view mode = "all";
    if (const json::value* m = po.if_contains("supportedForwardingMode")) {
      if (!m->is_string()) return Unexpected(V2BadRequest("supportedForwardingMode must be a string"));
      mode = m->get_string();
    }
    if (mode == "all") ld["operations"] = json::array{"federationOps", "updateOps"};
    else if (mode == "query") ld["operations"] = json::array{"retrieveOps"};
    else if (mode == "update") ld["operations"] = json::array{"updateOps"};
    else if (mode == "none") return Unexpected(OrionError{501, "NotImplemented", "supportedForwardingMode none is not supported"});
    else return Unexpected(V2BadRequest("supportedForwardingMode must be all, query, update or none"));
    if (const json::value* legacy = po.if_contains("legacyForwarding"); legacy && !(legacy->is_bool() && !legacy->get_bool())) {
      return Unexpected(OrionError{501, "NotImplemented", "legacyForwarding is not supported"});
    }
  }
  if (const json::value* st = body.if_contains("status")) {
    if (!st->is_string() || (st->get_string() != "active" && st->get_string() != "inactive")) {
      return Unexpected(V2BadRequest("status must be active or inactive"));
    }
    ld["status"] = *st;
  }
  if (const json::value* exp = body.if_contains("expires")) {
    if (!exp->is_string()) return Unexpected(V2BadRequest("expires must be a date"));
    auto t = ParseIso8601Micros(exp->get_string());
    if (!t) return Unexpected(V2BadRequest("expires has an invalid format: " + std::string(exp->get_string())));
    ld["expiresAt"] = v2::FormatDateTime(*t);
  }
  return ld;
}

OrionError FromProblem(const Problem& p) {
  switch (p.HttpStatus()) {
    case 404: return OrionError{404, "NotFound", "The requested registration has not been found. Check id"};
    case 409: return OrionError{422, "Unprocessable", "Already Exists"};
    case 403: return OrionError{403, "Forbidden", p.detail};
    default: return V2BadRequest(p.detail);
  }
}

}  // namespace

void NgsiV2Api::Impl::RenderRegistration(JsonWriter& w, const Registration& r) const {
  const Codec codec = MakeCodec();
  w.BeginObject();
  w.Key("id");
  w.String(V2IdOf(r.id));
  if (const json::value* d = r.document.if_contains("description"); d && d->is_string()) {
    w.Key("description");
    w.String(d->get_string());
  }
  w.Key("dataProvided");
  w.BeginObject();
  w.Key("entities");
  w.BeginArray();
  std::vector<uint32_t> attrs;
  for (const RegistrationInfo& ri : r.information) {
    for (const RegisteredEntities& e : ri.entities) {
      w.BeginObject();
      if (!e.id.empty()) {
        w.Key("id");
        w.String(e.id.starts_with(kV2IdPrefix) ? std::string_view(e.id).substr(kV2IdPrefix.size()) : std::string_view(e.id));
      }
      if (!e.id_pattern.empty()) {
        w.Key("idPattern");
        w.String(e.id_pattern);
      }
      w.Key("type");
      w.String(codec.context.CompactId(e.type, names_));
      w.EndObject();
    }
    for (uint32_t n : ri.property_names) attrs.push_back(n);
    for (uint32_t n : ri.relationship_names) attrs.push_back(n);
  }
  w.EndArray();
  if (!attrs.empty()) {
    w.Key("attrs");
    w.BeginArray();
    for (uint32_t n : attrs) w.String(codec.context.CompactId(n, names_));
    w.EndArray();
  }
  w.EndObject();
  w.Key("provider");
  w.BeginObject();
  w.Key("http");
  w.BeginObject();
  w.Key("url");
  w.String(r.endpoint);
  w.EndObject();
  w.Key("supportedForwardingMode");
  const bool reads = r.Allows("queryEntity") || r.Allows("retrieveEntity");
  const bool writes = r.Allows("updateAttrs") || r.Allows("updateEntity");
  w.String(reads && writes ? "all" : reads ? "query" : writes ? "update" : "all");
  w.Key("legacyForwarding");
  w.Bool(false);
  w.EndObject();
  w.Key("status");
  const json::value* st = r.document.if_contains("status");
  w.String(st && st->is_string() && st->get_string() == "inactive" ? "inactive" : "active");
  if (r.expires_at != kNoTime) {
    w.Key("expires");
    w.String(v2::FormatDateTime(r.expires_at));
  }
  w.EndObject();
}

Response NgsiV2Api::Impl::CreateRegistration(Request& req, const PathParams&) {
  auto call = Prepare(req, true, true);
  if (!call) return OrionResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return OrionResponse(body.error());
  if (!body->is_object()) return OrionResponse(V2BadRequest("a registration is a JSON object"));
  const std::string id = v2::NewObjectId();
  auto ld = ToLd(body->get_object(), id, false);
  if (!ld) return OrionResponse(ld.error());
  auto made = registrations_.Create(call->tenant, *ld, context());
  if (!made) return OrionResponse(FromProblem(made.error()));
  Response r;
  r.status = 201;
  r.SetHeader("Location", "/v2/registrations/" + id);
  return r;
}

Response NgsiV2Api::Impl::ListRegistrations(Request& req, const PathParams&) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  auto accept = Negotiate(req, false);
  if (!accept) return OrionResponse(accept.error());
  EntityQuery paging;
  if (auto ok = ReadListOptions(req, paging, false); !ok) return OrionResponse(ok.error());
  const std::vector<RegistrationPtr> all = registrations_.List(call->tenant, RegistrationFilter{});
  return ListPage(paging, all.size(), [&](JsonWriter& w, size_t i) { RenderRegistration(w, *all[i]); });
}

Response NgsiV2Api::Impl::RetrieveRegistration(Request& req, const PathParams& p) {
  auto call = Prepare(req, false, false);
  if (!call) return OrionResponse(call.error());
  auto accept = Negotiate(req, false);
  if (!accept) return OrionResponse(accept.error());
  RegistrationPtr r = registrations_.Get(call->tenant, LdId(p.Get("registrationId")));
  if (!r || r->Expired(UnixMicrosNow())) {
    return OrionResponse(OrionError{404, "NotFound", "The requested registration has not been found. Check id"});
  }
  std::string body;
  JsonWriter w(body);
  RenderRegistration(w, *r);
  return Json(200, std::move(body));
}

Response NgsiV2Api::Impl::UpdateRegistration(Request& req, const PathParams& p) {
  auto call = Prepare(req, true, true);
  if (!call) return OrionResponse(call.error());
  auto body = ParseBody(req);
  if (!body) return OrionResponse(body.error());
  if (!body->is_object()) return OrionResponse(V2BadRequest("a registration update is a JSON object"));
  const std::string id = LdId(p.Get("registrationId"));
  auto ld = ToLd(body->get_object(), id, true);
  if (!ld) return OrionResponse(ld.error());
  if (auto ok = registrations_.Update(call->tenant, id, *ld, context()); !ok) return OrionResponse(FromProblem(ok.error()));
  return NoContent();
}

Response NgsiV2Api::Impl::DeleteRegistration(Request& req, const PathParams& p) {
  auto call = Prepare(req, true, false);
  if (!call) return OrionResponse(call.error());
  if (!registrations_.Delete(call->tenant, LdId(p.Get("registrationId")))) {
    return OrionResponse(OrionError{404, "NotFound", "The requested registration has not been found. Check id"});
  }
  return NoContent();
}

}  // namespace citybed::broker
