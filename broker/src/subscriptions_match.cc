// SubscriptionManager's matching and delivery (subscriptions.h): every committed change is
// matched against the tenant's subscriptions (NGSI-LD here, NGSI-v2 in ngsiv2_notify.cc),
// throttled, rendered and queued for the Notifier; periodic subscriptions tick on their own
// thread. Definitions, parsing and storage are in subscriptions.cc.
#include <algorithm>
#include <cmath>

#include "citybed/broker/subscriptions.h"
#include "citybed/common/strings.h"

namespace citybed::broker {

void SubscriptionManager::OnChange(const std::string& tenant, const Change& change,
                                   const std::vector<uint32_t>& touched, ChangeHints hints) {
  if (!change.changed()) return;
  changes_.fetch_add(1, std::memory_order_relaxed);
  const Entity& subject = change.after ? *change.after : *change.before;
  std::vector<SubscriptionPtr> candidates;
  {
    std::shared_lock lock(mu_);
    auto it = tenants_.find(tenant);
    if (it == tenants_.end()) return;
    const TenantSubs& t = it->second;
    for (uint32_t type : subject.types) {
      auto s = t.by_type.find(type);
      if (s != t.by_type.end()) candidates.insert(candidates.end(), s->second.begin(), s->second.end());
    }
    candidates.insert(candidates.end(), t.any_type.begin(), t.any_type.end());
  }
  if (candidates.empty()) return;
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  const int64_t now = UnixMicrosNow();
  for (const SubscriptionPtr& s : candidates) {
    if (s->v2) {
      ConsiderV2(*s, tenant, change, touched, hints, now);
    } else {
      Consider(*s, tenant, change, touched, now);
    }
  }
}

bool SubscriptionManager::Selects(const Subscription& s, const Entity& e) const {
  if (!s.entities.empty()) {
    bool any = false;
    for (const EntitySelector& sel : s.entities) any = any || sel.Matches(e);
    if (!any) return false;
  }
  if (s.q && !s.q->Matches(e)) return false;
  if (s.geoq) {
    const Attribute* g = e.Find(s.geoq_property);
    if (g == nullptr) return false;
    auto geom = ParseGeoJson(g->value);
    if (!geom || !GeoMatches(*s.geoq, *geom)) return false;
  }
  return true;
}

void SubscriptionManager::Consider(const Subscription& s, const std::string& tenant, const Change& change,
                                   const std::vector<uint32_t>& touched, int64_t now) {
  if (s.State(now) != "active" || s.time_interval > 0) return;
  const bool created = !change.before, deleted = !change.after;
  const Entity& e = deleted ? *change.before : *change.after;
  // Triggers (CIM 009, 5.2.12): without notificationTrigger, attributeCreated and
  // attributeUpdated; entityUpdated stands for the three attribute triggers. An entity's
  // creation creates its attributes; its deletion fires only entityDeleted.
  auto has = [&](std::string_view t) {
    if (s.triggers.empty()) return t == "attributeCreated" || t == "attributeUpdated";
    if (std::find(s.triggers.begin(), s.triggers.end(), t) != s.triggers.end()) return true;
    return t.rfind("attribute", 0) == 0 && std::find(s.triggers.begin(), s.triggers.end(), "entityUpdated") != s.triggers.end();
  };
  if (!s.entities.empty()) {
    bool any = false;
    for (const EntitySelector& sel : s.entities) any = any || sel.Matches(e);
    if (!any) return;
  }
  auto watched = [&](uint32_t name) {
    return s.watched.empty() || std::find(s.watched.begin(), s.watched.end(), name) != s.watched.end();
  };
  std::vector<uint32_t> removed;  // attributes this change deleted (for the notification)
  if (created) {
    if (!has("entityCreated") && !has("attributeCreated")) return;
    if (!s.watched.empty()) {
      bool hit = false;
      for (uint32_t w : s.watched) hit = hit || e.HasAttribute(w);
      if (!hit) return;
    }
  } else if (deleted) {
    if (!has("entityDeleted")) return;
  } else {
    // What the change did to each attribute it touched.
    bool fire = false;
    for (uint32_t name : touched) {
      if (!watched(name)) continue;
      const bool was = change.before->HasAttribute(name), is = change.after->HasAttribute(name);
      if (!was && is) fire = fire || has("attributeCreated");
      if (was && is) fire = fire || has("attributeUpdated");
      if (was && !is) {
        removed.push_back(name);
        fire = fire || has("attributeDeleted");
      }
    }
    if (!fire) return;
  }
  if (!deleted) {
    if (s.q && !s.q->Matches(e)) return;
    if (s.geoq) {
      const Attribute* g = e.Find(s.geoq_property);
      if (g == nullptr) return;
      auto geom = ParseGeoJson(g->value);
      if (!geom || !GeoMatches(*s.geoq, *geom)) return;
    }
  }
  if (Throttled(s, now)) return;
  Send(s, tenant, {&e}, removed, deleted, now);
}

bool SubscriptionManager::Throttled(const Subscription& s, int64_t now) {
  if (s.throttling <= 0) return false;
  const auto window = static_cast<int64_t>(s.throttling * 1e6);
  int64_t last = s.last_trigger->load();
  if (last != kNoTime && now - last < window) {
    throttled_.fetch_add(1);
    return true;
  }
  if (!s.last_trigger->compare_exchange_strong(last, now)) {
    throttled_.fetch_add(1);
    return true;
  }
  return false;
}

// Renders the notification of `data` (5.3.1, 5.8.6) and queues it.
void SubscriptionManager::Send(const Subscription& s, const std::string& tenant, const std::vector<const Entity*>& data,
                               const std::vector<uint32_t>& removed, bool deleted, int64_t now) {
  const bool ld = s.accept == "application/ld+json";
  Codec codec{names_, *s.context};
  RenderOptions opts;
  opts.format = s.format;
  opts.sys_attrs = s.sys_attrs;
  opts.only_attrs = s.notify_attrs.empty() ? nullptr : &s.notify_attrs;
  // JSON-LD: every entity carries the @context, as in a JSON-LD answer of several entities,
  // and so does the notification.
  opts.with_context = ld;
  std::string body;
  body.reserve(512 * data.size());
  JsonWriter w(body);
  BeginNotification(w, s, "Notification", now);
  for (const Entity* e : data) {
    if (deleted) {
      w.BeginObject();
      w.Key("id");
      w.String(e->id);
      w.Key("type");
      w.String(s.context->CompactId(e->types[0], names_));
      w.Key("deletedAt");
      w.String(FormatRfc3339Micros(now));
      if (ld) {
        w.Key("@context");
        w.Value(s.context->context_value());
      }
      w.EndObject();
      continue;
    }
    RenderEntity(w, *e, opts, codec);
    if (!removed.empty()) {
      // A deleted attribute: its name, and urn:ngsi-ld:null as its value (5.8.6).
      body.pop_back();  // the entity's closing brace
      for (uint32_t name : removed) {
        body += ",";
        AppendJsonString(body, s.context->CompactId(name, names_));
        body += ":\"urn:ngsi-ld:null\"";
      }
      body += "}";
    }
  }
  w.EndArray();
  if (ld) {
    w.Key("@context");
    w.Value(s.context->context_value());
  }
  w.EndObject();

  Deliver(s, tenant, std::move(body));
}

void SubscriptionManager::BeginNotification(JsonWriter& w, const Subscription& s, std::string_view type, int64_t now) {
  w.BeginObject();
  w.Key("id");
  w.String("urn:ngsi-ld:Notification:" + ProcessPrefix() + "-" + std::to_string(matched_.load() + 1));
  w.Key("type");
  w.String(type);
  w.Key("subscriptionId");
  w.String(s.id);
  w.Key("notifiedAt");
  w.String(FormatRfc3339Micros(now));
  w.Key("data");
  w.BeginArray();
}

void SubscriptionManager::Deliver(const Subscription& s, const std::string& tenant, std::string body) {
  NotificationJob job;
  job.status = s.status;
  job.uri = s.endpoint;
  job.body = std::move(body);
  job.tenant = tenant;
  if (s.accept == "application/ld+json") {
    job.headers.push_back({"Content-Type", "application/ld+json"});
  } else {
    job.headers.push_back({"Content-Type", "application/json"});
    job.headers.push_back({"Link", s.context->link_header()});
  }
  if (!tenant.empty()) job.headers.push_back({"NGSILD-Tenant", tenant});
  for (const Header& h : s.receiver_info) job.headers.push_back(h);
  matched_.fetch_add(1);
  notifier_.Enqueue(std::move(job));
}

void SubscriptionManager::StartPeriodic(TenantScan scan) {
  scan_ = std::move(scan);
  {
    std::lock_guard lock(ticker_mu_);
    ticker_stop_ = false;
  }
  if (ticker_.joinable()) return;
  ticker_ = std::thread([this] {
    std::unique_lock lock(ticker_mu_);
    while (!ticker_stop_) {
      ticker_cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return ticker_stop_; });
      if (ticker_stop_) break;
      lock.unlock();
      Tick();
      lock.lock();
    }
  });
}

