#include "citybed/models/emulation.h"

#include "citybed/models/relay.h"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>

#include "citybed/common/strings.h"
#include "citybed/common/url.h"
#include "citybed/models/driver.h"
#include "citybed/models/http_port.h"
#include "citybed/models/placement.h"
#include "citybed/models/workload.h"
#include "citybed/sim/engine.h"
#include "citybed/sim/http_listener.h"
#include "citybed/sim/network.h"

namespace citybed::models {

namespace {

using Clock = std::chrono::steady_clock;

// The value of a Prometheus sample (the sum over its label sets), or -1 when absent.
double PrometheusValue(std::string_view text, std::string_view metric) {
  double total = -1;
  size_t pos = 0;
  while ((pos = text.find(metric, pos)) != std::string_view::npos) {
    const bool line_start = pos == 0 || text[pos - 1] == '\n';
    const size_t after = pos + metric.size();
    const size_t eol = std::min(text.find('\n', pos), text.size());
    pos = after;
    if (!line_start || after >= text.size() || (text[after] != ' ' && text[after] != '{')) continue;
    const std::string_view line = text.substr(after, eol - after);
    const size_t space = line.rfind(' ');
    if (space == std::string_view::npos) continue;
    char* end = nullptr;
    const std::string value(line.substr(space + 1));
    const double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str()) continue;
    total = (total < 0 ? 0 : total) + v;
  }
  return total;
}

// One connection pool per broker: the one broker, or each site of a federation.
std::vector<HttpClientOptions> SitePools(const Scenario& s, const EmulationOptions& options, const std::string& host,
                                         const std::string& port) {
  auto pool = [&](const std::string& h, const std::string& p) {
    HttpClientOptions o;
    o.host = h;
    o.port = p;
    o.connections = s.broker.connections;
    o.timeout = s.broker.timeout.chrono() > std::chrono::milliseconds(1)
                    ? std::chrono::duration_cast<std::chrono::milliseconds>(s.broker.timeout.chrono())
                    : std::chrono::milliseconds(1);
    o.max_queue = 1 << 22;
    o.keep_body = true;
    o.extra_headers = options.extra_headers;
    return o;
  };
  std::vector<HttpClientOptions> out;
  if (options.site_urls.empty()) {
    out.push_back(pool(host, port));
    return out;
  }
  for (const std::string& url : options.site_urls) {
    auto parsed = ParseHttpUrl(url);
    out.push_back(parsed ? pool(parsed->host, parsed->port) : pool(host, port));
  }
  return out;
}

class Emulation final : public RunObserver {
 public:
  Emulation(World& world, Protocols protocols, const EmulationOptions& options, RunObserver& observer,
            const std::string& host, const std::string& port)
      : world_(world),
        scenario_(world.scenario()),
        protocols_(std::move(protocols)),
        options_(options),
        observer_(observer),
        executor_(engine_, io_, {.speed = scenario_.speed, .lag_bound = sim::Duration::Max(),
                                 .lag_percentile = scenario_.generator.lag_percentile}),
        port_(io_, executor_, SitePools(scenario_, options, host, port)),
        driver_(world, engine_, port_, *this, scenario_.broker.timeout),
        listener_(io_, [this](const sim::ListenerRequest& r) { return OnNotification(r.method, r.target, r.body); }),
        notify_rng_(sim::RngStreams(scenario_.seed).Stream("network/notification-downlink")) {
    // Instances of one broker: a pool per instance, regions placed as the scenario says.
    if (world_.federation() == nullptr && options.site_urls.size() > 1) {
      port_.SetInstances(PlaceRegions(world_, static_cast<int>(options.site_urls.size()), scenario_.broker.placement));
    }
  }

