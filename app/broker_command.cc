// `citybed broker`: runs the embedded broker (NGSI-LD and NGSI-v2) as a process until SIGINT or SIGTERM,
// then shuts down gracefully (requests in flight finish; queued notifications are delivered
// within the grace period or counted as dropped).
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "citybed/broker/broker.h"
#include "citybed/common/log.h"
#include "citybed/common/units.h"
#include "commands.h"
#include "exit_codes.h"

namespace citybed::app {
namespace {

struct BrokerCommandOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 1026;
  int threads = 1;
  std::string max_body = "1MiB";
  std::string header_timeout = "10s";
  std::string idle_timeout = "60s";
  std::string log_level = "info";
  size_t notification_queue = 10000;
  std::string notification_queue_bytes = "256MiB";
  std::string tenant_notification_bytes = "64MiB";
  size_t tenant_notification_queue = 2500;
  size_t max_limit = 1000;
  std::string via_name;               // "" : host:port
  std::string forward_timeout = "3s";
  std::string forward_cooldown = "5s";
  bool no_forwarding = false;
  bool no_service_metrics = false;
  bool metrics_tenants = false;
  std::string store;                  // "" : entities in memory only
  std::string store_engine = "rocksdb";
  std::string shed_lag = "0";         // "0": never shed
  std::string auth;                   // "" : no access keys needed
  std::vector<std::string> tenant_rate;  // "RATE[/BURST]" or "TENANT=RATE[/BURST]"
  broker::QuotaOptions quotas;
  std::string max_name_bytes = "1MiB";
  size_t max_batch = 10000;
};

int RunBroker(const BrokerCommandOptions& o) {
  auto level = ParseLogLevel(o.log_level);
  auto body = ParseSize(o.max_body);
  auto header_timeout = ParseDurationNs(o.header_timeout);
  auto idle_timeout = ParseDurationNs(o.idle_timeout);
  auto forward_timeout = ParseDurationNs(o.forward_timeout);
  auto forward_cooldown = ParseDurationNs(o.forward_cooldown);
  auto shed_lag = ParseDurationNs(o.shed_lag);
  auto name_bytes = ParseSize(o.max_name_bytes);
  auto queue_bytes = ParseSize(o.notification_queue_bytes);
  auto tenant_queue_bytes = ParseSize(o.tenant_notification_bytes);
  for (const Error* e : {level ? nullptr : &level.error(), body ? nullptr : &body.error(),
                         name_bytes ? nullptr : &name_bytes.error(), queue_bytes ? nullptr : &queue_bytes.error(),
                         tenant_queue_bytes ? nullptr : &tenant_queue_bytes.error(),
                         header_timeout ? nullptr : &header_timeout.error(), idle_timeout ? nullptr : &idle_timeout.error(),
                         forward_timeout ? nullptr : &forward_timeout.error(),
                         forward_cooldown ? nullptr : &forward_cooldown.error(), shed_lag ? nullptr : &shed_lag.error()}) {
    if (e != nullptr) {
      std::fprintf(stderr, "citybed broker: %s\n", e->message.c_str());
      return kExitUsage;
    }
  }
  SetLogLevel(*level);
  broker::BrokerOptions options;
  options.server.host = o.host;
  options.server.port = o.port;
  options.server.threads = o.threads;
  options.server.max_body_bytes = *body;
  options.server.header_timeout = std::chrono::milliseconds(*header_timeout / 1000000);
  options.server.idle_timeout = std::chrono::milliseconds(*idle_timeout / 1000000);
  options.notifier.queue_capacity = o.notification_queue;
  options.notifier.queue_bytes = *queue_bytes;
  options.notifier.tenant_queue_bytes = *tenant_queue_bytes;
  options.notifier.tenant_queue_jobs = o.tenant_notification_queue;
  options.api.max_limit = o.max_limit;
  options.api.max_batch = o.max_batch;
  options.v2.max_batch = o.max_batch;
  options.quotas = o.quotas;
  options.quotas.max_name_bytes_per_tenant = *name_bytes;
  options.forwarding = !o.no_forwarding;
  options.server.service_metrics = !o.no_service_metrics;
  options.via_name = o.via_name;
  options.metrics_per_tenant = o.metrics_tenants;
  options.server.shed_lag = std::chrono::milliseconds(*shed_lag / 1000000);
  options.durable.path = o.store;
  options.durable.engine = o.store_engine;
  options.api.forward_timeout = std::chrono::milliseconds(std::max<int64_t>(1, *forward_timeout / 1000000));
  options.api.forward_cooldown = std::chrono::milliseconds(*forward_cooldown / 1000000);
  if (!o.auth.empty()) {
    auto keys = broker::Authorizer::Load(o.auth);
    if (!keys) {
      std::fprintf(stderr, "citybed broker: --auth %s\n", keys.error().message.c_str());
      return kExitUsage;
    }
    options.auth = std::make_shared<const broker::Authorizer>(std::move(*keys));
  }
  for (const std::string& item : o.tenant_rate) {
    const size_t eq = item.find('=');
    auto limit = broker::RateLimit::Parse(eq == std::string::npos ? std::string_view(item) : std::string_view(item).substr(eq + 1));
    if (!limit) {
      std::fprintf(stderr, "citybed broker: --tenant-rate %s\n", limit.error().message.c_str());
      return kExitUsage;
    }
    if (eq == std::string::npos) options.rate_limits.per_tenant = *limit;
    else options.rate_limits.tenants[item.substr(0, eq)] = *limit;
  }

  // Block the stop signals in every thread; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  broker::Broker b(options);
  if (auto ok = b.Start(); !ok) {
    std::fprintf(stderr, "citybed broker: %s\n", ok.error().message.c_str());
    return kExitRuntimeError;
  }
  CITYBED_LOG(kInfo) << "citybed broker listening on " << b.url() << " (" << o.threads << " thread"
                     << (o.threads == 1 ? "" : "s") << "); NGSI-LD at " << b.url() << "/ngsi-ld/v1, NGSI-v2 at " << b.url() << "/v2";
  if (options.auth) {
    CITYBED_LOG(kInfo) << "access keys from " << o.auth << " (" << options.auth->size()
                       << "): every request but /health and /version needs one";
  }
  if (options.rate_limits.active()) {
    const auto& r = options.rate_limits.per_tenant;
    CITYBED_LOG(kInfo) << "rate limits: " << (r.rate > 0 ? std::to_string(r.rate) + " requests/s per tenant, bursts of " + std::to_string(r.burst)
                                                          : std::string("none by default"))
                       << "; " << options.rate_limits.tenants.size() << " tenant(s) with their own; 429 beyond them";
  }
  if (broker::DurableStore* d = b.durable_store()) {
    const broker::DurableStats s = d->stats();
    CITYBED_LOG(kInfo) << "durable store " << o.store << " (" << s.engine << "): " << s.recovered
                       << " entities loaded in " << s.recovery_seconds << " s; writes are answered once on disk";
  }
  int sig = 0;
  sigwait(&signals, &sig);
  CITYBED_LOG(kInfo) << "received " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ", shutting down";
  b.Stop();
  if (broker::DurableStore* d = b.durable_store()) d->Flush();
  const auto n = b.notifier().Counters();
  CITYBED_LOG(kInfo) << "stopped: " << b.metrics().TotalRequests() << " requests served, " << n.sent
                     << " notifications sent, " << n.failed << " failed, " << n.dropped << " dropped";
  return kExitOk;
}

}  // namespace