void SubscriptionManager::StartPeriodicRegistrations(TenantRegistrations list, RegistrationRender render) {
  registrations_list_ = std::move(list);
  registrations_render_ = std::move(render);
  StartPeriodic(nullptr);
}

void SubscriptionManager::StopPeriodic() {
  {
    std::lock_guard lock(ticker_mu_);
    ticker_stop_ = true;
  }
  ticker_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

SubscriptionManager::~SubscriptionManager() { StopPeriodic(); }

// Every due periodic subscription notifies the entities it selects (at most 1,000 per
// notification, the first in id order).
void SubscriptionManager::Tick() {
  if (!scan_ && !registrations_list_) return;
  std::vector<std::pair<std::string, SubscriptionPtr>> due;
  const int64_t now = UnixMicrosNow();
  {
    std::shared_lock lock(mu_);
    for (const auto& [tenant, subs] : tenants_) {
      for (const auto& [id, s] : subs.by_id) {
        if (s->time_interval <= 0 || s->State(now) != "active") continue;
        const int64_t next = s->next_due->load();
        if (next != kNoTime && now < next) continue;
        s->next_due->store(now + static_cast<int64_t>(s->time_interval * 1e6));
        due.emplace_back(tenant, s);
      }
    }
  }
  for (const auto& [tenant, s] : due) {
    if (registrations_list_) {  // context source registration subscriptions
      std::vector<RegistrationPtr> hold = registrations_list_(tenant);
      std::vector<const Registration*> data;
      for (const RegistrationPtr& r : hold) {
        if (!r->Expired(now) && Concerns(*s, *r)) data.push_back(r.get());
      }
      if (!data.empty()) NotifyRegistrations(*s, tenant, data, "newlyMatching", registrations_render_, now);
      continue;
    }
    std::vector<EntityPtr> hold;
    const Subscription& sub = *s;  // a structured binding is not captured (Clang 14)
    scan_(tenant, [&](const EntityPtr& e) {
      if (Selects(sub, *e)) hold.push_back(e);
      return hold.size() < 1000;
    });
    if (hold.empty()) continue;
    std::vector<const Entity*> data;
    for (const EntityPtr& e : hold) data.push_back(e.get());
    Send(*s, tenant, data, {}, false, now);
  }
}

}  // namespace citybed::broker
