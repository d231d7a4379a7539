#include "citybed/broker/broker.h"

#include <algorithm>
#include <cmath>


#include "citybed/broker/json_writer.h"
#include "citybed/common/log.h"
#include "citybed/common/version.h"

namespace citybed::broker {

Broker::Broker(BrokerOptions options)
    : options_(std::move(options)),
      contexts_(options_.contexts),
      store_([this]() -> std::unique_ptr<Store> {
        if (options_.durable.path.empty()) return MakeMemoryStore(names_, options_.store_shards);
        auto durable = DurableStore::Open(options_.durable, names_, options_.store_shards);
        if (!durable) {
          store_error_ = durable.error();
          return MakeMemoryStore(names_, options_.store_shards);
        }
        durable_ = durable->get();
        return std::move(*durable);
      }()),
      notifier_([this] {
        NotifierOptions o = options_.notifier;
        if (o.delivery == nullptr) o.delivery = &service_->delivery();
        return o;
      }()),
      forwarder_(options_.forwarder),
      subs_(names_, notifier_),
      csource_subs_(names_, notifier_),
      registrations_(names_),
      api_(*store_, contexts_, names_, subs_, registrations_, options_.api, &csource_subs_),
      v2_(*store_, contexts_, names_, subs_, registrations_, options_.v2) {
  registrations_.SetListener([this](const std::string& tenant, const RegistrationPtr& before, const RegistrationPtr& after) {
    csource_subs_.OnRegistrationChange(tenant, before, after, RegistrationRenderer());
  });
  api_.Register(router_);
  v2_.Register(router_);
  // A handler's failure on a /v2 path is answered in Orion's shape.
  router_.SetErrorRenderer([](const Request& req, const Problem& p) {
    if (req.target == "/v2" || req.target.rfind("/v2/", 0) == 0) return OrionErrorResponse(p.HttpStatus(), p.detail);
    return ProblemResponse(p);
  });
  // Quotas: the store is loaded (a lower limit never loses what it holds); its tenants may go on writing.
  store_->LimitAttributes(options_.quotas.max_attrs_per_entity);
  for (const std::string& tenant : store_->Tenants()) quotas_.Admit(tenant, true);
  SetDocumentLimits(true);
  router_.Add(Method::kGet, "/version", [this](Request&, const PathParams&) { return Version(); });
  router_.Add(Method::kGet, "/health", [](Request&, const PathParams&) {
    Response r;
    r.SetHeader("Content-Type", "application/json");
    r.body = R"({"status":"ok"})";
    return r;
  });
  auto metrics = [this](Request& req, const PathParams&) {
    Response r;
    for (const auto& [k, v] : req.query) {
      if (k == "format" && v == "json") {
        r.SetHeader("Content-Type", "application/json");
        r.body = RenderMetricsJson();
        return r;
      }
    }
    r.SetHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    r.body = RenderMetrics();
    return r;
  };
  router_.Add(Method::kGet, "/metrics", metrics);
  router_.Add(Method::kGet, "/ngsi-ld/v1/metrics", metrics);
  metrics_ = std::make_unique<Metrics>(router_.Patterns(), service_);
  // HTTP-level errors of /v2 requests get Orion's error shape.
  ServerOptions server_options = options_.server;
  if (!server_options.error_response) {
    server_options.error_response = [](int status, std::string_view target, const std::string& detail) {
      if (target.rfind("/v2", 0) == 0) return OrionErrorResponse(status, detail);
      const ErrorType type = status == 400   ? ErrorType::kInvalidRequest
                             : status >= 500 ? ErrorType::kInternalError
                                             : ErrorType::kBadRequestData;
      return ProblemResponse(MakeProblem(type, detail, status));
    };
  }
  if (options_.rate_limits.active()) rate_limiter_ = std::make_unique<TenantRateLimiter>(options_.rate_limits);
  server_ = std::make_unique<HttpServer>(
      server_options, [this](Request& req, int* route) { return Dispatch(req, route); }, *metrics_);
  started_ = std::chrono::steady_clock::now();
}

Broker::~Broker() { Stop(); }

namespace {
// A request that may change stored state: every method but GET, HEAD and OPTIONS, except the
// queries sent with POST.
bool IsWrite(const Request& req) {
  if (req.method == Method::kGet || req.method == Method::kHead || req.method == Method::kOptions) return false;
  if (req.method != Method::kPost) return true;
  std::string_view path(req.target);
  path = path.substr(0, path.find('?'));
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);  // the router accepts a trailing slash
  return !path.ends_with("/entityOperations/query") && path != "/v2/op/query";
}
}  // namespace

