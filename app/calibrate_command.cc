// citybed calibrate: measures a broker for model mode (docs/capacity.md) and writes
// calibration.json (models/calibration.h).
//
// 1. The workload: the scenario's own requests, generated as a run would make them (its sources,
//    users and subscriptions over its first simulated minutes), captured in order.
// 2. Preload: the captured requests replayed once (entities and subscriptions in place; their
//    notifications go to a receiver here).
// 3. Low load, per class: the class's requests one at a time (the broker otherwise idle). With
//    the broker's per-class metrics (GET /metrics?format=json, the embedded broker and any
//    citybed broker): the handler's service-time distribution, its CPU, the overhead outside
//    handlers (serving CPU not in handlers, per request: the utilisation law) and the fixed delay
//    (response time − handler − overhead). Without them: black box — the service time is the
//    response time less the round trip of GET /version (lower confidence).
// 4. A sweep of closed-loop concurrency 1, 2, 4, ... to saturation with the workload's mix:
//    throughput, response time, broker CPU; the Universal Scalability Law fitted to it
//    (Levenberg–Marquardt); the utilisation law checked at every point.
#include <unistd.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>

#include "broker_probe.h"
#include "child_broker.h"
#include "citybed/broker/broker.h"
#include "citybed/common/file.h"
#include "citybed/common/sha256.h"
#include "citybed/common/strings.h"
#include "citybed/models/calibration.h"
#include "citybed/models/emulation.h"
#include "citybed/models/scenario.h"
#include "citybed/models/sources.h"
#include "citybed/models/workload.h"
#include "citybed/models/world.h"
#include "citybed/sim/http_listener.h"
#include "commands.h"
#include "exit_codes.h"
#include "model_support.h"

namespace citybed::app {

namespace {

struct CalibrateOptions {
  std::string broker = "embedded";
  std::string scenario = "scenarios/quickstart.json";
  std::string out = "calibration.json";
  int threads = 1;
  int64_t seed = -1;
  size_t per_class = 2000;       // low-load requests per class, at most
  std::string step = "3s";       // length of each sweep step
  int max_concurrency = 128;
  std::string client_window = "4s";
  std::string open_loop = "0.05,0.2,0.4,0.6,0.8";
  bool force = false;
  bool in_process = false;
};

// Collects the workload's requests instead of sending them.
class CaptureSink final : public models::RequestSink {
 public:
  CaptureSink(const models::World& world, std::vector<Captured>& out) : world_(world), out_(out) {}
  void Emit(models::WorkloadRequest&& r) override {
    std::string topic;
    if (r.group >= 0) {
      const models::SourceGroup& g = world_.sources()[static_cast<size_t>(r.group)];
      topic = world_.regions()[static_cast<size_t>(g.region)].tenant + '\n' + std::string(g.model->entity_type());
    } else if (r.op == models::OpKind::kSubscribe && r.spec != nullptr) {
      topic = world_.regions()[static_cast<size_t>(r.about)].tenant + '\n' + r.spec->entity_type;
    }
    out_.push_back({ClassifyWire(r.wire), std::move(r.wire), std::move(topic)});
  }

