#include "citybed/broker/registrations.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <mutex>

#include "citybed/broker/http_message.h"
#include "citybed/common/strings.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {


struct Group {
  std::string_view name;
  std::vector<std::string_view> members;
};

// CIM 009 V1.9.1, 4.20: the operations a context source can declare, and the groups that
// stand for several.
const std::vector<Group>& Groups() {
  static const std::vector<Group> kGroups = {
      {"federationOps",
       {"retrieveEntity", "queryEntity", "queryBatch", "retrieveEntityTypes", "retrieveEntityTypeDetails",
        "retrieveEntityTypeInfo", "retrieveAttrTypes", "retrieveAttrTypeDetails", "retrieveAttrTypeInfo",
        "createSubscription", "updateSubscription", "retrieveSubscription", "querySubscription", "deleteSubscription"}},
      {"updateOps", {"updateEntity", "updateAttrs", "replaceEntity", "replaceAttrs"}},
      {"retrieveOps", {"retrieveEntity", "queryEntity"}},
      {"redirectionOps",
       {"createEntity", "updateEntity", "appendAttrs", "updateAttrs", "deleteAttrs", "deleteEntity", "mergeEntity",
        "replaceEntity", "replaceAttrs", "createBatch", "upsertBatch", "updateBatch", "deleteBatch", "mergeBatch",
        "retrieveEntity", "queryEntity", "queryBatch", "retrieveEntityTypes", "retrieveEntityTypeDetails",
        "retrieveEntityTypeInfo", "retrieveAttrTypes", "retrieveAttrTypeDetails", "retrieveAttrTypeInfo"}},
  };
  return kGroups;
}

// Expands a list of entity-type names held in a JSON value (a string or an array of them).
Expected<std::vector<uint32_t>, Problem> ExpandNames(const json::value& v, const Context& ctx, Interner& names,
                                                     const std::string& where) {
  std::vector<uint32_t> out;
  if (!v.is_array()) return Unexpected(BadRequestData(where + " must be an array of names"));
  for (const json::value& n : v.get_array()) {
    if (!n.is_string() || n.get_string().empty() || !IsValidName(n.get_string())) {
      return Unexpected(BadRequestData(where + " must hold valid attribute names"));
    }
    out.push_back(ctx.ExpandToId(n.get_string(), names));
  }
  return out;
}

}  // namespace

std::string_view ToString(RegistrationMode m) {
  switch (m) {
    case RegistrationMode::kInclusive: return "inclusive";
    case RegistrationMode::kExclusive: return "exclusive";
    case RegistrationMode::kRedirect: return "redirect";
    case RegistrationMode::kAuxiliary: return "auxiliary";
  }
  return "inclusive";
}

const std::vector<std::string>& RegistrationOperations() {
  static const std::vector<std::string> kOps = [] {
    std::vector<std::string> out;
    for (const Group& g : Groups()) {
      for (std::string_view m : g.members) {
        if (std::find(out.begin(), out.end(), m) == out.end()) out.emplace_back(m);
      }
    }
    for (std::string_view extra : {"upsertTemporal", "appendAttrsTemporal", "deleteAttrsTemporal", "updateAttrsTemporal",
                                   "deleteAttrInstanceTemporal", "deleteTemporal", "retrieveTemporal", "queryTemporal"}) {
      out.emplace_back(extra);
    }
    return out;
  }();
  return kOps;
}

bool IsRegistrationOperationOrGroup(std::string_view name) {
  for (const Group& g : Groups()) {
    if (g.name == name) return true;
  }
  const auto& ops = RegistrationOperations();
  return std::find(ops.begin(), ops.end(), name) != ops.end();
}

bool Registration::Allows(std::string_view operation) const {
  return std::find(expanded_operations.begin(), expanded_operations.end(), operation) != expanded_operations.end();
}

