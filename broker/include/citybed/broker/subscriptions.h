// Subscriptions (ETSI GS CIM 009, 5.8 and 5.2.12): what clients want to hear about, matched
// against every committed change, and turned into notification jobs for the Notifier.
//
// A Subscription's definition is immutable (an update builds a new one); its delivery status
// lives in a shared DeliveryStatus that the notifier updates. Per tenant, subscriptions are
// indexed by entity type so that a write with no interested subscription costs one hash
// lookup. Matching runs on the writer's thread after the store commits; rendering of the
// notification body happens there too, and delivery never does. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <thread>
#include <boost/json/object.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "citybed/broker/pattern.h"
#include "citybed/broker/context.h"
#include "citybed/broker/entity.h"
#include "citybed/broker/geo.h"
#include "citybed/broker/json_writer.h"
#include "citybed/broker/notifier.h"
#include "citybed/broker/query.h"
#include "citybed/broker/registrations.h"
#include "citybed/broker/store.h"

namespace citybed::broker {

struct EntitySelector {
  std::string id;
  std::string id_pattern;
  PatternPtr id_regex;
  uint32_t type = 0;  // 0: any type
  bool Matches(const Entity& e) const;
};

// The NGSI-v2 part of a subscription made through /v2/subscriptions (ngsiv2_subscriptions.cc
// parses and renders it; ngsiv2_notify.cc matches changes and notifies in the v2 format).
struct V2Subscription {
  struct Selector {
    std::string id, id_pattern, type, type_pattern;  // as given
    PatternPtr id_regex, type_regex;
  };
  std::vector<Selector> entities;
  std::vector<std::string> condition_attrs;   // as given
  std::vector<std::string> alteration_types;  // as given; empty: entityCreate and entityChange
  std::string q, mq, georel, geometry, coords;  // condition.expression, as given
  std::optional<Query> mq_query;
  std::string url;                            // notification.http.url or httpCustom.url
  bool custom = false;                        // httpCustom
  std::vector<Header> custom_headers;
  std::vector<std::pair<std::string, std::string>> custom_qs;
  std::string custom_method = "POST";
  std::vector<std::string> attrs, except_attrs, metadata;  // notification, as given
  std::string attrs_format = "normalized";
  bool only_changed_attrs = false;
  std::string status = "active";             // active, inactive or oneshot, as set
  std::string service_path;                   // the scope, as the header gave it ("" = "/#")
  std::vector<std::pair<std::string, bool>> scope;  // (path, subtree); empty: everything
  bool ScopeContains(std::string_view entity_path) const;
};

// What a write tells subscriptions besides the change itself.
struct ChangeHints {
  bool forced = false;  // NGSI-v2 options=forcedUpdate: an unchanged update counts as a change
};

// A subscription's temporalQ (4.11, used by context source registration subscriptions only):
// which registrations' observationInterval (observedAt) or managementInterval (createdAt,
// modifiedAt) it is about.
struct TemporalQ {
  std::string timerel;   // before, after, between
  int64_t at = kNoTime;  // timeAt, µs
  int64_t end_at = kNoTime;  // endTimeAt (between)
  std::string property = "observedAt";  // timeproperty
  std::string at_text, end_at_text;     // as given, for rendering
};

struct Subscription {
  std::string id;
  std::string tenant;
  std::string name;
  std::string description;
  std::vector<EntitySelector> entities;
  std::vector<uint32_t> watched;  // expanded attribute names
  std::optional<Query> q;
  std::optional<GeoQuery> geoq;
  uint32_t geoq_property = 0;
  std::optional<TemporalQ> temporal_q;
  std::vector<uint32_t> notify_attrs;
  Format format = Format::kNormalized;
  bool sys_attrs = false;
  std::string endpoint;
  std::string accept = "application/json";
  std::vector<Header> receiver_info;  // extra headers sent with every notification
  std::vector<std::string> triggers;  // empty: entityCreated, entityUpdated (attribute-level alike)
  int64_t expires_at = kNoTime;
  double throttling = 0;  // seconds
  double time_interval = 0;  // seconds; > 0: a periodic subscription (notifies on a timer, not on changes)
  std::shared_ptr<std::atomic<int64_t>> next_due = std::make_shared<std::atomic<int64_t>>(kNoTime);
  bool active = true;
  int64_t created_at = kNoTime;
  int64_t modified_at = kNoTime;
  ContextPtr context;
  std::shared_ptr<DeliveryStatus> status = std::make_shared<DeliveryStatus>();
  std::shared_ptr<std::atomic<int64_t>> last_trigger = std::make_shared<std::atomic<int64_t>>(kNoTime);
  std::shared_ptr<const V2Subscription> v2;  // set for a subscription made through NGSI-v2
  std::shared_ptr<std::atomic<bool>> oneshot_fired = std::make_shared<std::atomic<bool>>(false);