 private:
  const models::World& world_;
  std::vector<Captured>& out_;
};


// Refuses to overwrite a calibration without --force, and checks that its folder is writable
// before anything is measured.
Expected<void> PrepareOutput(const std::string& path, bool force) {
  if (!force && access(path.c_str(), F_OK) == 0) {
    return Unexpected(Error::AlreadyExists(path + " exists (use --force to overwrite it)"));
  }
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  if (access(dir.c_str(), W_OK) != 0) return Unexpected(Error::Io("cannot write in " + dir + ": " + std::strerror(errno)));
  return {};
}

int Calibrate(const CalibrateOptions& o) {
  // ---- the workload --------------------------------------------------------------------------
  auto text = ReadFile(o.scenario);
  if (!text) {
    std::fprintf(stderr, "citybed calibrate: %s\n", text.error().message.c_str());
    return kExitUsage;
  }
  auto scenario = models::LoadScenario(o.scenario);
  if (!scenario) {
    std::fputs(models::FormatErrors(o.scenario, scenario.error()).c_str(), stderr);
    return kExitUsage;
  }
  models::Scenario& s = *scenario;
  if (o.seed >= 0) s.seed = static_cast<uint64_t>(o.seed);
  if (s.federation) {
    std::fprintf(stderr, "citybed calibrate: %s federates brokers; calibrate with a one-broker scenario\n", o.scenario.c_str());
    return kExitUsage;
  }
  if (auto ok = PrepareOutput(o.out, o.force); !ok) {
    std::fprintf(stderr, "citybed calibrate: %s\n", ok.error().message.c_str());
    return kExitUsage;
  }
  auto world = models::World::Build(s);
  if (!world) {
    std::fprintf(stderr, "citybed calibrate: %s: %s\n", o.scenario.c_str(), world.error().message.c_str());
    return kExitUsage;
  }

  // ---- the broker ----------------------------------------------------------------------------
  // The embedded broker runs in its own process on CPU 0 and citybed on the others, so that the
  // load generator does not take the broker's core (unless --in-process, or one CPU only).
  std::unique_ptr<broker::Broker> embedded;
  std::unique_ptr<ChildBroker> child;
  std::string url = o.broker;
  const bool isolate = o.broker == "embedded" && !o.in_process && std::thread::hardware_concurrency() >= 2;
  // (Re)starts the embedded broker — in its own process or in this one — as a fresh one; an
  // external broker is left as it is.
  auto start_embedded = [&]() -> bool {
    if (isolate) {
      child.reset();
      auto c = ChildBroker::Start(o.threads, 0);
      if (!c) {
        std::fprintf(stderr, "citybed calibrate: %s\n", c.error().message.c_str());
        return false;
      }
      child = std::move(*c);
      url = child->url();
    } else if (o.broker == "embedded") {
      if (embedded) embedded->Stop();
      broker::BrokerOptions bo;
      bo.server.port = 0;
      bo.server.threads = o.threads;
      bo.notifier.queue_capacity = 1 << 20;
      embedded = std::make_unique<broker::Broker>(bo);
      if (auto ok = embedded->Start(); !ok) {
        std::fprintf(stderr, "citybed calibrate: cannot start the embedded broker: %s\n", ok.error().message.c_str());
        return false;
      }
      url = embedded->url();
    }
    return true;
  };
  if (!start_embedded()) return kExitRuntimeError;
  auto parsed = ParseHttpUrl(url);
  if (!parsed || parsed->scheme != "http") {
    std::fprintf(stderr, "citybed calibrate: --broker must be \"embedded\" or an http:// URL\n");
    return kExitUsage;
  }
  boost::asio::io_context io;
  Client client(io, *parsed, o.max_concurrency);
  const HttpOutcome version = client.Get("/version");
  if (!version.ok()) {
    std::fprintf(stderr, "citybed calibrate: the broker at %s does not answer GET /version: %s\n", url.c_str(),
                 version.error.empty() ? ("HTTP " + std::to_string(version.status)).c_str() : version.error.c_str());
    return kExitRuntimeError;
  }
  // Notifications of the workload's subscriptions are received (and acknowledged) here.
  sim::HttpListener listener(io, [](const sim::ListenerRequest& r) -> sim::ListenerReply {
    if (r.method == "GET" && r.target == models::kOwnContextPath) {
      return {200, "application/ld+json", models::OwnContextDocument()};
    }
    return {204, "", ""};
  });
  if (auto ok = listener.Listen("127.0.0.1", 0); !ok) {
    std::fprintf(stderr, "citybed calibrate: cannot receive notifications: %s\n", ok.error().message.c_str());
    return kExitRuntimeError;
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(listener.port());
  models::Protocols protocols = models::Protocols::ForScenario(s, parsed->host_header);
  std::vector<std::string> own;
  for (const models::SourceModel* m : models::SourceModels()) {
    if (m->own_type()) own.emplace_back(m->entity_type());
  }
  protocols.UseOwnContext(base + std::string(models::kOwnContextPath), own);

  std::vector<Captured> captured;
  {
    sim::Engine engine;
    CaptureSink sink(**world, captured);
    models::WorkloadOptions wo;
    wo.notification_url = base + "/notify";
    wo.subscription_prefix = "urn:ngsi-ld:Subscription:citybed-calibrate:" + std::to_string(listener.port()) + ":";
    models::Workload workload(**world, protocols, engine, sink, wo);
    const sim::Time end = sim::Time() + std::min(s.duration, sim::Duration::Seconds(1800));
    workload.Start(end);
    // Enough of every class: stop once 60,000 requests are captured.
    while (engine.Step()) {
      if (captured.size() >= 60000) break;
    }
  }
  std::array<std::vector<const Captured*>, kOpClasses> by_class;
  std::vector<const Captured*> mix, all;
  for (const Captured& c : captured) {
    all.push_back(&c);
    by_class[static_cast<size_t>(c.cls)].push_back(&c);
    if (c.cls != OpClass::kSubscription) mix.push_back(&c);
  }
  std::fprintf(stderr, "citybed calibrate: %s against %s%s — %zu requests of the scenario's workload\n", s.name.c_str(),
               url.c_str(), child ? " (embedded, its own process on CPU 0)" : embedded ? " (embedded, in this process)" : "",
               captured.size());

  models::Calibration cal;
  cal.created_utc = UtcNowRfc3339();
  cal.broker = o.broker == "embedded" ? "embedded" : url;
  {
    // citybed's and Orion's /version bodies name the version; anything else is kept as it is.
    nlohmann::json v = nlohmann::json::parse(version.body, nullptr, false);
    auto text_of = [](const nlohmann::json& o, const char* key) {
      return o.contains(key) && o[key].is_string() ? o[key].get<std::string>() : std::string();
    };
    if (v.is_object() && !text_of(v, "broker").empty() && !text_of(v, "version").empty()) {
      cal.broker_version = text_of(v, "broker") + " " + text_of(v, "version") +
                           (text_of(v, "commit").empty() ? "" : " (" + text_of(v, "commit") + ")");
    } else if (v.is_object() && v.contains("orion") && v["orion"].is_object()) {
      cal.broker_version = "orion " + text_of(v["orion"], "version");
    } else {
      cal.broker_version = version.body.substr(0, 200);
    }
  }
  cal.machine = Machine();
  cal.threads = o.threads;
  cal.scenario = o.scenario + " (sha256 " + Sha256Hex(*text).substr(0, 16) + ", seed " + std::to_string(s.seed) + ")";

  // ---- preload ---------------------------------------------------------------------------------
  const Snapshot empty = Read(client);
  Load pre;
  {
    size_t cursor = 0;
    pre = client.Drive(all, cursor, 8, 600, all.size(), false);
    std::fprintf(stderr, "  preload: %llu answered, %llu failed in %.1f s\n", static_cast<unsigned long long>(pre.answered),
                 static_cast<unsigned long long>(pre.failed), pre.seconds);
  }
  const Snapshot first = Read(client);
  cal.confidence = first.known ? "broker-metrics" : "black-box";
  cal.entities = first.entities;
  double baseline_rt = 0;  // black box: the round trip of a request that does almost nothing
  if (!first.known) {
    Captured v{OpClass::kOther, FormatRequest("GET", "/version", parsed->host_header, "", "", ""), ""};
    std::vector<const Captured*> seq(200, &v);
    size_t cursor = 0;
    const Load l = client.Drive(seq, cursor, 1, 30, seq.size(), false);
    baseline_rt = static_cast<double>(l.rt.ValueAtPercentile(50)) * 1e-9;
    cal.warnings.push_back("the broker exposes no per-class service metrics: service times are response times less "
                           "the round trip of GET /version (black box, lower confidence)");
  }

  // ---- low load, per class ---------------------------------------------------------------------
  double rt_minus_handler = 0, outside_cpu = 0;
  uint64_t low_requests = 0;
  const double total = static_cast<double>(captured.size());
  for (size_t c = 0; c < kOpClasses; ++c) {
    const auto& seq = by_class[c];
    const OpClass cls = static_cast<OpClass>(c);
    if (seq.empty()) continue;
    if (cls == OpClass::kSubscription || seq.size() < 20) {
      // Made once (a second time they would conflict), or too few to repeat: measured in the
      // preload, from the broker's metrics when it has them.
      if (!first.known || pre.class_answered[c] == 0) continue;
      const double handled = first.ClassCount(cls) - empty.ClassCount(cls);
      if (handled <= 0) continue;
      models::ClassCalibration cc;
      cc.share = static_cast<double>(seq.size()) / total;
      cc.service = models::EmpiricalDuration(HistogramDelta(empty, first, cls, "wall"));
      cc.cpu_mean_s = CpuMean(empty, first, cls);
      cc.answer_bytes = static_cast<double>(pre.class_bytes[c]) / static_cast<double>(pre.class_answered[c]);
      for (const auto& [status, count] : pre.class_statuses[c]) {
        cc.statuses.emplace_back(status, static_cast<double>(count) / static_cast<double>(pre.class_answered[c]));
      }
      std::fprintf(stderr, "  %-13s %6.0f in the preload: service mean %.1f µs p99 %.1f µs (handler)\n",
                   std::string(OpClassName(cls)).c_str(), handled, cc.service.Mean() * 1e6, cc.service.Quantile(0.99) * 1e6);
      cal.classes[c] = std::move(cc);
      continue;
    }
    const Snapshot before = first.known ? Read(client) : Snapshot{};
    size_t cursor = 0;
    // Writes and reads may repeat (cyclically); a subscription is made once.
    const uint64_t n = cls == OpClass::kSubscription ? std::min<uint64_t>(o.per_class, seq.size()) : o.per_class;
    const Load l = client.Drive(seq, cursor, 1, 120, n, cls != OpClass::kSubscription);
    const Snapshot after = first.known ? Read(client) : Snapshot{};
    if (l.answered == 0) continue;
    models::ClassCalibration cc;
    cc.share = static_cast<double>(seq.size()) / total;
    cc.response_p50_s = static_cast<double>(l.rt.ValueAtPercentile(50)) * 1e-9;
    cc.response_p99_s = static_cast<double>(l.rt.ValueAtPercentile(99)) * 1e-9;
    cc.answer_bytes = static_cast<double>(l.bytes) / static_cast<double>(l.answered);
    for (const auto& [status, count] : l.statuses) {
      cc.statuses.emplace_back(status, static_cast<double>(count) / static_cast<double>(l.answered));
    }
    if (first.known) {
      const double handled = after.ClassCount(cls) - before.ClassCount(cls);
      if (handled <= 0) continue;
      cc.service = models::EmpiricalDuration(HistogramDelta(before, after, cls, "wall"));
      cc.cpu_mean_s = CpuMean(before, after, cls);
      const double wall_sum = after.Sum(cls, "wall") - before.Sum(cls, "wall");
      // Serving CPU outside handlers (HTTP parsing, writing, the metrics request itself).
      const double serving = after.serving_cpu - before.serving_cpu;
      const double in_handlers = CpuMean(before, after, cls) * handled;
      outside_cpu += std::max(0.0, serving - in_handlers);
      low_requests += static_cast<uint64_t>(handled);
      rt_minus_handler += static_cast<double>(l.rt.Mean()) * 1e-9 * static_cast<double>(l.answered) - wall_sum;
    } else {
      // Black box: response time less the baseline round trip, per request.
      std::vector<double> q;
      for (int i = 1; i <= 100; ++i) {
        q.push_back(std::max(1e-6, static_cast<double>(l.rt.ValueAtPercentile(i)) * 1e-9 - baseline_rt));
      }
      cc.service = models::EmpiricalDuration::FromQuantiles(q);
      cc.cpu_mean_s = cc.service.Mean();
    }
    std::fprintf(stderr, "  %-13s %6llu one at a time: service mean %.1f µs p99 %.1f µs (handler), response p50 %.1f µs\n",
                 std::string(OpClassName(cls)).c_str(), static_cast<unsigned long long>(l.answered),
                 cc.service.Mean() * 1e6, cc.service.Quantile(0.99) * 1e6, cc.response_p50_s * 1e6);
    cal.classes[c] = std::move(cc);
  }
  if (first.known && low_requests > 0) {
    cal.overhead_s = outside_cpu / static_cast<double>(low_requests);
    cal.fixed_delay_s = std::max(0.0, rt_minus_handler / static_cast<double>(low_requests) - cal.overhead_s);
  } else {
    cal.fixed_delay_s = baseline_rt;
  }

  // ---- the sweep -------------------------------------------------------------------------------
  auto step = sim::Duration::Parse(o.step);
  const double step_s = step ? step->seconds() : 3.0;
  double best = 0;
  int worse = 0;
  std::vector<double> ns, xs;
  size_t cursor = 0;
  const Snapshot sweep_start = first.known ? Read(client) : Snapshot{};
  for (int n = 1; n <= o.max_concurrency; n *= 2) {
    const Snapshot before = first.known ? Read(client) : Snapshot{};
    const double cpu0 = embedded ? embedded->CpuSeconds() : 0;
    const auto t0 = Clock::now();
    const Load l = client.Drive(mix, cursor, n, step_s, UINT64_MAX, true, 0.3);
    const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    const Snapshot after = first.known ? Read(client) : Snapshot{};
    models::SweepPoint p;
    p.concurrency = n;
    p.requests = l.answered;
    p.throughput = static_cast<double>(l.answered) / l.seconds;
    p.mean_response_s = l.rt.Mean() * 1e-9;
    p.p99_response_s = static_cast<double>(l.rt.ValueAtPercentile(99)) * 1e-9;
    if (before.known && after.known) {
      p.cpu_utilisation = (after.serving_cpu + after.notifier_cpu - before.serving_cpu - before.notifier_cpu) / elapsed;
      // The utilisation law: serving CPU against the handlers' CPU plus the overhead per request.
      double accounted = 0;
      const double requests = static_cast<double>(after.Requests()) - static_cast<double>(before.Requests());
      for (size_t c = 0; c < kOpClasses; ++c) {
        const OpClass cls = static_cast<OpClass>(c);
        accounted += CpuMean(before, after, cls) * (after.ClassCount(cls) - before.ClassCount(cls));
      }
      accounted += requests * cal.overhead_s;
      const double serving = after.serving_cpu - before.serving_cpu;
      if (serving > 0 && p.throughput > best) cal.cpu_accounted_ratio = accounted / serving;  // at the peak
      if (requests > 0) p.demand_s = serving / requests;
    } else if (embedded) {
      p.cpu_utilisation = (embedded->CpuSeconds() - cpu0) / elapsed;
    }
    std::fprintf(stderr, "  concurrency %4d: %9.0f req/s  mean %8.2f ms  p99 %8.2f ms  broker CPU %.2f\n", n,
                 p.throughput, p.mean_response_s * 1e3, p.p99_response_s * 1e3, p.cpu_utilisation);
    cal.sweep.push_back(p);
    ns.push_back(n);
    xs.push_back(p.throughput);
    if (p.throughput > best * 1.02) {
      best = std::max(best, p.throughput);
      worse = 0;
    } else if (++worse >= 2) {
      break;  // saturated: two steps without a gain
    }
    best = std::max(best, p.throughput);
  }
  cal.capacity_rps = best;
  cal.usl = sim::FitUsl(ns, xs);
  double writes = 0, structural = 0;  // the capture's source writes, and the notifications they would trigger by topic
  const Snapshot end = first.known ? Read(client) : Snapshot{};
  if (first.known && end.known && sweep_start.known) {
    const double changes = static_cast<double>(end.changes) - static_cast<double>(sweep_start.changes);
    const double sent = static_cast<double>(end.sent) - static_cast<double>(first.sent);
    if (changes > 0) cal.fan_out = (static_cast<double>(end.triggered) - static_cast<double>(sweep_start.triggered)) / changes;
    // The structural fan-out of the same writes — one notification per subscription on the
    // write's tenant and type, what the model matches by — against the measured one: the share of
    // those the subscriptions' q, watchedAttributes and throttling let through.
    std::map<std::string, int> subs;
    for (const Captured& c : captured) {
      if (c.cls == OpClass::kSubscription && !c.topic.empty()) ++subs[c.topic];
    }
    writes = 0;
    structural = 0;
    for (const Captured* c : mix) {
      if (c->topic.empty() || (c->cls != OpClass::kUpsert && c->cls != OpClass::kBatchUpsert)) continue;
      writes += 1;
      if (auto it = subs.find(c->topic); it != subs.end()) structural += it->second;
    }
    if (structural > 0) cal.notify_selectivity = std::clamp(cal.fan_out * writes / structural, 0.0, 1.0);
    if (sent > 0) cal.notify_service_s = std::max(0.0, end.notifier_cpu - first.notifier_cpu) / sent;
    if (cal.cpu_accounted_ratio > 0 && std::abs(cal.cpu_accounted_ratio - 1) > 0.05) {
      char buf[400];
      std::snprintf(buf, sizeof buf,
                    "utilisation law: at the sweep's peak the handlers and the low-load overhead per request "
                    "account for %.0f %% of the serving threads' CPU (more than 5 %% off): %s",
                    cal.cpu_accounted_ratio * 100,
                    cal.cpu_accounted_ratio > 1
                        ? "the work outside handlers per request shrinks under load (the thread wakes and writes in "
                          "batches); the open-loop CPU factor carries it into the model"
                        : "there is work on the serving threads beyond the handlers and the low-load overhead, "
                          "growing with load (hidden work: connection handling, timers, logging)");
      cal.warnings.push_back(buf);
    }
  }
  // ---- open loop through citybed's own client: CPU per request and client delay by rate ------
  // The broker's CPU per request falls as the rate rises (its threads wake less often per
  // request); the delay outside the broker (the client's work, waking up) changes too. Both are
  // measured at fractions of the capacity through the emulation path — what the model replaces.
  auto window = sim::Duration::Parse(o.client_window);
  std::vector<double> fractions;
  {
    std::stringstream in(o.open_loop);
    for (std::string item; std::getline(in, item, ',');) fractions.push_back(std::atof(item.c_str()));
  }
  if (window && window->ns() > 0 && cal.capacity_rps > 0) {
    // A fresh broker for every point, as a run meets it: without the subscriptions made before
    // (the calibration's, and the previous point's, which expire only after their run's drain)
    // notifying on every write besides the run's own.
    auto fresh = [&]() -> bool {
      if (!start_embedded()) return false;
      if (auto reparsed = ParseHttpUrl(url)) parsed = std::move(reparsed);
      return true;
    };
    if (!child && !embedded) {
      cal.warnings.push_back("the open-loop points ran against a broker still holding the calibration's subscriptions "
                             "(an external broker is not restarted): their CPU per request includes those notifications");
    }
    // The workload's earlier subscriptions still notify the receiver here: keep it answering.
    // Runs the receiver on a thread of its own until the end of this block, however it ends.
    struct Receiver {
      boost::asio::io_context& io;
      boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard;
      std::thread thread;
      explicit Receiver(boost::asio::io_context& i) : io(i), guard(i.get_executor()), thread([this] { io.run(); }) {}
      ~Receiver() {
        guard.reset();
        io.stop();
        thread.join();
        io.restart();
      }
    };
    std::optional<Receiver> receiver;
    receiver.emplace(io);
    // The capacity through this path: the broker's cores over its CPU per request, re-estimated
    // after every point (the closed-loop peak to start with).
    const double cores = child ? 1.0 : std::max(1.0, std::min<double>(o.threads + 1, std::thread::hardware_concurrency()));
    double capacity = cal.capacity_rps;
    std::vector<double> fan_outs;
    for (double f : fractions) {
      if (f <= 0 || f > 1.5) continue;
      if (!fresh()) return kExitRuntimeError;
      models::Scenario ls = s;
      const double target = f * capacity;
      if (!ScaleToRate(ls, target, *window)) break;
      auto lw = models::World::Build(ls);
      if (!lw) break;
      BrokerPartCollector c;
      c.from = sim::Time() + ls.warmup;
      models::EmulationOptions eo;
      eo.broker_url = url;
      Snapshot before;
      // One metrics read each side: the snapshot carries the threads' CPU too.
      if (first.known) before = ReadBlocking(url);
      const double cpu0 = embedded ? embedded->CpuSeconds() : before.known ? before.cpu() : BrokerCpuSeconds(url);
      const models::EmulationResult r =
          models::RunEmulation(**lw, models::Protocols::ForScenario(ls, parsed->host_header), eo, c);
      Snapshot after;
      if (first.known) after = ReadBlocking(url);
      const double cpu1 = embedded ? embedded->CpuSeconds() : after.known ? after.cpu() : BrokerCpuSeconds(url);
      // Answers per broker second over the measurement window (the run's wall time also holds
      // its set-up and the wait for the last notifications).
      const double window_s = (ls.duration - ls.warmup).seconds() / ls.speed;
      const double achieved = static_cast<double>(c.all.Count()) / window_s;
      const double lag_ms = static_cast<double>(r.executor.lag.ValueAtPercentile(99)) / 1e6;
      std::string why;
      if (!r.valid()) why = r.invalid_reasons.front();
      else if (c.all.Count() < 200) why = "too few answers";
      else if (achieved < 0.9 * target) why = "the broker answered only " + std::to_string(static_cast<int>(achieved)) + " req/s";
      else if (lag_ms > 5) why = "the generator fell behind (p99 lag " + std::to_string(static_cast<int>(lag_ms)) + " ms)";
      if (!why.empty()) {
        char buf[80];
        std::snprintf(buf, sizeof buf, "the open-loop point at %.0f req/s is not counted: ", target);
        cal.warnings.push_back(buf + why);
        std::fprintf(stderr, "  open loop %5.0f req/s: not counted (%s)\n", target, why.c_str());
        break;  // beyond what this path sustains: higher rates would not be either
      }
      models::RatePoint p;
      p.rate = achieved;
      const bool metrics = before.known && after.known;
      const double requests = metrics ? static_cast<double>(after.Requests()) - static_cast<double>(before.Requests())
                                          : static_cast<double>(r.completed);
      p.cpu_per_request = cpu0 >= 0 && cpu1 >= 0 && requests > 0 ? (cpu1 - cpu0) / requests : 0;
      // What the model's demands (handler means, overhead, notifications) say these requests cost.
      double modelled = 0;
      if (metrics) {
        for (size_t k = 0; k < kOpClasses; ++k) {
          const auto cls = static_cast<OpClass>(k);
          const double n = after.ClassCount(cls) - before.ClassCount(cls);
          const models::ClassCalibration* cc = cal.of(cls);
          modelled += n * ((cc != nullptr ? cc->service.Mean() : 0) + cal.overhead_s);
        }
        modelled += std::max(0.0, static_cast<double>(after.sent) - static_cast<double>(before.sent)) * cal.notify_service_s;
      }
      p.cpu_factor = modelled > 0 && p.cpu_per_request > 0 ? p.cpu_per_request * requests / modelled : 1.0;
      // The delay outside the broker: the broker's part less the M/G/1 sojourn at this load (mean
      // service the measured CPU per request, its variability the mix's).
      // (Allen–Cunneen over the servers the model will have.)
      const double sbar = p.cpu_per_request > 0 ? p.cpu_per_request : cal.MeanDemand();
      const int servers = cal.Servers();
      const double rate = std::min(p.rate, 0.95 * servers / sbar);
      const double wait = sim::AllenCunneenWait(servers, rate, sbar, 1.0, cal.MixSquaredCv());
      auto delay = [](const sim::LatencyHistogram& h, double sojourn) {
        std::vector<double> q;
        for (int i = 0; i < 200; ++i) {
          q.push_back(std::max(1e-6, static_cast<double>(h.ValueAtPercentile((i + 0.5) / 2)) * 1e-9 - sojourn));
        }
        return models::EmpiricalDuration::FromQuantiles(q);
      };
      p.client_delay = delay(c.all, sbar + wait);
      // Per class: the answer's size and the client's work differ (a query's page of entities).
      const std::pair<models::OpKind, std::vector<OpClass>> kinds[] = {
          {models::OpKind::kUpsert, {OpClass::kUpsert, OpClass::kBatchUpsert}},
          {models::OpKind::kGet, {OpClass::kGet}},
          {models::OpKind::kQuery, {OpClass::kQuery}},
          {models::OpKind::kGeoQuery, {OpClass::kGeoQuery}}};
      for (const auto& [kind, classes] : kinds) {
        const sim::LatencyHistogram& h = c.broker[static_cast<size_t>(kind)];
        if (h.Count() < 100) continue;
        for (OpClass cls : classes) {
          const models::ClassCalibration* cc = cal.of(cls);
          if (cc == nullptr) continue;
          const double service = (cc->service.Mean() + cal.overhead_s) * p.cpu_factor;
          p.client_delay_by_class[static_cast<size_t>(cls)] = delay(h, service + wait);
        }
      }
      std::fprintf(stderr, "  open loop %5.0f req/s: broker CPU %.1f µs per request (×%.2f the model's demands), "
                   "client delay mean %.1f µs p99 %.1f µs\n", p.rate, p.cpu_per_request * 1e6, p.cpu_factor,
                   p.client_delay.Mean() * 1e6, p.client_delay.Quantile(0.99) * 1e6);
      if (p.cpu_per_request > 0) capacity = std::min(cal.capacity_rps, cores / p.cpu_per_request);
      if (metrics && after.changes > before.changes && after.triggered >= before.triggered) {
        fan_outs.push_back(static_cast<double>(after.triggered - before.triggered) /
                           static_cast<double>(after.changes - before.changes));
      }
      cal.open_loop.push_back(std::move(p));
    }
    if (!cal.open_loop.empty()) cal.open_loop_capacity_rps = capacity;
    // The selectivity as a run meets it (the closed loop above rewrote the same entities): the
    // median fan-out per change of the open-loop points over the structural one.
    if (!fan_outs.empty() && structural > 0) {
      std::sort(fan_outs.begin(), fan_outs.end());
      cal.fan_out = fan_outs[fan_outs.size() / 2];
      cal.notify_selectivity = std::clamp(cal.fan_out * writes / structural, 0.0, 1.0);
    }
    receiver.reset();
    if (!cal.open_loop.empty()) {
      cal.client_delay = cal.open_loop.front().client_delay;
      cal.fixed_delay_s = cal.client_delay.Mean();
    }
  }
  if (embedded) {
    cal.warnings.push_back("the embedded broker ran in this process, sharing the machine's cores with the load "
                           "generator (--in-process)");
  }
  if (child) cal.isolation = "the broker in its own process on CPU 0, citybed on the other CPUs";
  cal.broker_cores = child ? 1 : static_cast<int>(std::thread::hardware_concurrency());
  listener.Close();
  if (embedded) embedded->Stop();
  child.reset();

  const std::string out = cal.ToJson().dump(2) + "\n";
  if (auto ok = WriteFileAtomic(o.out, out); !ok) {
    std::fprintf(stderr, "citybed calibrate: cannot write %s: %s\n", o.out.c_str(), ok.error().message.c_str());
    return kExitRuntimeError;
  }
  std::printf("calibration of %s (%d thread%s, %llu entities, %s): capacity %.0f req/s through the open-loop client (closed-loop peak %.0f); USL gamma "
              "%.0f ± %.0f, alpha %.3f ± %.3f, beta %.5f ± %.5f (R² %.3f); overhead %.1f µs, fixed delay %.1f µs per "
              "request\n",
              cal.broker.c_str(), cal.threads, cal.threads == 1 ? "" : "s", static_cast<unsigned long long>(cal.entities),
              cal.confidence.c_str(), cal.Capacity(), cal.capacity_rps, cal.usl.gamma, cal.usl.gamma_ci, cal.usl.alpha,
              cal.usl.alpha_ci, cal.usl.beta, cal.usl.beta_ci, cal.usl.r2, cal.overhead_s * 1e6, cal.fixed_delay_s * 1e6);
  for (const std::string& w : cal.warnings) std::printf("  warning: %s\n", w.c_str());
  std::printf("written: %s (sha256 %s)\n", o.out.c_str(), Sha256Hex(out).c_str());
  return kExitOk;
}

}  // namespace

void RegisterCalibrate(CLI::App& app, Action& action) {
  auto o = std::make_shared<CalibrateOptions>();
  CLI::App* cmd = app.add_subcommand("calibrate", "Measure a broker for model mode; writes calibration.json (docs/capacity.md)");
  cmd->add_option("--broker", o->broker, "\"embedded\" (started here) or the URL of a running broker")->capture_default_str();
  cmd->add_option("--scenario", o->scenario, "The scenario whose workload (mix, entities, subscriptions) to measure with")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "The embedded broker's serving threads (for a URL: what it runs with)")
      ->check(Between(1, 256))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "The scenario's seed (default: the file's)");
  cmd->add_option("--per-class", o->per_class, "Requests per class at low load, at most")->check(Between(20, 1e6))->capture_default_str();
  cmd->add_option("--step", o->step, "Length of each step of the concurrency sweep")->capture_default_str();
  cmd->add_option("--max-concurrency", o->max_concurrency, "The sweep's last concurrency (doubling from 1)")
      ->check(Between(1, 4096))
      ->capture_default_str();
  cmd->add_option("--out", o->out, "Where to write the calibration")->capture_default_str();
  cmd->add_flag("--force", o->force, "Overwrite --out if it exists");
  cmd->add_option("--open-loop", o->open_loop,
                  "Fractions of the capacity at which the emulation path measures CPU per request and client delay")
      ->capture_default_str();
  cmd->add_option("--window", o->client_window, "Wall time of each open-loop point (0s: skip them)")->capture_default_str();
  cmd->add_flag("--in-process", o->in_process,
                "Run the embedded broker in this process, sharing the cores with the load generator (default: a child "
                "process on CPU 0)");
  cmd->callback([o, &action] { action = [o] { return Calibrate(*o); }; });
}

}  // namespace citybed::app