  EmulationResult Run() {
    const auto wall_start = Clock::now();
    wall_start_ = wall_start;
    if (auto ok = listener_.Listen(options_.listen_host, 0); !ok) {
      result_.invalid_reasons.push_back("cannot receive notifications: " + ok.error().message);
      return result_;
    }
    const std::string base = "http://" + options_.listen_host + ":" + std::to_string(listener_.port());
    WorkloadOptions wo;
    {
      const auto unix_now = std::chrono::system_clock::now().time_since_epoch();
      const double now_s = std::chrono::duration<double>(unix_now).count();
      char tag[24];
      std::snprintf(tag, sizeof tag, "%012llx",
                    static_cast<unsigned long long>(
                        sim::Mix64(static_cast<uint64_t>(unix_now.count()) ^ listener_.port()) >> 16));
      wo.subscription_prefix = std::string("urn:ngsi-ld:Subscription:citybed:") + tag + ":";
      // The run's wall-clock end, plus its drain bound and a second.
      wo.subscriptions_expire = FormatRfc3339(now_s + (scenario_.duration.seconds() + 1) / scenario_.speed +
                                              scenario_.broker.timeout.seconds() + 1);
    }
    result_.notification_url = base + "/notify";
    wo.notification_url = result_.notification_url;
    std::vector<std::string> own;
    for (const SourceModel* m : SourceModels()) {
      if (m->own_type()) own.emplace_back(m->entity_type());
    }
    protocols_.UseOwnContext(base + std::string(kOwnContextPath), own);
    own_context_url_ = base + std::string(kOwnContextPath);
    if (!CheckBroker()) return Finish();
    if (world_.federation() != nullptr && !LinkSites()) return Finish();
    const BrokerCounters before = ReadBrokerCounters();
    if (world_.federation() == nullptr) {  // a federation's pools open as they are used
      for (int i = 0; i < static_cast<int>(port_.sites()); ++i) port_.pool(i).Warm();
    }
    end_ = sim::Time() + scenario_.duration;
    Workload workload(world_, protocols_, engine_, driver_, wo);
    driver_.SetWorkload(&workload);
    workload.Start(end_);
    ScheduleProgress();
    SampleResources();  // the first sample: the start
    result_.executor = executor_.RunUntil(end_);
    result_.reached_end = !result_.executor.stopped && !stop_reason_set_;
    result_.end = engine_.Now();
    Drain();
    driver_.SetWorkload(nullptr);
    result_.skipped = workload.skipped();
    result_.subscriptions = workload.subscriptions();
    result_.emitted = driver_.stats().emitted;
    if (result_.reached_end) CountMissingNotifications(before);
    driver_.CancelAll();  // what the drain left (nothing, unless the broker hangs past its timeouts)
    return Finish();
  }

 private:
  struct BrokerCounters {
    double triggered = -1, sent = -1, failed = -1, dropped = -1, queued = -1;
  };

  // ---- observer: counts what the emulation needs, forwards everything ------------------------

  void OnRequest(const RequestRecord& r) override {
    if (r.op == OpKind::kSubscribe && !r.ok()) ++result_.subscriptions_failed;
    if (r.status > 0) last_answer_ = Clock::now();
    observer_.OnRequest(r);
  }
  void OnNotification(const NotificationRecord& n) override { observer_.OnNotification(n); }
  void OnResources(const ResourceSample& s) override { observer_.OnResources(s); }
  void OnInterop(const InteropRecord& r) override { observer_.OnInterop(r); }

  void SampleResources() {
    if (!options_.broker_cpu_seconds) return;
    const auto now = Clock::now();
    const double cpu = options_.broker_cpu_seconds();
    if (last_sample_wall_ != Clock::time_point{}) {
      ResourceSample s;
      s.at = engine_.Now();
      s.wall_seconds = std::chrono::duration<double>(now - last_sample_wall_).count();
      s.broker_cpu_seconds = cpu - last_sample_cpu_;
      OnResources(s);
    }
    last_sample_wall_ = now;
    last_sample_cpu_ = cpu;
  }

  // ---- a synchronous GET through the pool, before and after the run ------------------------

