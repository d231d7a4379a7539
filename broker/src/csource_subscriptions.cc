// Context source registration subscriptions (CIM 009 V1.9.1, 5.11, 5.3.2): which
// subscriptions a registration concerns, and the CsourceNotification sent when one is
// created, changed or deleted. The subscriptions themselves are parsed, stored, listed and
// rendered as entity subscriptions are (subscriptions.cc), in a manager of their own.
#include <algorithm>

#include "citybed/broker/subscriptions.h"
#include "citybed/common/strings.h"

namespace citybed::broker {

namespace {

bool Lists(const std::vector<uint32_t>& v, uint32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// Can entities `r` registers be what `sel` selects?
bool SelectorMeets(const EntitySelector& sel, const RegisteredEntities& r) {
  if (sel.type != 0 && sel.type != r.type) return false;
  if (!sel.id.empty()) {
    if (!r.id.empty()) return r.id == sel.id;
    return !r.id_regex || r.id_regex->FullMatch(sel.id);
  }
  if (sel.id_regex && !r.id.empty()) return sel.id_regex->FullMatch(r.id);
  return true;  // two patterns, or none: they may meet
}


// Does one RegistrationInfo hold what `s` selects and watches?
bool InfoConcerns(const Subscription& s, const RegistrationInfo& info) {
  bool entities = s.entities.empty() || info.entities.empty();
  for (const EntitySelector& sel : s.entities) {
    for (const RegisteredEntities& e : info.entities) entities = entities || SelectorMeets(sel, e);
  }
  if (!entities) return false;
  // Watched attributes: one the information names, or an information naming none (all).
  if (s.watched.empty() || (info.property_names.empty() && info.relationship_names.empty())) return true;
  for (uint32_t a : s.watched) {
    if (Lists(info.property_names, a) || Lists(info.relationship_names, a)) return true;
  }
  return false;
}

// The registration as a notification shows it: only the information `s` is about.
Registration Narrowed(const Subscription& s, const Registration& r) {
  Registration out = r;
  out.information.clear();
  boost::json::array items;
  const boost::json::value* given = r.document.if_contains("information");
  for (size_t i = 0; i < r.information.size(); ++i) {
    if (!InfoConcerns(s, r.information[i])) continue;
    out.information.push_back(r.information[i]);
    if (given != nullptr && given->is_array() && i < given->get_array().size()) items.push_back(given->get_array()[i]);
  }
  out.document["information"] = std::move(items);
  return out;
}

// The registration's interval temporalQ is about meets it: observationInterval for
// observedAt, managementInterval for createdAt and modifiedAt; a registration without that
// interval may hold anything. An interval without endAt is open.
bool TimeMeets(const TemporalQ& t, const Registration& r) {
  const char* key = t.property == "observedAt" ? "observationInterval" : "managementInterval";
  const boost::json::value* v = r.document.if_contains(key);
  const boost::json::object* o = v ? v->if_object() : nullptr;
  if (o == nullptr) return true;
  auto at = [&](const char* member, int64_t fallback) {
    const boost::json::value* x = o->if_contains(member);
    if (x == nullptr || !x->is_string()) return fallback;
    auto parsed = ParseRfc3339Micros(x->get_string());
    return parsed ? *parsed : fallback;
  };
  const int64_t start = at("startAt", INT64_MIN), end = at("endAt", INT64_MAX);
  if (t.timerel == "before") return start < t.at;
  if (t.timerel == "after") return end > t.at;
  return start < t.end_at && end > t.at;  // between
}

}  // namespace

bool SubscriptionManager::Concerns(const Subscription& s, const Registration& r) {
  bool any = false;
  for (const RegistrationInfo& info : r.information) any = any || InfoConcerns(s, info);
  if (!any) return false;
  if (s.temporal_q && !TimeMeets(*s.temporal_q, r)) return false;
  // geoQ: the registration's area meets it (a registration without one may hold anything).
  if (s.geoq && r.location) return GeoMatches(*s.geoq, *r.location);
  return true;
}

void SubscriptionManager::NotifyRegistrations(const Subscription& s, const std::string& tenant,
                                              const std::vector<const Registration*>& registrations,
                                              std::string_view reason, const RegistrationRender& render, int64_t now) {
  const bool ld = s.accept == "application/ld+json";
  std::string body;
  JsonWriter w(body);
  BeginNotification(w, s, "ContextSourceNotification", now);
  for (const Registration* r : registrations) render(w, Narrowed(s, *r), *s.context, s.sys_attrs);
  w.EndArray();
  w.Key("triggerReason");
  w.String(reason);
  if (ld) {
    w.Key("@context");
    w.Value(s.context->context_value());
  }
  w.EndObject();
  Deliver(s, tenant, std::move(body));
}

void SubscriptionManager::OnRegistrationChange(const std::string& tenant, const RegistrationPtr& before,
                                               const RegistrationPtr& after, const RegistrationRender& render) {
  const int64_t now = UnixMicrosNow();
  for (const SubscriptionPtr& sp : List(tenant)) {
    const Subscription& s = *sp;
    if (s.State(now) != "active") continue;
    const bool was = before && !before->Expired(now) && Concerns(s, *before);
    const bool is = after && !after->Expired(now) && Concerns(s, *after);
    if (!was && !is) continue;
    if (Throttled(s, now)) continue;
    const std::string_view reason = was && is ? "updated" : is ? "newlyMatching" : "noLongerMatching";
    NotifyRegistrations(s, tenant, {is ? after.get() : before.get()}, reason, render, now);
  }
}

void SubscriptionManager::NotifyMatching(const std::string& tenant, const std::string& id,
                                         const std::vector<RegistrationPtr>& registrations,
                                         const RegistrationRender& render) {
  SubscriptionPtr s = Get(tenant, id);
  const int64_t now = UnixMicrosNow();
  // A periodic one notifies at its first tick.
  if (!s || s->State(now) != "active" || s->time_interval > 0) return;
  std::vector<const Registration*> matching;
  for (const RegistrationPtr& r : registrations) {
    if (!r->Expired(now) && Concerns(*s, *r)) matching.push_back(r.get());
  }
  if (matching.empty() || Throttled(*s, now)) return;
  NotifyRegistrations(*s, tenant, matching, "newlyMatching", render, now);
}

}  // namespace citybed::broker
