#include "citybed/models/model_run.h"

#include <chrono>

#include "citybed/models/driver.h"
#include "citybed/models/sources.h"
#include "citybed/models/workload.h"
#include "citybed/sim/engine.h"

namespace citybed::models {

namespace {

// Counts what the run needs and forwards everything.
class Counting final : public RunObserver {
 public:
  explicit Counting(RunObserver& next) : next_(next) {}
  void OnRequest(const RequestRecord& r) override {
    if (r.op == OpKind::kSubscribe && !r.ok()) ++subscriptions_failed;
    next_.OnRequest(r);
  }
  void OnNotification(const NotificationRecord& n) override { next_.OnNotification(n); }
  void OnResources(const ResourceSample& s) override { next_.OnResources(s); }
  void OnInterop(const InteropRecord& r) override { next_.OnInterop(r); }
  uint64_t subscriptions_failed = 0;

 private:
  RunObserver& next_;
};

}  // namespace

EmulationResult RunModel(World& world, Protocols protocols, const ModelOptions& options, RunObserver& observer,
                         ModelRunExtra* extra) {
  using Clock = std::chrono::steady_clock;
  const auto wall_start = Clock::now();
  EmulationResult result;
  const Scenario& s = world.scenario();
  if (options.calibration == nullptr) {
    result.invalid_reasons.push_back("model mode needs a calibration");
    return result;
  }
  if (world.federation() != nullptr) {
    result.invalid_reasons.push_back("model mode serves one broker (or --instances of it); a federation scenario needs emulation");
    return result;
  }
  result.broker_version = "model of " + options.calibration->broker_version;
  sim::Engine engine;
  const sim::RngStreams streams(s.seed, options.replication);
  ModelBrokerPort port(engine, *options.calibration, world, options.instances, streams, s.speed, options.placement);
  Counting counting(observer);
  RequestDriver driver(world, engine, port, counting, s.broker.timeout);
  driver.MeasureContent(false);
  uint64_t notifications = 0;
  port.OnNotification([&](const NotificationRecord& n) {
    ++notifications;
    counting.OnNotification(n);
  });
  WorkloadOptions wo;
  wo.notification_url = "http://model.invalid/notify";
  std::vector<std::string> own;
  for (const SourceModel* m : SourceModels()) {
    if (m->own_type()) own.emplace_back(m->entity_type());
  }
  protocols.UseOwnContext("http://model.invalid" + std::string(kOwnContextPath), own);
  const sim::Time end = sim::Time() + s.duration;
  Workload workload(world, protocols, engine, driver, wo);
  driver.SetWorkload(&workload);
  workload.Start(end);

  // Once per simulated second: the model's busy server-seconds (its "CPU") and progress.
  bool interrupted = false;
  double last_busy = 0;
  auto last_progress = Clock::now();
  std::function<void()> tick = [&] {
    ResourceSample r;
    r.at = engine.Now();
    r.wall_seconds = 1.0;  // a simulated second: model mode's utilisation is per simulated second
    const double busy = port.BusySeconds();
    r.broker_cpu_seconds = busy - last_busy;
    last_busy = busy;
    counting.OnResources(r);
    const auto now = Clock::now();
    if (now - last_progress >= std::chrono::seconds(1)) {
      last_progress = now;
      if (options.interrupt != nullptr && options.interrupt->load()) {
        interrupted = true;
        engine.Stop();
        return;
      }
      if (options.on_progress) {
        EmulationProgress p;
        p.now = engine.Now();
        p.duration = s.duration;
        p.wall_seconds = std::chrono::duration<double>(now - wall_start).count();
        p.sent = driver.stats().dispatched;
        p.completed = driver.stats().ok;
        p.failed = driver.stats().failed;
        p.outstanding = driver.stats().outstanding;
        options.on_progress(p);
      }
    }
    if (engine.Now() + sim::Duration::Seconds(1) < end) engine.ScheduleIn(sim::Duration::Seconds(1), tick);
  };
  engine.ScheduleIn(sim::Duration::Seconds(1), tick);
  engine.RunUntil(end);
  result.reached_end = !interrupted;
  result.interrupted = interrupted;
  result.end = engine.Now();
  // Drain: what is in flight finishes (each by its timeout at the latest).
  if (!interrupted) {
    const sim::Time bound = end + s.broker.timeout + sim::Duration::Seconds(1);
    while (!driver.idle() && engine.Now() < bound && !engine.Empty()) {
      if (!engine.Step()) break;
      if (engine.Now() > bound) break;
    }
  }
  result.drain_end = engine.Now();
  driver.SetWorkload(nullptr);
  driver.CancelAll();
  const DriverStats& d = driver.stats();
  result.skipped = workload.skipped();
  result.subscriptions = workload.subscriptions();
  result.subscriptions_failed = counting.subscriptions_failed;
  result.emitted = d.emitted;
  result.dispatched = d.dispatched;
  result.sent = d.sent;
  result.completed = d.ok;
  result.failed = d.failed;
  result.network_failures = d.network_failures;
  result.timeouts = d.timeouts;
  result.cancelled = d.cancelled;
  result.max_outstanding = d.max_outstanding;
  result.pool_wait = d.waited;
  result.notifications = notifications;
  result.notified_entities = notifications;
  result.notifications_lost = port.stats().notifications_lost;
  result.broker_notifications.known = true;
  result.broker_notifications.triggered = port.stats().notifications;
  result.broker_notifications.sent = port.stats().notifications;
  result.wall_seconds = std::chrono::duration<double>(Clock::now() - wall_start).count();
  if (interrupted) result.invalid_reasons.push_back("the run was interrupted before its end (partial results)");
  if (extra != nullptr) {
    extra->port = port.stats();
    extra->utilisation = port.Utilization();
    extra->busy_seconds = port.BusySeconds();
    extra->events = engine.Executed();
  }
  return result;
}

}  // namespace citybed::models