namespace {

// The members that say how to forward: tenant, contextSourceInfo, contextSourceAlias, management.
Expected<void, Problem> ParseForwarding(const json::object& body, Registration& r) {
  if (const json::value* t = body.if_contains("tenant")) {
    if (!t->is_string() || !ValidHeaderValue(t->get_string())) return Unexpected(BadRequestData("tenant must be a tenant name"));
    r.source_tenant = std::string(t->get_string());
  }
  if (const json::value* a = body.if_contains("contextSourceAlias")) {
    if (!a->is_string() || a->get_string().empty() || !ValidHeaderValue(a->get_string()) ||
        a->get_string().find_first_of(" ,") != json::string::npos) {
      return Unexpected(BadRequestData("contextSourceAlias must be a name without spaces or commas (it travels in Via headers)"));
    }
    r.alias = std::string(a->get_string());
  }
  if (const json::value* info = body.if_contains("contextSourceInfo")) {
    if (!info->is_array()) return Unexpected(BadRequestData("contextSourceInfo must be an array of KeyValuePair"));
    for (const json::value& kv : info->get_array()) {
      const json::object* o = kv.if_object();
      const json::value* k = o ? o->if_contains("key") : nullptr;
      const json::value* v = o ? o->if_contains("value") : nullptr;
      if (k == nullptr || v == nullptr || !k->is_string() || !v->is_string()) {
        return Unexpected(BadRequestData("every contextSourceInfo element must be {\"key\": string, \"value\": string}"));
      }
      // The pairs become headers of forwarded requests: checked where they enter.
      if (!ValidHeaderName(k->get_string()) || !ValidHeaderValue(v->get_string())) {
        return Unexpected(BadRequestData("contextSourceInfo " + std::string(k->get_string()) + " cannot be an HTTP header"));
      }
      r.source_info.emplace_back(std::string(k->get_string()), std::string(v->get_string()));
    }
  }
  if (const json::value* m = body.if_contains("management")) {
    const json::object* o = m->if_object();
    if (o == nullptr) return Unexpected(BadRequestData("management must be an object"));
    if (const json::value* l = o->if_contains("localOnly")) {
      if (!l->is_bool()) return Unexpected(BadRequestData("management.localOnly must be true or false"));
      r.local_only = l->get_bool();
    }
    for (const char* key : {"timeout", "cooldown"}) {
      const json::value* v = o->if_contains(key);
      if (v == nullptr) continue;
      const double ms = v->is_number() ? v->to_number<double>() : -1;
      if (!(ms > 0) || ms > 86400000.0) {
        return Unexpected(BadRequestData(std::string("management.") + key + " must be a number of milliseconds above 0 (at most a day)"));
      }
      (std::string_view(key) == "timeout" ? r.timeout_ms : r.cooldown_ms) = std::max<int64_t>(1, static_cast<int64_t>(ms));
    }
    if (const json::value* c = o->if_contains("cacheDuration"); c && !c->is_string()) {
      return Unexpected(BadRequestData("management.cacheDuration must be an ISO 8601 duration"));
    }
  }
  return {};
}

}  // namespace