Response Broker::Dispatch(Request& req, int* route) {
  int matched = -1;
  const bool v2 = req.target == "/v2" || req.target.rfind("/v2/", 0) == 0;
  // The router skips empty path segments, so "//v2/entities" would reach the NGSI-v2 handlers
  // while everything deciding by the target's prefix (the API, hence the tenant header read by
  // access keys, rate limits and quotas) took it for another API: refused, whatever it names.
  if (const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
      path.find("//") != std::string_view::npos) {
    if (route) *route = -1;
    return ProblemResponse(MakeProblem(ErrorType::kInvalidRequest, "a path with an empty segment (\"//\") names no resource", 400));
  }
  const bool write = IsWrite(req);
  // The tenant the request names, as the handlers read it; wanted by the rate limit and quotas.
  const std::string tenant = rate_limiter_ || write ? req.Tenant() : std::string();
  // Who may ask (auth.h): before anything else, and before anything changes.
  if (options_.auth) {
    if (auto refused = options_.auth->Check(req, write)) {
      if (route) *route = -1;
      const bool unauthorized = refused->type == ErrorType::kUnauthorized;
      auth_refused_[unauthorized ? 0 : 1].fetch_add(1, std::memory_order_relaxed);
      Response r = v2 ? OrionErrorResponse(refused->HttpStatus(), refused->detail) : ProblemResponse(*refused);
      if (unauthorized) r.SetHeader("WWW-Authenticate", "Bearer realm=\"citybed\"");
      return r;
    }
  }
  // How often each tenant may ask (rate_limit.h): after who asks is known, before any work.
  if (rate_limiter_) {
    const std::string_view path = std::string_view(req.target).substr(0, req.target.find('?'));
    if (path != "/health" && path != "/version" && path != "/metrics") {
      // Names no handler would accept share one allowance: they cannot grow the table by their length.
      const std::string_view tenant_key = ValidTenantName(tenant) ? std::string_view(tenant) : std::string_view("\x01invalid");
      if (auto wait = rate_limiter_->Admit(tenant_key)) {
        if (route) *route = -1;
        const std::string detail = "tenant \"" + tenant + "\" is over its rate limit; retry after the time Retry-After gives";
        Response r = v2 ? OrionErrorResponse(429, detail) : ProblemResponse(MakeProblem(ErrorType::kTooManyRequests, detail));
        r.SetHeader("Retry-After", std::to_string(std::max<int64_t>(1, static_cast<int64_t>(std::ceil(*wait)))));
        return r;
      }
    }
  }
  // Tenant quotas (quotas.h): a write may come from a new tenant only while there is room for
  // one, and the names it adds to the shared name table count against its tenant's allowance.
  NameAllowance* allowance = nullptr;
  bool new_tenant = false;  // admitted by this request: forgotten again if it leaves nothing
  if (write) {
    if (ValidTenantName(tenant)) {  // otherwise the handler refuses it
      allowance = quotas_.Admit(tenant, false, &new_tenant);
      if (allowance == nullptr) {
        if (store_->HasTenant(tenant) || subs_.HasTenant(tenant) || registrations_.HasTenant(tenant)) {
          allowance = quotas_.Admit(tenant, true);
        } else {
          if (route) *route = -1;
          const std::string detail = "the broker serves at most " + std::to_string(options_.quotas.max_tenants) +
                                     " tenants (citybed broker --max-tenants); tenant \"" + tenant + "\" would be one more";
          return v2 ? OrionErrorResponse(403, detail) : ProblemResponse(MakeProblem(ErrorType::kForbidden, detail));
        }
      }
    }
  }
  Interner::Charge charge(allowance);
  if (durable_ != nullptr) {
    durable_->TakeTicket();  // nothing of an earlier request
    // While the durable store cannot commit, writes are refused before they change anything.
    if (write) {
      if (auto refused = durable_->Refusal()) {
        if (route) *route = -1;
        return v2 ? OrionErrorResponse(refused->HttpStatus(), refused->detail) : ProblemResponse(*refused);
      }
    }
  }
  Response r = router_.Handle(req, &matched);
  if (route) *route = matched;
  // A new tenant whose first write failed (404, 400, 403, ...) and left nothing behind does not
  // keep a place among --max-tenants: otherwise failed writes under invented names would fill them.
  if (new_tenant && !r.deferred() && (r.status < 200 || r.status >= 300) && allowance->names.load() == 0 &&
      !store_->HasTenant(tenant) && !subs_.HasTenant(tenant) && !registrations_.HasTenant(tenant)) {
    quotas_.Forget(tenant);
  }
  // The router's own answers (no such resource, method not allowed) on /v2 paths: Orion's shape.
  if (matched < 0 && v2) {
    std::string description = r.status == 405   ? "method not allowed"
                              : r.status == 404 ? "Service not found. Check your URL as probably it is wrong."
                                                : "bad request";
    Response orion = OrionErrorResponse(r.status, description);
    if (const std::string* allow = r.FindHeader("Allow")) orion.SetHeader("Allow", *allow);
    return orion;
  }
  // CIM 009, 6.3.14: an NGSI-LD response names the tenant the request named (a valid name only:
  // the request was refused for any other, and the name may not be fit for a header).
  if (const std::string* tenant = req.FindHeader("NGSILD-Tenant");
      tenant && ValidTenantName(*tenant) && req.target.rfind("/ngsi-ld/", 0) == 0) {
    if (r.deferred()) {  // a distributed operation's answer, produced later: named when it comes
      r.later = [later = std::move(r.later), tenant = *tenant](ResponseSink sink) {
        later([sink = std::move(sink), tenant](Response answer) {
          if (answer.FindHeader("NGSILD-Tenant") == nullptr) answer.SetHeader("NGSILD-Tenant", tenant);
          sink(std::move(answer));
        });
      };
    } else if (r.FindHeader("NGSILD-Tenant") == nullptr) {
      r.SetHeader("NGSILD-Tenant", *tenant);
    }
  }
  // A durable write is answered once it is on disk (group commit, durable_store.h).
  if (durable_ != nullptr) {
    if (const uint64_t ticket = durable_->TakeTicket()) {
      return durable_->Deferred(std::move(r), ticket, v2);
    }
  }
  return r;
}

