// NGSI-v2 subscriptions at work: which changes notify (alteration types, condition attributes,
// expressions, service paths) and the notification Orion sends ({"subscriptionId", "data"}).
#include <algorithm>

#include "citybed/common/strings.h"
#include "ngsiv2_internal.h"

namespace citybed::broker {

namespace {

const Attribute* DefaultInstance(const Entity& e, uint32_t name) { return e.Find(name, 0); }

// Did the write change attribute `name` (created, removed, or a different type, value or metadata)?
bool Changed(const Change& c, uint32_t name) {
  const Attribute* a = DefaultInstance(*c.before, name);
  const Attribute* b = DefaultInstance(*c.after, name);
  if (a == nullptr || b == nullptr) return a != b;
  return v2::AttrChanged(*a, *b);
}

bool Selected(const V2Subscription& v, const Entity& e, const Codec& codec) {
  const std::string_view id = v2::V2Id(e);
  const std::string_view type = v2::V2Type(e, codec);
  for (const auto& s : v.entities) {
    if (!s.id.empty() && s.id != id) continue;
    if (s.id_regex && !s.id_regex->Search(id)) continue;
    if (!s.type.empty() && s.type != type) continue;
    if (s.type_regex && !s.type_regex->Search(type)) continue;
    return true;
  }
  return false;
}

}  // namespace

void SubscriptionManager::ConsiderV2(const Subscription& s, const std::string& tenant, const Change& change,
                                     const std::vector<uint32_t>& touched, ChangeHints hints, int64_t now) {
  const V2Subscription& v = *s.v2;
  if (!s.active || (s.expires_at != kNoTime && now >= s.expires_at)) return;
  if (v.status == "oneshot" && s.oneshot_fired->load()) return;
  const bool created = !change.before, deleted = !change.after;
  const Entity& e = deleted ? *change.before : *change.after;
  const Codec codec{names_, *s.context};
  if (!v.ScopeContains(v2::ServicePathOf(e)) || !Selected(v, e, codec)) return;

  auto subscribed = [&](std::string_view t) {
    if (v.alteration_types.empty()) return t == "entityCreate" || t == "entityChange";
    return std::find(v.alteration_types.begin(), v.alteration_types.end(), t) != v.alteration_types.end();
  };
  auto watched = [&](uint32_t name) {
    return s.watched.empty() || std::find(s.watched.begin(), s.watched.end(), name) != s.watched.end();
  };
  std::string_view alteration;
  if (created) {
    if (!subscribed("entityCreate")) return;
    if (!s.watched.empty()) {
      bool hit = false;
      for (uint32_t w : s.watched) hit = hit || e.HasAttribute(w);
      if (!hit) return;
    }
    alteration = "entityCreate";
  } else if (deleted) {
    if (!subscribed("entityDelete")) return;
    alteration = "entityDelete";
  } else {
    bool any_watched = false, any_changed = false;
    for (uint32_t name : touched) {
      if (!watched(name)) continue;
      any_watched = true;
      any_changed = any_changed || hints.forced || Changed(change, name);
    }
    if (!any_watched) return;
    if (any_changed && subscribed("entityChange")) {
      alteration = "entityChange";
    } else if (subscribed("entityUpdate")) {
      alteration = "entityUpdate";
    } else {
      return;
    }
  }
  if (!deleted) {
    if (s.q && !s.q->Matches(e)) return;
    if (v.mq_query && !v.mq_query->Matches(e)) return;
    if (s.geoq) {
      bool inside = false;
      for (const Attribute& a : e.attrs) {
        if (a.kind != AttrKind::kGeoProperty || a.dataset_id != 0) continue;
        auto g = ParseGeoJson(a.value);
        inside = inside || (g && GeoMatches(*s.geoq, *g));
      }
      if (!inside) return;
    }
  }
  if (Throttled(s, now)) return;
  if (v.status == "oneshot") {
    bool expected = false;
    if (!s.oneshot_fired->compare_exchange_strong(expected, true)) return;
  }

  // The notification.
  std::vector<std::string> attrs = v.attrs;
  const v2::Projection proj = [&] {
    v2::Projection p = v2::MakeProjection(attrs, v.metadata, codec);
    // Looked up, never interned: a notification is built after the write committed.
    for (const std::string& x : v.except_attrs) p.except.push_back(codec.context.FindId(x, names_));
    // Only builtins named: the user attributes are not wanted ("attrs": ["alterationType"]).
    return p;
  }();
  v2::NotifyExtras extras;
  extras.alteration_type = alteration;
  extras.before = created ? nullptr : change.before.get();
  std::vector<uint32_t> only;
  if (v.only_changed_attrs && !created && !deleted) {
    only = touched;
    extras.only = &only;
  }
  v2::RenderFormat format = v2::RenderFormat::kNormalized;
  if (v.attrs_format == "keyValues" || v.attrs_format == "simplifiedKeyValues") format = v2::RenderFormat::kKeyValues;
  if (v.attrs_format == "values") format = v2::RenderFormat::kValues;
  const bool simplified = v.attrs_format.rfind("simplified", 0) == 0;
  std::string body;
  body.reserve(512);
  JsonWriter w(body);
  if (simplified) {
    v2::RenderEntity(w, e, format, proj, codec, true, &extras);
  } else {
    w.BeginObject();
    w.Key("subscriptionId");
    w.String(s.id);
    w.Key("data");
    w.BeginArray();
    v2::RenderEntity(w, e, format, proj, codec, true, &extras);
    w.EndArray();
    w.EndObject();
  }

  NotificationJob job;
  job.status = s.status;
  job.uri = v.url;
  if (!v.custom_qs.empty()) {
    job.uri += job.uri.find('?') == std::string::npos ? '?' : '&';
    bool first = true;
    for (const auto& [k, val] : v.custom_qs) {
      if (!first) job.uri += '&';
      first = false;
      job.uri += k + "=" + val;
    }
  }
  job.body = std::move(body);
  job.tenant = tenant;
  job.headers.push_back({"Content-Type", "application/json"});
  job.headers.push_back({"Accept", "application/json"});
  if (!tenant.empty()) job.headers.push_back({"Fiware-Service", tenant});
  job.headers.push_back({"Fiware-ServicePath", std::string(v2::ServicePathOf(e))});
  job.headers.push_back({"Ngsiv2-AttrsFormat", v.attrs_format});
  for (const Header& h : v.custom_headers) job.headers.push_back(h);
  matched_.fetch_add(1);
  notifier_.Enqueue(std::move(job));
}

}  // namespace citybed::broker
