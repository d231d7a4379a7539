#include "citybed/models/model_port.h"

#include <algorithm>
#include <cmath>

#include "citybed/models/placement.h"
#include "citybed/models/sources.h"
#include "citybed/models/workload.h"
#include "citybed/sim/network.h"

namespace citybed::models {

namespace {

constexpr double kNotificationBytes = 700;  // a one-entity notification, nominally

}  // namespace

ModelBrokerPort::ModelBrokerPort(sim::Engine& engine, const Calibration& calibration, World& world, int instances,
                                 const sim::RngStreams& streams, double speed, Placement placement)
    : engine_(engine),
      cal_(calibration),
      world_(world),
      service_rng_(streams.Stream("model/service")),
      status_rng_(streams.Stream("model/status")),
      notify_rng_(streams.Stream("model/notification-downlink")),
      select_rng_(streams.Stream("model/notification-selectivity")),
      delay_rng_(streams.Stream("model/client-delay")),
      speed_(speed > 0 ? speed : 1.0),
      fixed_(sim::Duration::Seconds(calibration.fixed_delay_s * speed_)),
      connections_(std::max(1, world.scenario().broker.connections)) {
  scale_.resize(4097);
  for (size_t n = 1; n < scale_.size(); ++n) scale_[n] = calibration.DemandScale(static_cast<double>(n));
  scale_[0] = scale_[1];
  instance_of_ = PlaceRegions(world, instances, placement);
  for (int i = 0; i < std::max(1, instances); ++i) {
    stations_.push_back(std::make_unique<sim::FifoStation>(engine_, std::max(1, calibration.Servers())));
    pools_.emplace_back();
    notifiers_.push_back(std::make_unique<sim::FifoStation>(engine_, 1));
  }
  // Requests of a class the calibration lacks: served as the class with the largest share.
  double best = -1;
  for (const auto& c : cal_.classes) {
    if (c && c->share > best) {
      best = c->share;
      fallback_ = &*c;
    }
  }
}

const ClassCalibration& ModelBrokerPort::Resolve(OpClass cls) {
  if (const ClassCalibration* c = cal_.of(cls)) return *c;
  ++stats_.uncalibrated;
  return *fallback_;
}

void ModelBrokerPort::Submit(uint32_t slot, int, std::string&& wire, sim::Duration budget) {
  const OpClass cls = ClassifyWire(wire);
  wire.clear();
  if (pending_.size() <= slot) pending_.resize(slot + 1);
  Pending& p = pending_[slot];
  p.submitted = engine_.Now();
  p.cls = cls;
  p.live = true;
  p.generation = ++generation_;
  p.at_broker = false;
  // The client gives up a request still waiting for a connection at its deadline (as the HTTP
  // client does); one already at the broker times out at the driver when its answer is late.
  p.deadline = budget >= sim::Duration::Max() - (engine_.Now() - sim::Time()) ? sim::Time::Max() : engine_.Now() + budget;
  const WorkloadRequest* req = client_->RequestOf(slot);
  p.instance = req != nullptr && static_cast<size_t>(req->about) < instance_of_.size()
                   ? static_cast<uint32_t>(instance_of_[static_cast<size_t>(req->about)])
                   : 0;
  ++outstanding_;
  Pool& pool = pools_[p.instance];
  // The request rate at this instance, per broker (wall) second: an exponentially weighted
  // moving average over about one second.
  {
    const double dt = (engine_.Now() - pool.last_arrival).seconds() / speed_;
    pool.rate = pool.rate * std::exp(-dt) + 1.0;
    pool.last_arrival = engine_.Now();
  }
  if (pool.in_use < connections_) {
    ++pool.in_use;
    Start(slot);
  } else {
    pool.waiting.push_back({slot, p.generation});  // waits for a free connection, as the HTTP client does
  }
}

void ModelBrokerPort::Start(uint32_t slot) {
  Pending& p = pending_[slot];
  p.started = engine_.Now();
  p.at_broker = true;
  sim::FifoStation& station = *stations_[p.instance];
  const ClassCalibration& c = Resolve(p.cls);
  // The load-dependent server: with open-loop points, the broker's CPU per request at the current
  // request rate; without, the sweep's demand at n requests in the broker.
  double scale;
  if (!cal_.open_loop.empty()) {
    scale = cal_.CpuFactor(pools_[p.instance].rate);
  } else {
    const size_t in_system = static_cast<size_t>(station.busy()) + station.queued() + 1;
    scale = scale_[std::min(in_system, scale_.size() - 1)];
  }
  const double service = (c.service.Sample(service_rng_) + cal_.overhead_s) * scale * speed_;
  const uint64_t generation = p.generation;
  const uint32_t instance = p.instance;
  station.Submit(sim::Duration::Seconds(service), [this, slot, generation, instance](const sim::FifoStation::Outcome&) {
    Complete(slot, generation, instance, engine_.Now());
  });
}

void ModelBrokerPort::Release(uint32_t instance) {
  Pool& pool = pools_[instance];
  while (!pool.waiting.empty()) {
    const auto [slot, generation] = pool.waiting.front();
    pool.waiting.pop_front();
    Pending& p = pending_[slot];
    if (!p.live || p.generation != generation) continue;  // cancelled while waiting
    if (engine_.Now() >= p.deadline) {
      // Given up while waiting: never sent.
      p.live = false;
      --outstanding_;
      PortOutcome o;
      o.error = "timeout";
      o.answered = engine_.Now();
      o.broker = (o.answered - p.submitted) / speed_;
      o.waited = o.broker;
      client_->OnPortDone(slot, o);
      continue;
    }
    Start(slot);
    return;
  }
  --pool.in_use;
}

void ModelBrokerPort::Complete(uint32_t slot, uint64_t generation, uint32_t instance, sim::Time departed) {
  Pending& p = pending_[slot];
  if (!p.live || p.generation != generation) {  // cancelled: its connection is free again
    Release(instance);
    return;
  }
  const ClassCalibration& c = *(cal_.of(p.cls) != nullptr ? cal_.of(p.cls) : fallback_);
  PortOutcome o;
  o.sent = true;
  o.status = c.StatusFor(status_rng_.Uniform01());
  o.answer_bytes = static_cast<uint64_t>(std::llround(c.answer_bytes));
  const EmpiricalDuration& delay = cal_.ClientDelay(pools_[instance].rate, p.cls);
  o.answered = departed + (delay.empty() ? fixed_ : sim::Duration::Seconds(delay.Sample(delay_rng_) * speed_));
  o.broker = (o.answered - p.submitted) / speed_;  // the broker's part in its own (wall) time, as emulation measures it
  ++stats_.served[static_cast<size_t>(p.cls)];
  const WorkloadRequest* req = client_->RequestOf(slot);
  const bool ok = o.status >= 200 && o.status < 300;
  if (req != nullptr && ok) {
    if (p.cls == OpClass::kSubscription && req->op == OpKind::kSubscribe && req->spec != nullptr) {
      const RegionRuntime& about = world_.regions()[static_cast<size_t>(req->about)];
      // Kept by the instance that holds it: a write notifies the subscriptions of its own instance.
      subscriptions_[std::to_string(instance) + '\n' + about.tenant + '\n' + req->spec->entity_type].push_back(req->region);
    } else if ((p.cls == OpClass::kUpsert || p.cls == OpClass::kBatchUpsert) && req->group >= 0 && notify_) {
      Notify(static_cast<int>(instance), *req, p.submitted);
    }
  }
  // The answer reaches citybed after the fixed delay: complete then, unless cancelled meanwhile.
  o.waited = (p.started - p.submitted) / speed_;
  engine_.ScheduleAt(o.answered, [this, slot, generation, instance, o]() mutable {
    Pending& q = pending_[slot];
    if (q.live && q.generation == generation) {
      q.live = false;
      --outstanding_;
      client_->OnPortDone(slot, o);
    }
    Release(instance);  // the connection is free once the answer is back
  });
}

void ModelBrokerPort::Notify(int instance, const WorkloadRequest& write, sim::Time reached) {
  const SourceGroup& g = world_.sources()[static_cast<size_t>(write.group)];
  const RegionRuntime& region = world_.regions()[static_cast<size_t>(g.region)];
  auto it = subscriptions_.find(std::to_string(instance) + '\n' + region.tenant + '\n' + std::string(g.model->entity_type()));
  if (it == subscriptions_.end()) return;
  const sim::Time observed =
      sim::Time::FromNs((write.observed_us - world_.scenario().start_unix_us) * 1000);
  // The notifier is a thread of the broker: on its own core when the broker has a spare one, else
  // sharing the serving threads' (a broker pinned to one CPU).
  const size_t at = static_cast<size_t>(instance) % notifiers_.size();
  const bool shared = cal_.broker_cores > 0 && cal_.broker_cores <= cal_.threads;
  sim::FifoStation& notifier = shared ? *stations_[at] : *notifiers_[at];
  const double notify_s =
      cal_.notify_service_s * speed_ * (cal_.open_loop.empty() ? 1.0 : cal_.CpuFactor(pools_[at].rate));
  for (int subscriber : it->second) {
    if (cal_.notify_selectivity < 1 && select_rng_.Uniform01() >= cal_.notify_selectivity) continue;
    notifier.Submit(sim::Duration::Seconds(notify_s), [this, subscriber, observed, reached](const sim::FifoStation::Outcome&) {
      const RegionRuntime& sub = world_.regions()[static_cast<size_t>(subscriber)];
      const sim::Delivery down = sim::Network::Deliver(sub.path, static_cast<uint64_t>(kNotificationBytes),
                                                       world_.scenario().network.retransmit, notify_rng_);
      ++stats_.notifications;
      if (!down.delivered) {
        ++stats_.notifications_lost;
        return;
      }
      NotificationRecord n;
      n.region = subscriber;
      n.arrival = engine_.Now() + fixed_ + down.delay;
      // As emulation measures it: the write's uplink and the notification's downlink in simulated
      // time, the broker's part (from the write reaching it to the notification leaving it) in
      // the broker's own (wall) time — service and delays here run `speed` times as long.
      n.freshness = (reached - observed) + (engine_.Now() + fixed_ - reached) / speed_ + down.delay;
      notify_(n);
    });
  }
}

void ModelBrokerPort::CancelAll() {
  for (uint32_t slot = 0; slot < pending_.size(); ++slot) {
    Pending& p = pending_[slot];
    if (!p.live) continue;
    p.live = false;
    --outstanding_;
    PortOutcome o;
    o.error = "cancelled";
    o.sent = p.at_broker;  // one still waiting for a connection was never sent
    o.answered = engine_.Now();
    o.broker = (o.answered - p.submitted) / speed_;
    client_->OnPortDone(slot, o);
  }
}

double ModelBrokerPort::BusySeconds() const {
  double b = 0;
  for (const auto& s : stations_) b += s->BusySeconds();
  for (const auto& s : notifiers_) b += s->BusySeconds();
  return b;
}

double ModelBrokerPort::Utilization() const {
  double u = 0;
  for (const auto& s : stations_) u += s->Utilization();
  return stations_.empty() ? 0 : u / static_cast<double>(stations_.size());
}

}  // namespace citybed::models