Expected<void> Broker::Start() {
  if (store_error_) return Unexpected(*store_error_);
  if (durable_ != nullptr && !documents_restored_) {
    RestoreDocuments();
    documents_restored_ = true;
  }
  notifier_.Start();
  subs_.StartPeriodic([this](const std::string& tenant, const std::function<bool(const EntityPtr&)>& visit) {
    store_->Scan(tenant, ScanFilter{}, visit);
  });
  csource_subs_.StartPeriodicRegistrations(
      [this](const std::string& tenant) { return registrations_.List(tenant, {}); }, RegistrationRenderer());
  if (options_.forwarding) forwarder_.Start();
  auto ok = server_->Start();
  if (!ok) {
    subs_.StopPeriodic();
    csource_subs_.StopPeriodic();
    notifier_.Stop(std::chrono::milliseconds(0));
    forwarder_.Stop();
    return ok;
  }
  if (options_.forwarding) {
    const std::string& host = options_.server.host;
    const bool v6 = host.find(':') != std::string::npos;
    via_name_ = !options_.via_name.empty() ? options_.via_name
                                           : (v6 ? "[" + host + "]" : host) + ":" + std::to_string(server_->port());
    api_.EnableForwarding(&forwarder_, via_name_);
  }
  running_ = true;
  started_ = std::chrono::steady_clock::now();
  return {};
}

void Broker::Stop() {
  if (!running_) return;
  running_ = false;
  // Forwarding stops first: what is still forwarded fails, and its answers (with warnings)
  // reach their clients while the server finishes in-flight requests.
  api_.EnableForwarding(nullptr, "");
  forwarder_.Stop();
  server_->Stop(options_.shutdown_grace);
  subs_.StopPeriodic();
  csource_subs_.StopPeriodic();
  notifier_.Stop(options_.shutdown_grace);
}

