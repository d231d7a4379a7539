#include "citybed/broker/subscriptions.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <cmath>
#include <random>

#include "citybed/common/strings.h"
#include "json_parse.h"

namespace citybed::broker {
namespace json = boost::json;

namespace {


std::string RandomPrefix() {
  std::random_device rd;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

bool IsTrigger(std::string_view t) {
  return t == "entityCreated" || t == "entityUpdated" || t == "entityDeleted" || t == "attributeCreated" ||
         t == "attributeUpdated" || t == "attributeDeleted";
}


}  // namespace

const std::string& SubscriptionManager::ProcessPrefix() {
  static const std::string prefix = RandomPrefix();
  return prefix;
}

bool EntitySelector::Matches(const Entity& e) const {
  if (type != 0 && !e.HasType(type)) return false;
  if (!id.empty() && e.id != id) return false;
  if (id_regex && !id_regex->FullMatch(e.id)) return false;
  return true;
}

std::string_view Subscription::State(int64_t now) const {
  if (expires_at != kNoTime && now >= expires_at) return "expired";
  return active ? "active" : "paused";
}

SubscriptionManager::SubscriptionManager(Interner& names, Notifier& notifier) : names_(names), notifier_(notifier) {}

namespace {

// temporalQ (4.11): {timerel, timeAt[, endTimeAt][, timeproperty]}.
Expected<TemporalQ, Problem> ParseTemporalQ(const json::value& v) {
  const json::object* o = v.if_object();
  if (o == nullptr) return Unexpected(BadRequestData("temporalQ must be an object"));
  TemporalQ t;
  const json::value* rel = o->if_contains("timerel");
  if (rel == nullptr || !rel->is_string() ||
      (rel->get_string() != "before" && rel->get_string() != "after" && rel->get_string() != "between")) {
    return Unexpected(BadRequestData("temporalQ.timerel must be before, after or between"));
  }
  t.timerel = std::string(rel->get_string());
  auto time = [&](const char* key, int64_t& out, std::string& text) -> Expected<void, Problem> {
    const json::value* x = o->if_contains(key);
    if (x == nullptr || !x->is_string()) return Unexpected(BadRequestData(std::string("temporalQ.") + key + " must be a date-time"));
    auto parsed = ParseRfc3339Micros(x->get_string());
    if (!parsed) return Unexpected(BadRequestData(std::string("temporalQ.") + key + " must be a date-time"));
    out = *parsed;
    text = std::string(x->get_string());
    return {};
  };
  if (auto ok = time("timeAt", t.at, t.at_text); !ok) return Unexpected(ok.error());
  if (t.timerel == "between") {
    if (auto ok = time("endTimeAt", t.end_at, t.end_at_text); !ok) return Unexpected(ok.error());
    if (t.end_at <= t.at) return Unexpected(BadRequestData("temporalQ.endTimeAt must be after timeAt"));
  }
  if (const json::value* p = o->if_contains("timeproperty")) {
    if (!p->is_string() || (p->get_string() != "observedAt" && p->get_string() != "createdAt" &&
                            p->get_string() != "modifiedAt")) {
      return Unexpected(BadRequestData("temporalQ.timeproperty must be observedAt, createdAt or modifiedAt"));
    }
    t.property = std::string(p->get_string());
  }
  return t;
}

}  // namespace

Expected<std::shared_ptr<Subscription>, Problem> SubscriptionManager::Parse(const json::object& body,
                                                                            const ContextPtr& ctx,
                                                                            std::shared_ptr<Subscription> s,
                                                                            bool restoring) {
  s->context = ctx;
  const Context& c = *ctx;
  if (const json::value* t = body.if_contains("type"); t && (!t->is_string() || t->get_string() != "Subscription")) {
    return Unexpected(BadRequestData("a subscription's type must be \"Subscription\""));
  }
  s->time_interval = 0;
  if (const json::value* ti = body.if_contains("timeInterval")) {
    const double v = ti->is_double() ? ti->get_double() : ti->is_int64() ? static_cast<double>(ti->get_int64()) : -1;
    if (!(v > 0) || v > 1e9) return Unexpected(BadRequestData("timeInterval must be a positive number of seconds, at most 1e9"));
    // Table 5.2.12-1: a periodic subscription has no watchedAttributes, throttling or triggers.
    for (const char* key : {"watchedAttributes", "throttling", "notificationTrigger"}) {
      if (body.contains(key)) return Unexpected(BadRequestData(std::string("a subscription with timeInterval cannot have ") + key));
    }
    s->time_interval = v;
  }
  auto str = [&](const char* key, std::string& out) -> Expected<void, Problem> {
    if (const json::value* v = body.if_contains(key)) {
      if (!v->is_string()) return Unexpected(BadRequestData(std::string(key) + " must be a string"));
      out = std::string(v->get_string());
    }
    return {};
  };
  if (auto r = str("subscriptionName", s->name); !r) return Unexpected(r.error());
  if (auto r = str("description", s->description); !r) return Unexpected(r.error());

  s->entities.clear();
  if (const json::value* ents = body.if_contains("entities")) {
    if (!ents->is_array() || ents->get_array().empty()) return Unexpected(BadRequestData("entities must be a non-empty array"));
    for (const auto& e : ents->get_array()) {
      if (!e.is_object()) return Unexpected(BadRequestData("every item of entities must be an object"));
      EntitySelector sel;
      const auto& o = e.get_object();
      if (const json::value* t = o.if_contains("type")) {
        if (!t->is_string() || !IsValidName(t->get_string())) return Unexpected(BadRequestData("entities[].type must be a name"));
        sel.type = c.ExpandToId(t->get_string(), names_);
      }
      if (const json::value* id = o.if_contains("id")) {
        if (!id->is_string() || !IsUri(id->get_string())) return Unexpected(BadRequestData("entities[].id must be a URI"));
        sel.id = std::string(id->get_string());
      }
      if (const json::value* p = o.if_contains("idPattern")) {
        if (!p->is_string()) return Unexpected(BadRequestData("entities[].idPattern must be a string"));
        sel.id_pattern = std::string(p->get_string());
        auto re = Pattern::Compile(sel.id_pattern);
        if (!re) return Unexpected(BadRequestData("entities[].idPattern is not a valid regular expression: " + re.error()));
        sel.id_regex = *re;
      }
      s->entities.push_back(std::move(sel));
    }
  }
  s->watched.clear();
  if (const json::value* w = body.if_contains("watchedAttributes")) {
    if (!w->is_array() || w->get_array().empty()) return Unexpected(BadRequestData("watchedAttributes must be a non-empty array"));
    for (const auto& a : w->get_array()) {
      if (!a.is_string() || !IsValidName(a.get_string())) return Unexpected(BadRequestData("watchedAttributes must hold names"));
      s->watched.push_back(c.ExpandToId(a.get_string(), names_));
    }
  }
  if (s->entities.empty() && s->watched.empty()) {
    return Unexpected(BadRequestData("a subscription needs entities or watchedAttributes"));
  }
  s->q.reset();
  if (const json::value* q = body.if_contains("q")) {
    if (!q->is_string()) return Unexpected(BadRequestData("q must be a string"));
    auto parsed = Query::Parse(q->get_string());
    if (!parsed) return Unexpected(BadRequestData(parsed.error().detail));
    parsed->Bind(c, names_);
    s->q = std::move(*parsed);
  }
  s->geoq.reset();
  if (const json::value* g = body.if_contains("geoQ")) {
    auto parsed = ParseGeoQueryObject(*g);
    if (!parsed) return Unexpected(parsed.error());
    s->geoq_property = c.ExpandToId(parsed->geoproperty, names_);
    s->geoq = std::move(*parsed);
  }
  s->temporal_q.reset();
  if (const json::value* tq = body.if_contains("temporalQ")) {
    auto parsed = ParseTemporalQ(*tq);
    if (!parsed) return Unexpected(parsed.error());
    s->temporal_q = std::move(*parsed);
  }
  const json::value* n = body.if_contains("notification");
  if (n == nullptr || !n->is_object()) return Unexpected(BadRequestData("a subscription needs a notification object"));
  const auto& no = n->get_object();
  s->notify_attrs.clear();
  if (const json::value* a = no.if_contains("attributes")) {
    if (!a->is_array()) return Unexpected(BadRequestData("notification.attributes must be an array"));
    for (const auto& x : a->get_array()) {
      if (!x.is_string()) return Unexpected(BadRequestData("notification.attributes must hold names"));
      s->notify_attrs.push_back(c.ExpandToId(x.get_string(), names_));
    }
  }
  s->format = Format::kNormalized;
  if (const json::value* f = no.if_contains("format")) {
    const std::string_view fs = f->is_string() ? f->get_string() : std::string_view();
    if (fs == "normalized") s->format = Format::kNormalized;
    else if (fs == "keyValues" || fs == "simplified") s->format = Format::kKeyValues;
    else if (fs == "concise") s->format = Format::kConcise;
    else return Unexpected(BadRequestData("notification.format must be normalized, keyValues or concise"));
  }
  if (const json::value* sa = no.if_contains("sysAttrs")) s->sys_attrs = sa->is_bool() && sa->get_bool();
  const json::value* ep = no.if_contains("endpoint");
  if (ep == nullptr || !ep->is_object()) return Unexpected(BadRequestData("notification.endpoint is required"));
  const json::value* uri = ep->get_object().if_contains("uri");
  if (uri == nullptr || !uri->is_string() || !IsUri(uri->get_string())) {
    return Unexpected(BadRequestData("notification.endpoint.uri must be a URI"));
  }
  s->endpoint = std::string(uri->get_string());
  s->accept = "application/json";
  if (const json::value* acc = ep->get_object().if_contains("accept")) {
    if (!acc->is_string() || (acc->get_string() != "application/json" && acc->get_string() != "application/ld+json")) {
      return Unexpected(BadRequestData("notification.endpoint.accept must be application/json or application/ld+json"));
    }
    s->accept = std::string(acc->get_string());
  }
  s->receiver_info.clear();
  if (const json::value* ri = ep->get_object().if_contains("receiverInfo")) {
    if (!ri->is_array()) return Unexpected(BadRequestData("notification.endpoint.receiverInfo must be an array"));
    for (const auto& kv : ri->get_array()) {
      const json::value* k = kv.is_object() ? kv.get_object().if_contains("key") : nullptr;
      const json::value* v = kv.is_object() ? kv.get_object().if_contains("value") : nullptr;
      if (!k || !v || !k->is_string() || !v->is_string()) {
        return Unexpected(BadRequestData("receiverInfo items must be {\"key\": string, \"value\": string}"));
      }
      // They become headers of every notification: nothing that could split or break one.
      if (!ValidHeaderName(k->get_string())) {
        return Unexpected(BadRequestData("receiverInfo key \"" + std::string(k->get_string().subview().substr(0, 64)) +
                              "\" is not an HTTP header name"));
      }
      if (!ValidHeaderValue(v->get_string())) {
        return Unexpected(BadRequestData("receiverInfo value of " + std::string(k->get_string()) +
                              " holds CR, LF or NUL, or is longer than " + std::to_string(kMaxHeaderValue) + " bytes"));
      }
      s->receiver_info.push_back({std::string(k->get_string()), std::string(v->get_string())});
    }
  }
  s->triggers.clear();
  if (const json::value* tr = body.if_contains("notificationTrigger")) {
    if (!tr->is_array()) return Unexpected(BadRequestData("notificationTrigger must be an array"));
    for (const auto& t : tr->get_array()) {
      if (!t.is_string() || !IsTrigger(t.get_string())) {
        return Unexpected(BadRequestData("unknown notificationTrigger (use entityCreated, entityUpdated, entityDeleted, "
                              "attributeCreated, attributeUpdated or attributeDeleted)"));
      }
      s->triggers.emplace_back(t.get_string());
    }
  }
  s->expires_at = kNoTime;
  if (const json::value* e = body.if_contains("expiresAt")) {
    auto t = e->is_string() ? ParseRfc3339Micros(e->get_string()) : Expected<int64_t>(Unexpected(Error::InvalidArgument("")));
    if (!t) return Unexpected(BadRequestData("expiresAt must be a date-time"));
    // 5.8.1.4 and 5.8.2.4: an expiresAt in the past is BadRequestData (a stored subscription
    // that expired since is restored as it was).
    if (!restoring && *t <= UnixMicrosNow()) return Unexpected(BadRequestData("expiresAt lies in the past"));
    s->expires_at = *t;
  }
  s->throttling = 0;
  if (const json::value* th = body.if_contains("throttling")) {
    double v = th->is_double() ? th->get_double() : (th->is_int64() ? static_cast<double>(th->get_int64()) : -1);
    // Bounded (as timeInterval) so that the window in microseconds is an int64 (1e300 overflowed it).
    if (!(v > 0) || v > 1e9) return Unexpected(BadRequestData("throttling must be a positive number of seconds, at most 1e9"));
    s->throttling = v;
  }
  if (const json::value* a = body.if_contains("isActive")) {
    if (!a->is_bool()) return Unexpected(BadRequestData("isActive must be true or false"));
    s->active = a->get_bool();
  }
  return s;
}

Expected<std::string, Problem> SubscriptionManager::Create(const std::string& tenant, const json::object& body,
                                                           ContextPtr context) {
  auto s = std::make_shared<Subscription>();
  if (const json::value* id = body.if_contains("id")) {
    if (!id->is_string() || !IsUri(id->get_string())) return Unexpected(BadRequestData("subscription id must be a URI"));
    s->id = std::string(id->get_string());
  } else {
    s->id = "urn:ngsi-ld:Subscription:" + ProcessPrefix() + "-" + std::to_string(next_id_.fetch_add(1));
  }
  s->tenant = tenant;
  auto parsed = Parse(body, context, s);
  if (!parsed) return Unexpected(std::move(parsed).error());
  s->created_at = s->modified_at = UnixMicrosNow();
  std::unique_lock lock(mu_);
  TenantSubs& t = tenants_[tenant];
  if (t.by_id.count(s->id)) {
    return Unexpected(MakeProblem(ErrorType::kAlreadyExists, "subscription " + s->id + " already exists"));
  }
  if (auto full = Full(t)) return Unexpected(std::move(*full));
  t.by_id[s->id] = s;
  Reindex(t);
  lock.unlock();
  NotifyObserver(tenant, s->id);
  return s->id;
}

Expected<void, Problem> SubscriptionManager::Update(const std::string& tenant, const std::string& id,
                                                    const json::object& patch, ContextPtr context) {
  SubscriptionPtr current = Get(tenant, id);
  if (!current) return Unexpected(MakeProblem(ErrorType::kResourceNotFound, "no subscription " + id));
  if (const json::value* pid = patch.if_contains("id"); pid && (!pid->is_string() || pid->get_string() != id)) {
    return Unexpected(BadRequestData("the id of a subscription cannot be changed"));
  }
  // Re-render the current definition in its own context, apply the patch, and parse again.
  std::string text;
  JsonWriter w(text);
  Render(w, *current, *current->context, false);
  boost::system::error_code pec;
  json::object merged = ParseJson(text, pec).as_object();
  for (const auto& kv : patch) {
    if (kv.key() == "@context") continue;
    if (kv.key() == "notification" && kv.value().is_object() && merged.contains("notification")) {
      json::object& n = merged["notification"].as_object();
      for (const auto& nkv : kv.value().get_object()) n[nkv.key()] = nkv.value();
    } else {
      merged[kv.key()] = kv.value();
    }
  }
  auto next = std::make_shared<Subscription>(*current);
  const ContextPtr ctx = context && !context->is_core() ? context : current->context;
  auto parsed = Parse(merged, ctx, next);
  if (!parsed) return Unexpected(std::move(parsed).error());
  next->modified_at = UnixMicrosNow();
  std::unique_lock lock(mu_);
  TenantSubs& t = tenants_[tenant];
  if (!t.by_id.count(id)) return Unexpected(MakeProblem(ErrorType::kResourceNotFound, "no subscription " + id));
  t.by_id[id] = next;
  Reindex(t);
  lock.unlock();
  NotifyObserver(tenant, id);
  return {};
}

std::optional<Problem> SubscriptionManager::Full(const TenantSubs& t) const {
  const size_t max = max_per_tenant_.load(std::memory_order_relaxed);
  if (max == 0 || t.by_id.size() < max) return std::nullopt;
  return MakeProblem(ErrorType::kForbidden, "the tenant holds " + std::to_string(t.by_id.size()) +
                                                " subscriptions, as many as it may (citybed broker --max-subscriptions)");
}

Expected<void, Problem> SubscriptionManager::Add(const std::string& tenant, std::shared_ptr<Subscription> s) {
  s->tenant = tenant;
  std::unique_lock lock(mu_);
  TenantSubs& t = tenants_[tenant];
  if (t.by_id.count(s->id)) {
    return Unexpected(MakeProblem(ErrorType::kAlreadyExists, "subscription " + s->id + " already exists"));
  }
  if (auto full = Full(t)) return Unexpected(std::move(*full));
  const std::string id = s->id;
  t.by_id[id] = std::move(s);
  Reindex(t);
  lock.unlock();
  NotifyObserver(tenant, id);
  return {};
}

Expected<void, Problem> SubscriptionManager::Replace(const std::string& tenant, std::shared_ptr<Subscription> s) {
  s->tenant = tenant;
  std::unique_lock lock(mu_);
  TenantSubs& t = tenants_[tenant];
  auto it = t.by_id.find(s->id);
  if (it == t.by_id.end()) return Unexpected(MakeProblem(ErrorType::kResourceNotFound, "no subscription " + s->id));
  const std::string id = s->id;
  it->second = std::move(s);
  Reindex(t);
  lock.unlock();
  NotifyObserver(tenant, id);
  return {};
}

bool SubscriptionManager::Delete(const std::string& tenant, const std::string& id) {
  std::unique_lock lock(mu_);
  auto it = tenants_.find(tenant);
  if (it == tenants_.end() || it->second.by_id.erase(id) == 0) return false;
  Reindex(it->second);
  lock.unlock();
  NotifyObserver(tenant, id);
  return true;
}

void SubscriptionManager::NotifyObserver(const std::string& tenant, const std::string& id) const {
  if (observer_) observer_(tenant, id);
}

Expected<void, Problem> SubscriptionManager::Restore(const std::string& tenant, const json::object& doc,
                                                     ContextPtr context, int64_t created_at, int64_t modified_at) {
  auto s = std::make_shared<Subscription>();
  const json::value* id = doc.if_contains("id");
  if (id == nullptr || !id->is_string()) return Unexpected(BadRequestData("a stored subscription has no id"));
  s->id = std::string(id->get_string());
  s->tenant = tenant;
  auto parsed = Parse(doc, context, s, /*restoring=*/true);
  if (!parsed) return Unexpected(std::move(parsed).error());
  s->created_at = created_at;
  s->modified_at = modified_at;
  std::unique_lock lock(mu_);
  TenantSubs& t = tenants_[tenant];
  t.by_id[s->id] = s;
  Reindex(t);
  return {};
}

SubscriptionPtr SubscriptionManager::Get(const std::string& tenant, const std::string& id) const {
  std::shared_lock lock(mu_);
  auto it = tenants_.find(tenant);
  if (it == tenants_.end()) return nullptr;
  auto s = it->second.by_id.find(id);
  return s == it->second.by_id.end() ? nullptr : s->second;
}

std::vector<SubscriptionPtr> SubscriptionManager::List(const std::string& tenant) const {
  std::vector<SubscriptionPtr> out;
  {
    std::shared_lock lock(mu_);
    auto it = tenants_.find(tenant);
    if (it == tenants_.end()) return out;
    for (const auto& [id, s] : it->second.by_id) out.push_back(s);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
  return out;
}

bool SubscriptionManager::HasTenant(const std::string& tenant) const {
  std::shared_lock lock(mu_);
  return tenants_.count(tenant) > 0;
}

size_t SubscriptionManager::Count() const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (const auto& [name, t] : tenants_) n += t.by_id.size();
  return n;
}

SubscriptionCounters SubscriptionManager::Counters() const { return {matched_.load(), throttled_.load(), changes_.load()}; }

void SubscriptionManager::Reindex(TenantSubs& t) {
  t.by_type.clear();
  t.any_type.clear();
  for (const auto& [id, s] : t.by_id) {
    bool typed_only = !s->entities.empty();
    std::vector<uint32_t> types;
    for (const EntitySelector& sel : s->entities) {
      if (sel.type == 0) typed_only = false; else types.push_back(sel.type);
    }
    if (!typed_only) {
      t.any_type.push_back(s);
      continue;
    }
    std::sort(types.begin(), types.end());
    types.erase(std::unique(types.begin(), types.end()), types.end());
    for (uint32_t type : types) t.by_type[type].push_back(s);
  }
}

}  // namespace citybed::broker