  HttpOutcome Fetch(std::string wire, std::chrono::seconds limit, int site = 0) {
    bool done = false;
    HttpOutcome answer;
    struct Ctx {
      bool* done;
      HttpOutcome* answer;
    } ctx{&done, &answer};
    port_.pool(site).Send(std::move(wire), {[](void* c, uint64_t, HttpOutcome& o) {
                                          auto* x = static_cast<Ctx*>(c);
                                          *x->answer = std::move(o);
                                          *x->done = true;
                                        },
                                        &ctx, 0});
    const auto deadline = Clock::now() + limit;
    while (!done && Clock::now() < deadline) io_.run_one_for(std::chrono::milliseconds(100));
    if (!done) answer.error = "no answer within " + std::to_string(limit.count()) + " s";
    return answer;
  }

  std::string SiteUrl(int site) const {
    return options_.site_urls.empty() ? options_.broker_url : options_.site_urls[static_cast<size_t>(site)];
  }

  // What other brokers register and forward to, per site.
  std::vector<std::string> SiteLdUrls() const {
    return options_.site_ld_urls.size() == options_.site_urls.size() ? options_.site_ld_urls : options_.site_urls;
  }

  bool CheckBroker() {
    for (int site = 0; site < static_cast<int>(port_.sites()); ++site) {
      const HttpOutcome answer = Fetch(protocols_.primary().Version(), std::chrono::seconds(10), site);
      if (!answer.ok()) {
        result_.broker_lost = true;
        result_.invalid_reasons.push_back("the broker at " + SiteUrl(site) + " does not answer GET /version: " +
                                          (!answer.error.empty() ? answer.error : "HTTP " + std::to_string(answer.status)));
        return false;
      }
      if (site == 0) result_.broker_version = answer.body;
    }
    return true;
  }

  // Federation: the registrations of the topology, made at each site before the run (any old
  // one of the same id replaced), pointing at the relay when there is one.
  bool LinkSites() {
    const Federation& fed = *world_.federation();
    FederationResult& fr = result_.federation;
    fr.active = true;
    fr.sites = fed.sites().size();
    if (fed.spec().relay) {
      relay_ = std::make_unique<Relay>(io_, world_, SiteLdUrls(), scenario_.speed, scenario_.network.retransmit,
                                       sim::RngStreams(scenario_.seed).Stream("network/federation-relay"),
                                       [this] { return executor_.WallToSim(Clock::now()); });
      if (auto ok = relay_->Listen(options_.listen_host); !ok) {
        result_.invalid_reasons.push_back("cannot start the federation relay: " + ok.error().message);
        return false;
      }
      fr.relayed = true;
    }
    for (const SiteLink& link : fed.links()) {
      const std::string endpoint = relay_ ? relay_->EndpointFor(link.at, link.source) : SiteLdUrls()[static_cast<size_t>(link.source)];
      const std::string body = fed.Registration(link, endpoint);
      auto at = ParseHttpUrl(SiteUrl(link.at));
      if (!at) return false;
      const std::string id = nlohmann::json::parse(body)["id"].get<std::string>();
      const std::string link_header = "Link: <" + own_context_url_ +
                                      ">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"\r\n";
      Fetch(FormatRequest("DELETE", "/ngsi-ld/v1/csourceRegistrations/" + PercentEncode(id, ":"), at->host_header, "", "", ""),
            std::chrono::seconds(10), link.at);
      const HttpOutcome made = Fetch(FormatRequest("POST", "/ngsi-ld/v1/csourceRegistrations", at->host_header, link_header,
                                                   "application/json", body),
                                     std::chrono::seconds(10), link.at);
      if (made.status != 201) {
        result_.invalid_reasons.push_back("cannot register " + fed.sites()[static_cast<size_t>(link.source)].id + " at " +
                                          fed.sites()[static_cast<size_t>(link.at)].id + ": " +
                                          (!made.error.empty() ? made.error : "HTTP " + std::to_string(made.status) + " " + made.body));
        return false;
      }
      ++fr.registrations;
    }
    return true;
  }