  // "active", "paused" or "expired" at time `now`.
  std::string_view State(int64_t now) const;
};
using SubscriptionPtr = std::shared_ptr<const Subscription>;

struct SubscriptionCounters {
  uint64_t matched = 0;    // notifications queued
  uint64_t throttled = 0;  // skipped inside a throttling period
  uint64_t changes = 0;    // entity changes considered (the fan-out per change is matched / changes)
};

class SubscriptionManager {
 public:
  SubscriptionManager(Interner& names, Notifier& notifier);

  // Parses and stores a new subscription; returns its id. Errors: BadRequestData, AlreadyExists.
  Expected<std::string, Problem> Create(const std::string& tenant, const boost::json::object& body,
                                        ContextPtr context);
  Expected<void, Problem> Update(const std::string& tenant, const std::string& id,
                                 const boost::json::object& patch, ContextPtr context);
  bool Delete(const std::string& tenant, const std::string& id);
  SubscriptionPtr Get(const std::string& tenant, const std::string& id) const;
  std::vector<SubscriptionPtr> List(const std::string& tenant) const;  // ordered by id
  bool HasTenant(const std::string& tenant) const;
  // Stores a subscription parsed elsewhere (NGSI-v2); its id must be set. Errors: AlreadyExists.
  Expected<void, Problem> Add(const std::string& tenant, std::shared_ptr<Subscription> s);
  // At most `max` subscriptions per tenant (0: no limit): Create and Add beyond it answer 403.
  // Restores are not limited (a lower limit never loses what is stored).
  void SetMaxPerTenant(size_t max) { max_per_tenant_ = max; }
  // Replaces a stored subscription by one with the same id. Errors: ResourceNotFound.
  Expected<void, Problem> Replace(const std::string& tenant, std::shared_ptr<Subscription> s);

  // Called after a committed change. `touched` lists the attribute names the operation wrote
  // (all of them for a creation or deletion).
  void OnChange(const std::string& tenant, const Change& change, const std::vector<uint32_t>& touched,
                ChangeHints hints = {});

  void Render(JsonWriter& w, const Subscription& s, const Context& context, bool sys_attrs) const;
  // Context source registration subscriptions (5.11, csource_subscriptions.cc): a manager that
  // holds them (the broker's second one) hears of every registration change and notifies each
  // active subscription the registration concerns — before or after the change — with a
  // CsourceNotification (5.3.2): the registration as it is now (as it was, when deleted), in
  // the subscription's terms (`render`), and triggerReason newlyMatching, updated or
  // noLongerMatching.
  using RegistrationRender = std::function<void(JsonWriter&, const Registration&, const Context&, bool sys_attrs)>;
  void OnRegistrationChange(const std::string& tenant, const RegistrationPtr& before, const RegistrationPtr& after,
                            const RegistrationRender& render);
  // The first notification of a context source registration subscription just created or
  // changed: every registration it concerns, newlyMatching (none: nothing is sent).
  void NotifyMatching(const std::string& tenant, const std::string& id, const std::vector<RegistrationPtr>& registrations,
                      const RegistrationRender& render);
  // Whether a registration can provide what `s` watches: an entity it selects, an attribute it
  // watches, in its geoQ's area (the registration's location).
  static bool Concerns(const Subscription& s, const Registration& r);
  SubscriptionCounters Counters() const;