// Subscriptions and registrations in the durable store: each record is {"api", "c", "m",
// "doc"} plus what re-reading the document needs — an NGSI-LD subscription's @context ("ctx",
// null for the core context) and an NGSI-v2 subscription's service path ("sp"). A registration's
// document holds expanded names (Registration::document), so the core context reads it.
namespace {
// The members every stored document starts with: its creation and modification times.
void BeginStoredDocument(JsonWriter& w, int64_t created_at, int64_t modified_at) {
  w.BeginObject();
  w.Key("c");
  w.Int(created_at);
  w.Key("m");
  w.Int(modified_at);
}
}  // namespace

SubscriptionManager::RegistrationRender Broker::RegistrationRenderer() {
  return [this](JsonWriter& w, const Registration& r, const Context& ctx, bool sys) { registrations_.Render(w, r, ctx, sys); };
}

// An NGSI-LD subscription as stored: its @context (null: the core one) and its definition.
void Broker::StoredLdSubscription(JsonWriter& w, const SubscriptionManager& subs, const Subscription& s) const {
  w.Key("api");
  w.String("ld");
  w.Key("ctx");
  if (s.context && !s.context->is_core()) {
    w.Value(s.context->context_value());
  } else {
    w.Null();
  }
  w.Key("doc");
  subs.Render(w, s, s.context ? *s.context : *contexts_.Core(), false);
}

void Broker::SetDocumentLimits(bool on) {
  const QuotaOptions& q = options_.quotas;
  subs_.SetMaxPerTenant(on ? q.max_subscriptions_per_tenant : 0);
  csource_subs_.SetMaxPerTenant(on ? q.max_subscriptions_per_tenant : 0);
  registrations_.SetMaxPerTenant(on ? q.max_registrations_per_tenant : 0);
}

void Broker::RestoreDocuments() {
  size_t restored = 0, failed = 0;
  SetDocumentLimits(false);  // a lower limit never loses what is stored
  for (const StoredDocument& d : durable_->TakeDocuments()) {
    quotas_.Admit(d.tenant, true);
    const boost::json::object* o = d.doc.if_object();
    const boost::json::value* doc = o ? o->if_contains("doc") : nullptr;
    auto number = [&](const char* key) {
      const boost::json::value* x = o ? o->if_contains(key) : nullptr;
      return x && x->is_int64() ? x->get_int64() : kNoTime;
    };
    Expected<void, Problem> ok = Unexpected(BadRequestData("the record is not what the store writes"));
    if (doc != nullptr && doc->is_object()) {
      const std::string api = o->contains("api") && o->at("api").is_string() ? std::string(o->at("api").get_string()) : "";
      if (d.kind == 'r') {
        ok = registrations_.Restore(d.tenant, doc->get_object(), *contexts_.Core(), number("c"), number("m"));
      } else if (api == "v2") {
        const boost::json::value* sp = o->if_contains("sp");
        ok = v2_.RestoreSubscription(d.tenant, sp && sp->is_string() ? std::string(sp->get_string()) : "",
                                     doc->get_object(), number("c"), number("m"));
      } else {
        const boost::json::value* ctx = o->if_contains("ctx");
        auto context = ctx == nullptr || ctx->is_null() ? Expected<ContextPtr, Problem>(contexts_.Core())
                                                        : contexts_.FromJson(*ctx);
        SubscriptionManager& subs = d.kind == 'c' ? csource_subs_ : subs_;
        ok = context ? subs.Restore(d.tenant, doc->get_object(), *context, number("c"), number("m"))
                     : Expected<void, Problem>(Unexpected(context.error()));
      }
    }
    if (ok) {
      ++restored;
    } else {
      ++failed;  // left in the store: a later start may read it (a context reachable again)
      CITYBED_LOG(kError) << "durable store: " << (d.kind == 'r' ? "registration " : "subscription ") << d.id
                          << " not restored: " << ok.error().detail;
    }
  }
  SetDocumentLimits(true);
  if (restored + failed > 0) {
    CITYBED_LOG(kInfo) << "durable store: " << restored << " subscriptions and registrations restored, " << failed
                       << " not";
  }
  // Entity subscriptions ('s', NGSI-LD or v2) and context source registration subscriptions
  // ('c', NGSI-LD only) are stored alike.
  auto subscription_source = [this](SubscriptionManager& manager) {
    return [this, &manager](const std::string& tenant, const std::string& id) -> std::optional<std::string> {
      SubscriptionPtr s = manager.Get(tenant, id);
      if (!s) return std::nullopt;
      std::string out;
      JsonWriter w(out);
      BeginStoredDocument(w, s->created_at, s->modified_at);
      if (s->v2) {
        w.Key("api");
        w.String("v2");
        w.Key("sp");
        w.String(s->v2->service_path);
        w.Key("doc");
        w.Raw(v2_.StoredSubscription(*s));
      } else {
        StoredLdSubscription(w, manager, *s);
      }
      w.EndObject();
      return out;
    };
  };
  durable_->SetDocumentSource('s', subscription_source(subs_));
  durable_->SetDocumentSource('c', subscription_source(csource_subs_));
  durable_->SetDocumentSource('r', [this](const std::string& tenant, const std::string& id) -> std::optional<std::string> {
    RegistrationPtr r = registrations_.Get(tenant, id);
    if (!r) return std::nullopt;
    std::string out;
    JsonWriter w(out);
    BeginStoredDocument(w, r->created_at, r->modified_at);
    w.Key("doc");
    w.Value(r->document);
    w.EndObject();
    return out;
  });
  subs_.SetObserver([this](const std::string& tenant, const std::string& id) { durable_->MarkDocument('s', tenant, id); });
  csource_subs_.SetObserver(
      [this](const std::string& tenant, const std::string& id) { durable_->MarkDocument('c', tenant, id); });
  registrations_.SetObserver(
      [this](const std::string& tenant, const std::string& id) { durable_->MarkDocument('r', tenant, id); });
}