  // The brokers' notification counters (summed over a federation's sites), when they expose
  // citybed's Prometheus metrics.
  BrokerCounters ReadBrokerCounters() {
    BrokerCounters sum;
    for (int site = 0; site < static_cast<int>(port_.sites()); ++site) {
      auto url = ParseHttpUrl(SiteUrl(site));
      if (!url) return BrokerCounters{};
      const HttpOutcome o =
          Fetch(FormatRequest("GET", "/metrics", url->host_header, "", "", ""), std::chrono::seconds(5), site);
      if (!o.ok()) return BrokerCounters{};
      BrokerCounters c;
      c.triggered = PrometheusValue(o.body, "citybed_notifications_triggered_total");
      c.sent = PrometheusValue(o.body, "citybed_notifications_sent_total");
      c.failed = PrometheusValue(o.body, "citybed_notifications_failed_total");
      c.dropped = PrometheusValue(o.body, "citybed_notifications_dropped_total");
      c.queued = PrometheusValue(o.body, "citybed_notification_queue_depth");
      if (c.triggered < 0) return BrokerCounters{};
      auto add = [](double& into, double v) { into = (into < 0 ? 0 : into) + std::max(0.0, v); };
      add(sum.triggered, c.triggered);
      add(sum.sent, c.sent);
      add(sum.failed, c.failed);
      add(sum.dropped, c.dropped);
      add(sum.queued, c.queued);
    }
    return sum;
  }

  // Notifications the broker triggered during the run against those received: waits (up to
  // the broker timeout) for its queue to empty and the last ones to arrive, then compares.
  void CountMissingNotifications(const BrokerCounters& before) {
    if (before.triggered < 0) return;  // not a broker that says: "unknown"
    BrokerCounters after = ReadBrokerCounters();
    const auto deadline = Clock::now() + scenario_.broker.timeout.chrono();
    auto triggered = [&] { return static_cast<uint64_t>(std::max(0.0, after.triggered - before.triggered)); };
    while (after.triggered >= 0 && Clock::now() < deadline &&
           (after.queued > 0 || result_.notifications < triggered())) {
      const auto pause = Clock::now() + std::chrono::milliseconds(50);
      while (Clock::now() < pause) io_.run_one_until(pause);
      after = ReadBrokerCounters();
    }
    if (after.triggered < 0) return;
    NotificationAccount& a = result_.broker_notifications;
    a.known = true;
    a.triggered = triggered();
    a.sent = static_cast<uint64_t>(std::max(0.0, after.sent - before.sent));
    a.failed = static_cast<uint64_t>(std::max(0.0, after.failed - before.failed));
    a.dropped = static_cast<uint64_t>(std::max(0.0, after.dropped - before.dropped));
    a.missing = a.triggered > result_.notifications ? a.triggered - result_.notifications : 0;
  }

  // ---- notifications -----------------------------------------------------------------------