void RegisterBroker(CLI::App& app, Action& action) {
  auto o = std::make_shared<BrokerCommandOptions>();
  CLI::App* cmd = app.add_subcommand("broker", "Run citybed's broker (NGSI-LD and NGSI-v2 over one store) until SIGINT/SIGTERM");
  cmd->add_option("--host", o->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->port, "TCP port (0: any free port)")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Request-serving threads")->check(Between(1, 256))->capture_default_str();
  cmd->add_option("--max-body", o->max_body, "Largest request body accepted (413 beyond)")->capture_default_str();
  cmd->add_option("--header-timeout", o->header_timeout, "Time allowed to receive a request once it starts")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", o->idle_timeout, "Time an idle keep-alive connection is kept")->capture_default_str();
  cmd->add_option("--notification-queue", o->notification_queue, "Notifications queued before dropping")
      ->capture_default_str();
  cmd->add_option("--notification-queue-bytes", o->notification_queue_bytes,
                  "Bytes of notifications queued before dropping (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--tenant-notification-queue", o->tenant_notification_queue,
                  "Notifications one tenant may have queued (its endpoints slow or hanging) before its next ones are "
                  "dropped (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--tenant-notification-bytes", o->tenant_notification_bytes,
                  "Bytes of notifications one tenant may have queued (its endpoints slow or hanging) before its next "
                  "ones are dropped, so the others' still go (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-limit", o->max_limit, "Largest page size (limit) a query may ask for")->capture_default_str();
  cmd->add_option("--max-batch", o->max_batch, "Entities a batch operation may hold (NGSI-LD entityOperations, NGSI-v2 op/update; 400 beyond)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--max-attrs", o->quotas.max_attrs_per_entity,
                  "Attribute instances one entity may hold (400 for a write that would leave more; 0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-tenants", o->quotas.max_tenants,
                  "Tenants that may write: a new tenant's first write beyond them is refused with 403 (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-names", o->quotas.max_names_per_tenant,
                  "New names (types, attribute names, datasetIds) one tenant's writes may add to the name table all "
                  "tenants share (403 beyond; 0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-name-bytes", o->max_name_bytes, "The same allowance in bytes of those names (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-subscriptions", o->quotas.max_subscriptions_per_tenant,
                  "Subscriptions one tenant may hold (NGSI-LD and NGSI-v2 together; 403 beyond; 0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-registrations", o->quotas.max_registrations_per_tenant,
                  "Context source registrations one tenant may hold (403 beyond; 0: no limit)")
      ->capture_default_str();
  cmd->add_option("--log-level", o->log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  cmd->add_option("--via-name", o->via_name,
                  "This broker's name in Via headers of forwarded requests (loop detection; default host:port)");
  cmd->add_option("--forward-timeout", o->forward_timeout,
                  "Deadline of a forwarded request when the registration's management.timeout gives none")
      ->capture_default_str();
  cmd->add_option("--forward-cooldown", o->forward_cooldown,
                  "After a failed forwarded request, the source is not asked for this long (unless management.cooldown says)")
      ->capture_default_str();
  cmd->add_option("--store", o->store,
                  "Keep entities, subscriptions and registrations durably in this directory (created if missing): every "
                  "acknowledged write survives a crash; loaded at start. Default: in memory only");
  cmd->add_option("--store-engine", o->store_engine, "Storage engine of --store: rocksdb, lmdb or sqlite")
      ->check(CLI::IsMember({"rocksdb", "lmdb", "sqlite"}))
      ->capture_default_str();
  cmd->add_option("--shed-lag", o->shed_lag,
                  "Answer 503 with Retry-After, without handling, while a serving thread's event loop runs this far "
                  "behind (overload); /health, /version and /metrics are always served. 0: never shed (e.g. 250ms)")
      ->capture_default_str();
  cmd->add_option("--auth", o->auth,
                  "Access keys (a JSON file, docs/reliability.md): every request but /health and /version needs "
                  "Authorization: Bearer <key> (or X-Auth-Token), good for its tenant and, to write, for writes; "
                  "401 without one, 403 when it is not good for the request. Default: open");
  cmd->add_option("--tenant-rate", o->tenant_rate,
                  "Rate limit: RATE[/BURST] requests per second for every tenant, or TENANT=RATE[/BURST] for one (\"\" the "
                  "default tenant: =RATE); beyond it 429 with Retry-After. Repeatable. Default: none");
  cmd->add_flag("--no-forwarding", o->no_forwarding,
                "Keep registrations without acting on them: retrieve and query answer from local data only");
  cmd->add_flag("--metrics-tenants", o->metrics_tenants,
                "List every tenant's name and entity count on /metrics (by default only totals: tenant names are not public)");
  cmd->add_flag("--no-service-metrics", o->no_service_metrics,
                "Do not time handlers per operation class (only to measure what that timing costs; calibration needs it)");
  cmd->callback([o, &action] { action = [o] { return RunBroker(*o); }; });
}

}  // namespace citybed::app