Expected<std::shared_ptr<Registration>, Problem> RegistrationManager::Parse(const json::object& body,
                                                                           const Context& ctx) const {
  auto r = std::make_shared<Registration>();
  json::object doc;
  for (const auto& [key, value] : body) {
    if (key == "@context") continue;
    doc[key] = value;
  }
  // id (optional: assigned), type.
  if (const json::value* id = body.if_contains("id")) {
    if (!id->is_string() || !IsUri(id->get_string())) return Unexpected(BadRequestData("the registration id must be a URI"));
    r->id = std::string(id->get_string());
  }
  const json::value* type = body.if_contains("type");
  if (type == nullptr || !type->is_string() || type->get_string() != "ContextSourceRegistration") {
    return Unexpected(BadRequestData("type must be \"ContextSourceRegistration\""));
  }
  // information: a non-empty array of RegistrationInfo.
  const json::value* info = body.if_contains("information");
  if (info == nullptr || !info->is_array() || info->get_array().empty()) {
    return Unexpected(BadRequestData("information must be a non-empty array of RegistrationInfo"));
  }
  json::array info_doc;
  for (const json::value& item : info->get_array()) {
    if (!item.is_object()) return Unexpected(BadRequestData("every information element must be an object"));
    const json::object& o = item.get_object();
    RegistrationInfo ri;
    json::object item_doc = o;
    bool any = false;
    if (const json::value* ents = o.if_contains("entities")) {
      if (!ents->is_array() || ents->get_array().empty()) return Unexpected(BadRequestData("information.entities must be a non-empty array"));
      json::array ents_doc;
      for (const json::value& e : ents->get_array()) {
        if (!e.is_object()) return Unexpected(BadRequestData("information.entities holds EntityInfo objects"));
        const json::object& eo = e.get_object();
        RegisteredEntities re;
        const json::value* t = eo.if_contains("type");
        if (t == nullptr || !t->is_string() || t->get_string().empty()) return Unexpected(BadRequestData("every EntityInfo needs a type"));
        re.type = ctx.ExpandToId(t->get_string(), names_);
        if (const json::value* id = eo.if_contains("id")) {
          if (!id->is_string() || !IsUri(id->get_string())) return Unexpected(BadRequestData("EntityInfo id must be a URI"));
          re.id = std::string(id->get_string());
        }
        if (const json::value* p = eo.if_contains("idPattern")) {
          if (!p->is_string() || p->get_string().size() > 512) return Unexpected(BadRequestData("EntityInfo idPattern must be a regular expression"));
          auto compiled = Pattern::Compile(p->get_string());
          if (!compiled) return Unexpected(BadRequestData("EntityInfo idPattern is not a valid regular expression: " + compiled.error()));
          re.id_regex = *compiled;
          re.id_pattern = std::string(p->get_string());
        }
        json::object stored = eo;
        stored["type"] = names_.Name(re.type);
        ents_doc.push_back(std::move(stored));
        ri.entities.push_back(std::move(re));
      }
      item_doc["entities"] = std::move(ents_doc);
      any = true;
    }
    for (const char* key : {"propertyNames", "relationshipNames"}) {
      const json::value* v = o.if_contains(key);
      if (v == nullptr) continue;
      auto ids = ExpandNames(*v, ctx, names_, std::string("information.") + key);
      if (!ids) return Unexpected(std::move(ids).error());
      json::array stored;
      for (uint32_t n : *ids) stored.push_back(json::string(names_.Name(n)));
      item_doc[key] = std::move(stored);
      (std::string_view(key) == "propertyNames" ? ri.property_names : ri.relationship_names) = std::move(*ids);
      any = true;
    }
    if (!any) return Unexpected(BadRequestData("every RegistrationInfo needs entities, propertyNames or relationshipNames"));
    r->information.push_back(std::move(ri));
    info_doc.push_back(std::move(item_doc));
  }
  doc["information"] = std::move(info_doc);
  // endpoint: a URI.
  const json::value* endpoint = body.if_contains("endpoint");
  if (endpoint == nullptr || !endpoint->is_string() || !IsUri(endpoint->get_string()) ||
      endpoint->get_string().find(' ') != std::string::npos) {
    return Unexpected(BadRequestData("endpoint must be the URI of the context source"));
  }
  r->endpoint = std::string(endpoint->get_string());
  // mode.
  if (const json::value* mode = body.if_contains("mode")) {
    const std::string_view m = mode->is_string() ? std::string_view(mode->get_string()) : std::string_view();
    if (m == "inclusive") r->mode = RegistrationMode::kInclusive;
    else if (m == "exclusive") r->mode = RegistrationMode::kExclusive;
    else if (m == "redirect") r->mode = RegistrationMode::kRedirect;
    else if (m == "auxiliary") r->mode = RegistrationMode::kAuxiliary;
    else return Unexpected(BadRequestData("mode must be inclusive, exclusive, redirect or auxiliary"));
  }
  // Exclusive registrations name their entities by id (4.3.6.3); redirect ones may name a
  // type or an id pattern: every request they match goes to all of them.
  if (r->mode == RegistrationMode::kExclusive) {
    for (const RegistrationInfo& ri : r->information) {
      if (ri.entities.empty()) return Unexpected(BadRequestData("an exclusive registration must name its entities by id"));
      for (const RegisteredEntities& e : ri.entities) {
        if (e.id.empty()) return Unexpected(BadRequestData("an exclusive registration must name every entity by id"));
      }
    }
  }
  // operations.
  if (const json::value* ops = body.if_contains("operations")) {
    if (!ops->is_array() || ops->get_array().empty()) return Unexpected(BadRequestData("operations must be a non-empty array"));
    for (const json::value& op : ops->get_array()) {
      if (!op.is_string() || !IsRegistrationOperationOrGroup(op.get_string())) {
        return Unexpected(BadRequestData("unknown operation " + json::serialize(op) + " (see CIM 009, 4.20)"));
      }
      r->operations.emplace_back(op.get_string());
    }
  } else {
    r->operations = {"federationOps"};  // the default
  }
  for (const std::string& op : r->operations) {
    bool group = false;
    for (const Group& g : Groups()) {
      if (g.name != op) continue;
      group = true;
      for (std::string_view m : g.members) r->expanded_operations.emplace_back(m);
    }
    if (!group) r->expanded_operations.push_back(op);
  }
  if (r->mode == RegistrationMode::kAuxiliary) {
    for (const std::string& op : r->expanded_operations) {
      if (op != "retrieveEntity" && op != "queryEntity" && op != "queryBatch" && op.rfind("retrieve", 0) != 0 &&
          op.rfind("query", 0) != 0) {
        return Unexpected(BadRequestData("an auxiliary registration only serves reads, not " + op));
      }
    }
  }
  // location, expiresAt, registrationName, description.
  if (const json::value* loc = body.if_contains("location")) {
    auto g = ParseGeoJson(*loc);
    if (!g) return Unexpected(BadRequestData("location: " + g.error()));
    r->location = std::move(*g);
  }
  if (const json::value* exp = body.if_contains("expiresAt")) {
    if (!exp->is_string()) return Unexpected(BadRequestData("expiresAt must be a date-time"));
    auto t = ParseRfc3339Micros(exp->get_string());
    if (!t) return Unexpected(BadRequestData("expiresAt must be a date-time"));
    r->expires_at = *t;
  }
  if (auto ok = ParseForwarding(body, *r); !ok) return Unexpected(std::move(ok).error());
  for (const char* key : {"registrationName", "description"}) {
    if (const json::value* v = body.if_contains(key); v && !v->is_string()) return Unexpected(BadRequestData(std::string(key) + " must be a string"));
  }
  r->document = std::move(doc);
  return r;
}