  sim::ListenerReply OnNotification(std::string_view method, std::string_view target, std::string_view body) {
    if (method == "GET" && target == kOwnContextPath) return {200, "application/ld+json", OwnContextDocument()};
    if (method != "POST") return {405, "", ""};
    const auto now = Clock::now();
    ++result_.notifications;
    // /notify/<region of the subscriber>
    const size_t slash = target.rfind('/');
    const int sub_region = scenario_.RegionIndex(std::string(target.substr(slash + 1)));
    nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.is_object() || !doc.contains("data") || !doc["data"].is_array() || sub_region < 0) {
      ++result_.notification_errors;
      return {400, "", ""};
    }
    const RegionRuntime& subscriber = world_.regions()[static_cast<size_t>(sub_region)];
    // The notification crosses the subscriber's simulated downlink once, losses included.
    const sim::Delivery down =
        sim::Network::Deliver(subscriber.path, body.size() + 160, scenario_.network.retransmit, notify_rng_);
    if (!down.delivered) {
      result_.notifications_lost += doc["data"].size();
      return {204, "", ""};
    }
    for (const auto& entity : doc["data"]) {
      ++result_.notified_entities;
      if (!entity.is_object()) continue;
      // The latest observation the entity carries: an attribute's observedAt (NGSI-LD), or its
      // observedAt metadata (NGSI-v2, as citybed's v2 sources write it).
      int64_t observed_us = INT64_MIN;
      for (auto it = entity.begin(); it != entity.end(); ++it) {
        if (!it->is_object()) continue;
        const nlohmann::json* obs = nullptr;
        if (auto ld = it->find("observedAt"); ld != it->end()) {
          obs = &*ld;
        } else if (auto md = it->find("metadata"); md != it->end() && md->is_object()) {
          if (auto v2 = md->find("observedAt"); v2 != md->end() && v2->is_object() && v2->contains("value")) {
            obs = &(*v2)["value"];
          }
        }
        if (obs == nullptr || !obs->is_string()) continue;
        if (auto t = ParseRfc3339Micros(obs->get_ref<const std::string&>())) observed_us = std::max(observed_us, *t);
      }
      if (observed_us == INT64_MIN) continue;
      // The uplink the write actually paid (retransmissions included), kept by the driver;
      // nominal (no loss) when the notified observation is not the source's latest write.
      sim::Duration uplink;
      bool exact = false;
      if (entity.contains("id") && entity["id"].is_string()) {
        if (auto src = world_.FindSource(entity["id"].get_ref<const std::string&>())) {
          const SourceGroup& g = world_.sources()[static_cast<size_t>(src->first)];
          const LastWrite w = g.last_write[src->second];
          if (w.uplink_us != UINT32_MAX && w.observed_us_low == static_cast<uint32_t>(observed_us)) {
            uplink = sim::Duration::Microseconds(w.uplink_us);
            exact = true;
          } else {
            uplink = world_.regions()[static_cast<size_t>(g.region)].path.Delay(600);
          }
        }
      }
      if (!exact) ++result_.freshness_nominal_uplink;
      const sim::Time observed = sim::Time::FromNs((observed_us - scenario_.start_unix_us) * 1000);
      // The broker's part in wall time: from the write's arrival at the broker to now.
      const sim::Duration broker_part(now - executor_.SimToWall(observed + uplink));
      NotificationRecord n;
      n.region = sub_region;
      n.arrival = executor_.WallToSim(now) + down.delay;
      n.freshness = uplink + broker_part + down.delay;
      observer_.OnNotification(n);
    }
    return {204, "", ""};
  }

  // ---- progress, end -----------------------------------------------------------------------

  void ScheduleProgress() {
    const sim::Duration every = sim::Duration::Seconds(scenario_.speed);  // one wall second
    engine_.ScheduleIn(every, [this, every] { Progress(every); });
  }

  void Progress(sim::Duration every) {
    if (options_.interrupt != nullptr && options_.interrupt->load()) {
      interrupted_ = true;
      executor_.Stop();
      return;
    }
    // A broker that vanished: every request fails at transport level for a while.
    const DriverStats& d = driver_.stats();
    if (d.transport_errors_in_a_row >= 100 && Clock::now() - last_answer_ > std::chrono::seconds(2) && !stop_reason_set_) {
      stop_reason_set_ = true;
      result_.broker_lost = true;
      result_.invalid_reasons.push_back("the broker stopped answering at t=" + engine_.Now().SinceStart().ToString() +
                                        "; the run was ended early");
      executor_.Stop();
      return;
    }
    SampleResources();
    if (options_.on_progress) {
      EmulationProgress p;
      p.now = engine_.Now();
      p.duration = scenario_.duration;
      p.wall_seconds = std::chrono::duration<double>(Clock::now() - wall_start_).count();
      p.sent = d.dispatched;
      p.completed = d.ok;
      p.failed = d.failed;
      p.outstanding = d.outstanding;
      options_.on_progress(p);
    }
    if (every < end_ - engine_.Now()) engine_.ScheduleIn(every, [this, every] { Progress(every); });
  }

