// Broker: citybed's embedded NGSI-LD context broker, assembled from its parts and served over
// HTTP. The library API lets `citybed run` start one in-process; `citybed broker` runs one as
// a process.
//
//   Broker broker(options);
//   if (auto ok = broker.Start(); !ok) ...;   // listening on broker.port()
//   ...
//   broker.Stop();   // graceful: in-flight requests finish, notifications flush or count as dropped
//
// Retrieve and query are distributed operations over the registered context sources
// (distributed.h, docs/federation.md) once the broker is started.
//
// It serves the NGSI-LD API under /ngsi-ld/v1 and the NGSI-v2 API under /v2 over one store
// (ngsiv2_api.h), and answers GET /version (Orion's shape, with citybed's own fields), GET
// /health and GET /metrics (Prometheus text format). Thread-safe; Start/Stop from one owner thread.
#pragma once

#include <atomic>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "citybed/broker/context.h"
#include "citybed/broker/durable_store.h"
#include "citybed/broker/forwarder.h"
#include "citybed/broker/interner.h"
#include "citybed/broker/metrics.h"
#include "citybed/broker/ngsild_api.h"
#include "citybed/broker/ngsiv2_api.h"
#include "citybed/broker/auth.h"
#include "citybed/broker/quotas.h"
#include "citybed/broker/rate_limit.h"
#include "citybed/broker/notifier.h"
#include "citybed/broker/registrations.h"
#include "citybed/broker/router.h"
#include "citybed/broker/server.h"
#include "citybed/broker/store.h"
#include "citybed/broker/subscriptions.h"
#include "citybed/common/expected.h"

namespace citybed::broker {

struct BrokerOptions {
  ServerOptions server;
  ApiOptions api;
  V2Options v2;
  NotifierOptions notifier;
  ContextResolverOptions contexts;
  // Distributed operations: retrieve and query reach registered context sources (api.forward_*
  // set the timeout and cool-down). `via_name` is this broker's name in Via headers; empty:
  // host:port it listens on.
  bool forwarding = true;
  ForwarderOptions forwarder;
  std::string via_name;
  int store_shards = 16;
  // Durable entities (durable_store.h) when `durable.path` is set; empty: in memory only.
  DurableStoreOptions durable;
  std::chrono::milliseconds shutdown_grace{5000};
  // /metrics names each tenant with its entity count only when this is set (an operator's
  // choice): by default anyone who can reach /metrics sees totals, not which tenants exist.
  bool metrics_per_tenant = false;
  // Access keys (auth.h): when set, every request but /health and /version needs one.
  std::shared_ptr<const Authorizer> auth;
  // Per-tenant rate limits (rate_limit.h): 429 beyond them; inactive by default.
  RateLimitOptions rate_limits;
  // What one tenant may put into what all tenants share (quotas.h): 403 beyond it.
  QuotaOptions quotas;
};

class Broker {
 public:
  explicit Broker(BrokerOptions options = {});
  ~Broker();
  Broker(const Broker&) = delete;
  Broker& operator=(const Broker&) = delete;

  Expected<void> Start();
  void Stop();
  uint16_t port() const { return server_->port(); }
  std::string url() const;  // "http://127.0.0.1:1026"

  // Without sockets: the same handling the server does (tests, in-process use).
  Response Handle(Request& req, int* route = nullptr) { return Dispatch(req, route); }

  Store& store() { return *store_; }
  DurableStore* durable_store() { return durable_; }  // null: in memory only
  Interner& names() { return names_; }
  const TenantQuotas& quotas() const { return quotas_; }
  Metrics& metrics() { return *metrics_; }
  Notifier& notifier() { return notifier_; }
  Forwarder& forwarder() { return forwarder_; }
  const std::string& via_name() const { return via_name_; }
  SubscriptionManager& subscriptions() { return subs_; }
  RegistrationManager& registrations() { return registrations_; }
  ContextResolver& contexts() { return contexts_; }
  std::string RenderMetrics() const;
  // CPU seconds used by the broker's own threads (serving, notifying, forwarding), while it runs.
  double CpuSeconds() const { return server_->CpuSeconds() + notifier_.CpuSeconds() + forwarder_.CpuSeconds(); }

 private:
  // Registrations as context source notifications show them.
  SubscriptionManager::RegistrationRender RegistrationRenderer();
  void StoredLdSubscription(JsonWriter& w, const SubscriptionManager& subs, const Subscription& s) const;
  Response Version() const;
  // GET /metrics?format=json: the service metrics and the counters calibration reads.
  std::string RenderMetricsJson() const;
  Response Dispatch(Request& req, int* route);
  // Puts back the durable store's subscriptions and registrations and starts persisting theirs.
  void RestoreDocuments();
  // The per-tenant limits of subscriptions and registrations, on or (while restoring) off.
  void SetDocumentLimits(bool on);

  BrokerOptions options_;
  TenantQuotas quotas_{options_.quotas};
  std::shared_ptr<ServiceMetrics> service_ = std::make_shared<ServiceMetrics>();
  Interner names_;
  ContextResolver contexts_;
  // Set while store_ is made (so declared before it).
  DurableStore* durable_ = nullptr;  // store_ when it is durable
  std::optional<Error> store_error_;  // the durable store could not be opened: Start fails
  std::unique_ptr<Store> store_;
  Notifier notifier_;
  Forwarder forwarder_;
  std::string via_name_;
  std::atomic<uint64_t> auth_refused_[2] = {0, 0};  // 401, 403
  std::unique_ptr<TenantRateLimiter> rate_limiter_;  // null: no rate limits
  SubscriptionManager subs_;
  SubscriptionManager csource_subs_;  // context source registration subscriptions (5.11)
  RegistrationManager registrations_;
  Router router_;
  NgsiLdApi api_;
  NgsiV2Api v2_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<HttpServer> server_;
  std::chrono::steady_clock::time_point started_;
  bool running_ = false;
  bool documents_restored_ = false;
};

}  // namespace citybed::broker