Expected<std::string, Problem> RegistrationManager::Create(const std::string& tenant, const json::object& body,
                                                           const Context& ctx) {
  auto r = Parse(body, ctx);
  if (!r) return Unexpected(std::move(r).error());
  if ((*r)->id.empty()) {
    (*r)->id = "urn:ngsi-ld:ContextSourceRegistration:" + std::to_string(next_id_++) + "-" + std::to_string(UnixMicrosNow());
    (*r)->document["id"] = (*r)->id;
  }
  const int64_t now = UnixMicrosNow();
  if ((*r)->expires_at != kNoTime && (*r)->expires_at <= now) return Unexpected(BadRequestData("expiresAt lies in the past"));
  (*r)->tenant = tenant;
  (*r)->created_at = (*r)->modified_at = now;
  std::unique_lock lock(mu_);
  auto& t = tenants_[tenant];
  if (t.count((*r)->id)) {
    return Unexpected(MakeProblem(ErrorType::kAlreadyExists, "registration " + (*r)->id + " already exists"));
  }
  if (const size_t max = max_per_tenant_.load(std::memory_order_relaxed); max != 0 && t.size() >= max) {
    return Unexpected(MakeProblem(ErrorType::kForbidden, "the tenant holds " + std::to_string(t.size()) +
                                                             " registrations, as many as it may (citybed broker --max-registrations)"));
  }
  const std::string id = (*r)->id;
  RegistrationPtr created = std::move(*r);
  t.emplace(id, created);
  lock.unlock();
  if (observer_) observer_(tenant, id);
  if (listener_) listener_(tenant, nullptr, created);
  return id;
}

Expected<void, Problem> RegistrationManager::Update(const std::string& tenant, const std::string& id,
                                                    const json::object& patch, const Context& ctx) {
  std::unique_lock lock(mu_);
  auto t = tenants_.find(tenant);
  if (t == tenants_.end() || !t->second.count(id)) {
    return Unexpected(MakeProblem(ErrorType::kResourceNotFound, "registration " + id + " does not exist"));
  }
  const RegistrationPtr old = t->second[id];
  if (const json::value* pid = patch.if_contains("id"); pid && (!pid->is_string() || pid->get_string() != id)) {
    return Unexpected(BadRequestData("a registration's id cannot change"));
  }
  // The stored document has expanded names: render it under the core context is not needed,
  // since expanded IRIs expand to themselves under any context.
  json::object merged = old->document;
  for (const auto& [key, value] : patch) {
    if (key == "@context") continue;
    merged[key] = value;
  }
  merged["type"] = "ContextSourceRegistration";
  auto r = Parse(merged, ctx);
  if (!r) return Unexpected(std::move(r).error());
  const int64_t now = UnixMicrosNow();
  if (patch.if_contains("expiresAt") && (*r)->expires_at != kNoTime && (*r)->expires_at <= now) {
    return Unexpected(BadRequestData("expiresAt lies in the past"));
  }
  (*r)->id = id;
  (*r)->tenant = tenant;
  (*r)->created_at = old->created_at;
  (*r)->modified_at = now;
  RegistrationPtr updated = std::move(*r);
  t->second[id] = updated;
  lock.unlock();
  if (observer_) observer_(tenant, id);
  if (listener_) listener_(tenant, old, updated);
  return {};
}