  // The durable store's hooks (durable_store.h): `observer` hears of every created, updated or
  // deleted subscription (set once, before serving); Restore puts back a stored NGSI-LD
  // definition (rendered by Render, without system attributes) as it was, with its times,
  // also when it has expired since.
  using ChangeObserver = std::function<void(const std::string& tenant, const std::string& id)>;
  void SetObserver(ChangeObserver observer) { observer_ = std::move(observer); }
  Expected<void, Problem> Restore(const std::string& tenant, const boost::json::object& doc, ContextPtr context,
                                  int64_t created_at, int64_t modified_at);
  size_t Count() const;

  // Periodic subscriptions (timeInterval): a ticker thread notifies each one every interval
  // with every matching entity, read through `scan` (the store's, per tenant).
  using TenantScan = std::function<void(const std::string& tenant, const std::function<bool(const EntityPtr&)>& visit)>;
  void StartPeriodic(TenantScan scan);
  // The same for context source registration subscriptions: every interval, the registrations
  // they concern (`list`: a tenant's registrations), newlyMatching.
  using TenantRegistrations = std::function<std::vector<RegistrationPtr>(const std::string& tenant)>;
  void StartPeriodicRegistrations(TenantRegistrations list, RegistrationRender render);
  void StopPeriodic();
  ~SubscriptionManager();

 private:
  struct TenantSubs {
    std::unordered_map<std::string, SubscriptionPtr> by_id;
    std::unordered_map<uint32_t, std::vector<SubscriptionPtr>> by_type;
    std::vector<SubscriptionPtr> any_type;
  };
  Expected<std::shared_ptr<Subscription>, Problem> Parse(const boost::json::object& body, const ContextPtr& ctx,
                                                         std::shared_ptr<Subscription> base, bool restoring = false);
  void NotifyObserver(const std::string& tenant, const std::string& id) const;
  // Random per process: in generated subscription and notification ids.
  static const std::string& ProcessPrefix();
  void Reindex(TenantSubs& t);
  // The problem of adding one more subscription to `t` (403 at the per-tenant limit), if any.
  std::optional<Problem> Full(const TenantSubs& t) const;
  void Consider(const Subscription& s, const std::string& tenant, const Change& change,
                const std::vector<uint32_t>& touched, int64_t now);
  // NGSI-v2 subscriptions: their own matching (alteration types, service paths, expressions)
  // and notification format (ngsiv2_notify.cc).
  void ConsiderV2(const Subscription& s, const std::string& tenant, const Change& change,
                  const std::vector<uint32_t>& touched, ChangeHints hints, int64_t now);
  bool Throttled(const Subscription& s, int64_t now);
  bool Selects(const Subscription& s, const Entity& e) const;  // entities, q and geoQ
  void Send(const Subscription& s, const std::string& tenant, const std::vector<const Entity*>& data,
            const std::vector<uint32_t>& removed, bool deleted, int64_t now);
  // A notification's first members (id, type, subscriptionId, notifiedAt), up to the opened "data" array.
  void BeginNotification(JsonWriter& w, const Subscription& s, std::string_view type, int64_t now);
  // Queues a notification body for `s`'s endpoint, with its headers.
  void Deliver(const Subscription& s, const std::string& tenant, std::string body);
  // A CsourceNotification (5.3.2) of `registrations`, each showing the information `s` is about.
  void NotifyRegistrations(const Subscription& s, const std::string& tenant,
                           const std::vector<const Registration*>& registrations, std::string_view reason,
                           const RegistrationRender& render, int64_t now);
  void Tick();

  std::thread ticker_;
  std::mutex ticker_mu_;
  std::condition_variable ticker_cv_;
  bool ticker_stop_ = false;
  TenantScan scan_;
  TenantRegistrations registrations_list_;
  RegistrationRender registrations_render_;

  Interner& names_;
  Notifier& notifier_;
  std::atomic<size_t> max_per_tenant_{0};
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, TenantSubs> tenants_;
  std::atomic<uint64_t> matched_{0}, throttled_{0}, changes_{0};
  std::atomic<uint64_t> next_id_{1};
  ChangeObserver observer_;
};

}  // namespace citybed::broker