std::string Broker::url() const {
  const std::string& host = options_.server.host;
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(server_->port());
}

Response Broker::Version() const {
  Response r;
  r.SetHeader("Content-Type", "application/json");
  JsonWriter w(r.body);
  w.BeginObject();
  // Orion's /version object, so that NGSI-v2 tools recognise the broker...
  const int64_t up = static_cast<int64_t>(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  w.Key("orion");
  w.BeginObject();
  w.Key("version");
  w.String(citybed::Version());
  w.Key("uptime");
  w.String(std::to_string(up / 86400) + " d, " + std::to_string(up / 3600 % 24) + " h, " + std::to_string(up / 60 % 60) +
           " m, " + std::to_string(up % 60) + " s");
  w.Key("git_hash");
  w.String(GitCommit());
  w.Key("compile_time");
  w.String(__DATE__ " " __TIME__);
  w.Key("compiled_by");
  w.String("citybed");
  w.Key("compiled_in");
  w.String("citybed");
  w.Key("release_date");
  w.String(__DATE__);
  w.Key("doc");
  w.String("docs/broker.md");
  w.Key("libversions");
  w.BeginObject();
  w.EndObject();
  w.EndObject();
  // ... and citybed's own fields.
  w.Key("broker");
  w.String("citybed");
  w.Key("version");
  w.String(citybed::Version());
  w.Key("commit");
  w.String(GitCommit());
  w.Key("ngsiLdVersion");
  w.String("1.9.1");
  w.Key("coreContext");
  w.String(kCoreContextUrl);
  w.Key("threads");
  w.Int(options_.server.threads);
  w.Key("uptimeSeconds");
  w.Number(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  w.EndObject();
  return r;
}

std::string Broker::RenderMetricsJson() const {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("version");
  w.String(citybed::Version());
  w.Key("threads");
  w.Int(options_.server.threads);
  w.Key("uptime_seconds");
  w.Number(std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  w.Key("cpu_seconds");
  w.BeginObject();
  w.Key("serving");
  w.Number(server_->CpuSeconds());
  w.Key("notifier");
  w.Number(notifier_.CpuSeconds());
  w.Key("forwarder");
  w.Number(forwarder_.CpuSeconds());
  w.EndObject();
  w.Key("entities");
  uint64_t entities = 0;
  for (const std::string& t : store_->Tenants()) entities += store_->Count(t);
  w.Int(static_cast<int64_t>(entities));
  w.Key("subscriptions");
  w.Int(static_cast<int64_t>(subs_.Count()));
  const SubscriptionCounters s = subs_.Counters();
  w.Key("entity_changes");
  w.Int(static_cast<int64_t>(s.changes));
  w.Key("notifications_triggered");
  w.Int(static_cast<int64_t>(s.matched));
  const NotifierCounters n = notifier_.Counters();
  w.Key("notifications_sent");
  w.Int(static_cast<int64_t>(n.sent));
  w.Key("service");
  std::string service;
  service_->RenderJson(service);
  w.Raw(service);
  w.EndObject();
  return out;
}

std::string Broker::RenderMetrics() const {
  return metrics_->Render([this](std::string& out) {
    const std::vector<std::string> tenants = store_->Tenants();
    if (options_.metrics_per_tenant) {
      AppendMetricHeader(out, "citybed_entities", "gauge", "Entities stored, by tenant.");
      for (const std::string& t : tenants) {
        AppendMetric(out, "citybed_entities", "tenant=\"" + PrometheusLabelValue(t) + "\"", static_cast<double>(store_->Count(t)));
      }
      if (!store_->HasTenant("")) AppendMetric(out, "citybed_entities", "tenant=\"\"", 0);
    } else {
      uint64_t entities = 0;
      for (const std::string& t : tenants) entities += store_->Count(t);
      AppendMetricHeader(out, "citybed_entities", "gauge", "Entities stored, all tenants together.");
      AppendMetric(out, "citybed_entities", "", static_cast<double>(entities));
      AppendMetricHeader(out, "citybed_tenants", "gauge", "Tenants holding entities (names shown with --metrics-tenants).");
      AppendMetric(out, "citybed_tenants", "", static_cast<double>(tenants.size()));
    }
    if (durable_ != nullptr) {
      const DurableStats d = durable_->stats();
      const struct {
        const char *name, *type, *help;
        double value;
      } store_metrics[] = {
          {"citybed_store_commits_total", "counter", "Group commits of the durable store (batches flushed to disk).",
           static_cast<double>(d.commits)},
          {"citybed_store_records_total", "counter", "Entity versions and deletions written durably.",
           static_cast<double>(d.records)},
          {"citybed_store_bytes_total", "counter", "Encoded bytes of entity versions written durably.",
           static_cast<double>(d.bytes)},
          {"citybed_store_commit_seconds_total", "counter", "Wall time inside durable commits (write and flush).",
           d.commit_seconds},
          {"citybed_store_commit_failures_total", "counter", "Durable commits that failed (disk full, I/O error).",
           static_cast<double>(d.failures)},
          {"citybed_store_failing", "gauge", "1 while the durable store refuses writes after a failed commit.",
           d.failing ? 1.0 : 0.0},
      };
      for (const auto& m : store_metrics) {
        AppendMetricHeader(out, m.name, m.type, m.help);
        AppendMetric(out, m.name, "", m.value);
      }
    }
    if (options_.auth) {
      AppendMetricHeader(out, "citybed_auth_refused_total", "counter",
                         "Requests refused for their access key: 401 (none or unknown), 403 (not good for the request).");
      AppendMetric(out, "citybed_auth_refused_total", "status=\"401\"", static_cast<double>(auth_refused_[0].load()));
      AppendMetric(out, "citybed_auth_refused_total", "status=\"403\"", static_cast<double>(auth_refused_[1].load()));
    }
    if (rate_limiter_) {
      AppendMetricHeader(out, "citybed_rate_limited_total", "counter", "Requests answered 429: beyond their tenant's rate limit.");
      AppendMetric(out, "citybed_rate_limited_total", "", static_cast<double>(rate_limiter_->refused()));
      AppendMetricHeader(out, "citybed_rate_limited_tenants", "gauge", "Tenants whose request rate the limiter tracks.");
      AppendMetric(out, "citybed_rate_limited_tenants", "", static_cast<double>(rate_limiter_->tracked()));
    }
    const NotifierCounters n = notifier_.Counters();
    AppendMetricHeader(out, "citybed_notifications_sent_total", "counter", "Notifications delivered (2xx).");
    AppendMetric(out, "citybed_notifications_sent_total", "", static_cast<double>(n.sent));
    AppendMetricHeader(out, "citybed_notifications_failed_total", "counter", "Notifications given up after every attempt.");
    AppendMetric(out, "citybed_notifications_failed_total", "", static_cast<double>(n.failed));
    AppendMetricHeader(out, "citybed_notifications_dropped_total", "counter",
                       "Notifications dropped: queue full (jobs or bytes), the tenant's share of it full, or shutdown.");
    AppendMetric(out, "citybed_notifications_dropped_total", "", static_cast<double>(n.dropped));
    AppendMetricHeader(out, "citybed_notifications_dropped_tenant_share_total", "counter",
                       "Of the dropped notifications: their tenant's share of the queue was full (its endpoints slow).");
    AppendMetric(out, "citybed_notifications_dropped_tenant_share_total", "", static_cast<double>(n.dropped_tenant_share));
    AppendMetricHeader(out, "citybed_notification_queue_bytes", "gauge", "Bytes of notifications queued or in flight.");
    AppendMetric(out, "citybed_notification_queue_bytes", "", static_cast<double>(n.queued_bytes));
    AppendMetricHeader(out, "citybed_notifications_retried_total", "counter", "Notification attempts retried.");
    AppendMetric(out, "citybed_notifications_retried_total", "", static_cast<double>(n.retried));
    AppendMetricHeader(out, "citybed_notification_queue_depth", "gauge", "Notifications queued or in flight.");
    AppendMetric(out, "citybed_notification_queue_depth", "", static_cast<double>(n.queued));
    AppendMetricHeader(out, "citybed_names", "gauge", "Names in the name table all tenants share.");
    AppendMetric(out, "citybed_names", "", static_cast<double>(names_.size()));
    AppendMetricHeader(out, "citybed_writing_tenants", "gauge",
                       "Tenants that have written since start or hold data (at most --max-tenants new ones).");
    AppendMetric(out, "citybed_writing_tenants", "", static_cast<double>(quotas_.tenants()));
    const SubscriptionCounters s = subs_.Counters();
    AppendMetricHeader(out, "citybed_subscriptions", "gauge", "Subscriptions stored.");
    AppendMetric(out, "citybed_subscriptions", "", static_cast<double>(subs_.Count()));
    AppendMetricHeader(out, "citybed_notifications_triggered_total", "counter", "Notifications queued by subscriptions.");
    AppendMetric(out, "citybed_notifications_triggered_total", "", static_cast<double>(s.matched));
    AppendMetricHeader(out, "citybed_entity_changes_total", "counter", "Entity changes matched against subscriptions.");
    AppendMetric(out, "citybed_entity_changes_total", "", static_cast<double>(s.changes));
    AppendMetricHeader(out, "citybed_notifications_throttled_total", "counter", "Notifications skipped by throttling.");
    AppendMetric(out, "citybed_notifications_throttled_total", "", static_cast<double>(s.throttled));
    const ForwarderCounters f = forwarder_.Counters();
    AppendMetricHeader(out, "citybed_forwarded_requests_total", "counter",
                       "Requests forwarded to context sources (distributed operations), by outcome.");
    AppendMetric(out, "citybed_forwarded_requests_total", "outcome=\"answered\"", static_cast<double>(f.answered));
    AppendMetric(out, "citybed_forwarded_requests_total", "outcome=\"failed\"", static_cast<double>(f.failed - f.timeouts));
    AppendMetric(out, "citybed_forwarded_requests_total", "outcome=\"timeout\"", static_cast<double>(f.timeouts));
    AppendMetric(out, "citybed_forwarded_requests_total", "outcome=\"cooled\"", static_cast<double>(f.cooled));
    AppendMetricHeader(out, "citybed_forwarded_bytes_total", "counter", "Bytes received from context sources.");
    AppendMetric(out, "citybed_forwarded_bytes_total", "", static_cast<double>(f.bytes_received));
    AppendMetricHeader(out, "citybed_forwarded_in_flight", "gauge", "Forwarded requests awaiting an answer.");
    AppendMetric(out, "citybed_forwarded_in_flight", "", static_cast<double>(f.in_flight));
    AppendMetricHeader(out, "citybed_context_fetches_total", "counter", "Remote @context documents fetched.");
    AppendMetric(out, "citybed_context_fetches_total", "", static_cast<double>(contexts_.fetches()));
  });
}

}  // namespace citybed::broker