bool RegistrationManager::Delete(const std::string& tenant, const std::string& id) {
  std::unique_lock lock(mu_);
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return false;
  auto it = t->second.find(id);
  if (it == t->second.end()) return false;
  const RegistrationPtr old = it->second;
  t->second.erase(it);
  lock.unlock();
  if (observer_) observer_(tenant, id);
  if (listener_) listener_(tenant, old, nullptr);
  return true;
}

Expected<void, Problem> RegistrationManager::Restore(const std::string& tenant, const json::object& document,
                                                     const Context& ctx, int64_t created_at, int64_t modified_at) {
  auto r = Parse(document, ctx);
  if (!r) return Unexpected(std::move(r).error());
  if ((*r)->id.empty()) return Unexpected(BadRequestData("a stored registration has no id"));
  (*r)->tenant = tenant;
  (*r)->created_at = created_at;
  (*r)->modified_at = modified_at;
  std::unique_lock lock(mu_);
  const std::string id = (*r)->id;
  tenants_[tenant][id] = std::move(*r);
  return {};
}

RegistrationPtr RegistrationManager::Get(const std::string& tenant, const std::string& id) const {
  std::shared_lock lock(mu_);
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return nullptr;
  auto it = t->second.find(id);
  return it == t->second.end() ? nullptr : it->second;
}

std::vector<RegistrationPtr> RegistrationManager::List(const std::string& tenant, const RegistrationFilter& f) const {
  std::vector<RegistrationPtr> out;
  const int64_t now = UnixMicrosNow();
  std::shared_lock lock(mu_);
  auto t = tenants_.find(tenant);
  if (t == tenants_.end()) return out;
  for (const auto& [id, r] : t->second) {
    if (r->Expired(now)) continue;
    bool ok = f.types.empty() && f.ids.empty() && !f.id_pattern && f.attrs.empty();
    if (!ok) {
      for (const RegistrationInfo& ri : r->information) {
        bool entity_ok = f.types.empty() && f.ids.empty() && !f.id_pattern;
        for (const RegisteredEntities& e : ri.entities) {
          const bool type_ok = f.types.empty() || std::find(f.types.begin(), f.types.end(), e.type) != f.types.end();
          const bool id_ok = f.ids.empty() || e.id.empty() || std::find(f.ids.begin(), f.ids.end(), e.id) != f.ids.end();
          const bool pattern_ok = !f.id_pattern || e.id.empty() || f.id_pattern->Search(e.id);
          entity_ok = entity_ok || (type_ok && id_ok && pattern_ok);
        }
        bool attr_ok = f.attrs.empty() || (ri.property_names.empty() && ri.relationship_names.empty());
        for (uint32_t a : f.attrs) {
          attr_ok = attr_ok || std::count(ri.property_names.begin(), ri.property_names.end(), a) ||
                    std::count(ri.relationship_names.begin(), ri.relationship_names.end(), a);
        }
        ok = ok || (entity_ok && attr_ok);
      }
    }
    if (ok) out.push_back(r);
  }
  return out;
}

bool RegistrationManager::HasTenant(const std::string& tenant) const {
  std::shared_lock lock(mu_);
  auto t = tenants_.find(tenant);
  return t != tenants_.end() && !t->second.empty();
}

size_t RegistrationManager::Count() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (const auto& [tenant, regs] : tenants_) n += regs.size();
  return n;
}

void RegistrationManager::Render(JsonWriter& w, const Registration& r, const Context& ctx, bool sys_attrs) const {
  json::object doc = r.document;
  if (json::value* info = doc.if_contains("information"); info && info->is_array()) {
    for (json::value& item : info->get_array()) {
      json::object& o = item.get_object();
      if (json::value* ents = o.if_contains("entities")) {
        for (json::value& e : ents->get_array()) {
          json::object& eo = e.get_object();
          if (json::value* t = eo.if_contains("type"); t && t->is_string()) *t = json::string(ctx.Compact(t->get_string()));
        }
      }
      for (const char* key : {"propertyNames", "relationshipNames"}) {
        if (json::value* v = o.if_contains(key)) {
          for (json::value& n : v->get_array()) n = json::string(ctx.Compact(n.get_string()));
        }
      }
    }
  }
  if (!doc.contains("mode")) doc["mode"] = "inclusive";
  if (sys_attrs) {
    doc["createdAt"] = FormatRfc3339Micros(r.created_at);
    doc["modifiedAt"] = FormatRfc3339Micros(r.modified_at);
  }
  w.Raw(json::serialize(doc));
}

}  // namespace citybed::broker