  // Lets the requests still in flight — or still on their simulated uplink — finish, paced as
  // before; every one ends by its timeout, counted from its intended time. What is left then
  // (at once, when the run ended early) is cancelled by Run.
  void Drain() {
    if (result_.reached_end) {
      const sim::Duration check = sim::Duration::Milliseconds(10) * scenario_.speed;
      std::function<void()> poll = [this, &poll, check] {
        if (driver_.idle()) {
          executor_.Stop();
          return;
        }
        engine_.ScheduleIn(check, poll);
      };
      engine_.ScheduleIn(sim::Duration(), poll);
      executor_.RunUntil(end_ + scenario_.broker.timeout * scenario_.speed + sim::Duration::Seconds(scenario_.speed));
    }
    result_.drain_end = engine_.Now();
  }

  EmulationResult Finish() {
    const DriverStats& d = driver_.stats();
    result_.interrupted = interrupted_;
    result_.pool = port_.Stats();
    if (relay_) {
      const RelayStats& rs = relay_->stats();
      FederationResult& fr = result_.federation;
      fr.hops = rs.hops;
      fr.lost = rs.lost;
      fr.unreachable = rs.unreachable;
      fr.faulted = rs.faulted;
      fr.bytes_forward = rs.bytes_forward;
      fr.bytes_back = rs.bytes_back;
      fr.backbone = rs.backbone;
      relay_->Close();
    }
    result_.pool_wait = d.waited;
    result_.sent = d.sent;
    result_.dispatched = d.dispatched;
    result_.completed = d.ok;
    result_.failed = d.failed;
    result_.network_failures = d.network_failures;
    result_.timeouts = d.timeouts;
    result_.cancelled = d.cancelled;
    result_.max_outstanding = d.max_outstanding;
    result_.wall_seconds = std::chrono::duration<double>(Clock::now() - wall_start_).count();
    if (interrupted_) result_.invalid_reasons.push_back("the run was interrupted before its end (partial results)");
    listener_.Close();
    return std::move(result_);
  }

  World& world_;
  const Scenario& scenario_;
  Protocols protocols_;
  const EmulationOptions& options_;
  RunObserver& observer_;
  boost::asio::io_context io_;
  sim::Engine engine_;
  sim::RealtimeExecutor executor_;
  HttpBrokerPort port_;
  std::unique_ptr<Relay> relay_;
  std::string own_context_url_;
  RequestDriver driver_;
  sim::HttpListener listener_;
  sim::Rng notify_rng_;
  Clock::time_point last_answer_ = Clock::now();
  Clock::time_point last_sample_wall_{};
  double last_sample_cpu_ = 0;
  Clock::time_point wall_start_ = Clock::now();
  sim::Time end_;
  bool interrupted_ = false;
  bool stop_reason_set_ = false;
  EmulationResult result_;
};

}  // namespace

std::string_view OpKindName(OpKind op) {
  switch (op) {
    case OpKind::kUpsert: return "upsert";
    case OpKind::kGet: return "get";
    case OpKind::kQuery: return "query";
    case OpKind::kGeoQuery: return "geo-query";
    case OpKind::kSubscribe: return "subscribe";
    default: return "?";
  }
}

std::string_view OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk: return "ok";
    case Outcome::kStatus: return "status";
    case Outcome::kTimeout: return "timeout";
    case Outcome::kConnection: return "connection";
    case Outcome::kNetwork: return "network";
    case Outcome::kCancelled: return "cancelled";
    default: return "?";
  }
}

EmulationResult RunEmulation(World& world, Protocols protocols, const EmulationOptions& options,
                             RunObserver& observer) {
  auto url = ParseHttpUrl(options.broker_url);
  if (!url || url->scheme != "http") {
    EmulationResult r;
    r.broker_lost = true;
    r.invalid_reasons.push_back(url ? "the broker URL " + options.broker_url + " is not http://" : url.error().message);
    return r;
  }
  Emulation e(world, std::move(protocols), options, observer, url->host, url->port);
  return e.Run();
}

}  // namespace citybed::models
