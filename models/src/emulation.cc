#include "citybed/models/emulation.h"

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>

#include "citybed/common/log.h"
#include "citybed/common/strings.h"
#include "citybed/models/arrivals.h"
#include "citybed/sim/engine.h"
#include "citybed/sim/http_listener.h"
#include "citybed/sim/network.h"

namespace citybed::models {

namespace {

using Clock = std::chrono::steady_clock;

// The NGSI-LD error type named in a problem+json body, e.g. "BadRequestData".
std::string_view ProblemType(std::string_view body) {
  const size_t at = body.find("/errors/");
  if (at == std::string_view::npos) return {};
  const size_t start = at + 8;
  const size_t end = body.find('"', start);
  return end == std::string_view::npos ? std::string_view() : body.substr(start, end - start);
}

class Emulation {
 public:
  Emulation(World& world, BrokerProtocol& protocol, const EmulationOptions& options, RunObserver& observer,
            const std::string& host, const std::string& port)
      : world_(world),
        scenario_(world.scenario()),
        protocol_(protocol),
        options_(options),
        observer_(observer),
        executor_(engine_, io_,
                  {scenario_.speed, scenario_.generator.lag_bound, scenario_.generator.lag_percentile}),
        pool_(io_, {.host = host,
                    .port = port,
                    .connections = scenario_.broker.connections,
                    .timeout = std::chrono::milliseconds(scenario_.broker.timeout.ns() / 1000000),
                    .max_queue = 1 << 22,
                    .keep_body = true}),
        listener_(io_, [this](std::string_view method, std::string_view target, std::string_view body) {
          return OnNotification(method, target, body);
        }),
        uplink_rng_(sim::RngStreams(scenario_.seed).Stream("network/uplink")),
        downlink_rng_(sim::RngStreams(scenario_.seed).Stream("network/downlink")) {}

  EmulationResult Run() {
    const auto wall_start = Clock::now();
    if (auto ok = listener_.Listen(options_.listen_host, 0); !ok) {
      result_.invalid_reasons.push_back("cannot receive notifications: " + ok.error().message);
      return result_;
    }
    const std::string base = "http://" + options_.listen_host + ":" + std::to_string(listener_.port());
    {
      const auto unix_now = std::chrono::system_clock::now().time_since_epoch();
      const double now_s = std::chrono::duration<double>(unix_now).count();
      char tag[24];
      std::snprintf(tag, sizeof tag, "%012llx",
                    static_cast<unsigned long long>(sim::Mix64(static_cast<uint64_t>(unix_now.count()) ^ listener_.port()) >> 16));
      run_tag_ = tag;
      // The run's wall-clock end, plus its drain bound and a second.
      subscriptions_expire_ = FormatRfc3339(now_s + (scenario_.duration.seconds() + 1) / scenario_.speed +
                                            scenario_.broker.timeout.seconds() + 1);
    }
    result_.notification_url = base + "/notify";
    std::vector<std::string> own;
    for (const SourceModel* m : SourceModels()) {
      if (m->own_type()) own.emplace_back(m->entity_type());
    }
    protocol_.UseOwnContext(base + std::string(kOwnContextPath), own);
    if (!CheckBroker()) return Finish(wall_start);
    pool_.Warm();
    end_ = sim::Time() + scenario_.duration;
    ScheduleSources();
    ScheduleUsers();
    ScheduleCrowds();
    ScheduleProgress();
    result_.executor = executor_.RunUntil(end_);
    result_.reached_end = !result_.executor.stopped && !stop_reason_set_;
    result_.end = engine_.Now();
    Drain();
    return Finish(wall_start);
  }

 private:
  struct InFlight {
    OpKind op = OpKind::kUpsert;
    int region = 0;
    int domain = -1;
    sim::Time intended;
    sim::Time sent;
    sim::Duration uplink;
    uint64_t bytes = 0;
    std::string wire;
    uint32_t next_free = UINT32_MAX;
    const RequestSpec* paging = nullptr;  // a paged query: its spec, page and region asked about
    int page = 0;
    int about = 0;
  };

  // ---- readiness ---------------------------------------------------------------------------

  bool CheckBroker() {
    bool done = false;
    sim::HttpOutcome answer;
    struct Ctx {
      bool* done;
      sim::HttpOutcome* answer;
    } ctx{&done, &answer};
    pool_.Send(protocol_.Version(), {[](void* c, uint64_t, sim::HttpOutcome& o) {
                                       auto* x = static_cast<Ctx*>(c);
                                       *x->answer = std::move(o);
                                       *x->done = true;
                                     },
                                     &ctx, 0});
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!done && Clock::now() < deadline) io_.run_one_for(std::chrono::milliseconds(100));
    if (!done || !answer.ok()) {
      result_.broker_lost = true;
      result_.invalid_reasons.push_back("the broker at " + options_.broker_url + " does not answer GET /version: " +
                                        (!done ? std::string("no answer within 10 s")
                                               : answer.error.empty() ? "HTTP " + std::to_string(answer.status) : answer.error));
      return false;
    }
    result_.broker_version = answer.body;
    return true;
  }

  // ---- sources -----------------------------------------------------------------------------

  void ScheduleSources() {
    auto& groups = world_.sources();
    const double hour0 = world_.HourAt(0);
    for (uint32_t g = 0; g < groups.size(); ++g) {
      for (uint32_t i = 0; i < groups[g].count; ++i) {
        sim::Rng rng = World::ReportRng(groups[g], i, 0xFFFFFFFEu);
        const sim::Duration first = FirstOffset(groups[g].spec->arrival, rng, hour0, groups[g].scale(),
                                                groups[g].model->reports_at_event_start());
        if (sim::Time() + first >= end_) continue;
        engine_.ScheduleIn(first, [this, g, i] { OnReport(g, i); });
      }
    }
  }

  void OnReport(uint32_t g, uint32_t i) {
    SourceGroup& group = world_.sources()[g];
    const sim::Time now = engine_.Now();
    const uint32_t k = group.reports[i]++;
    sim::Rng rng = World::ReportRng(group, i, k);
    const SourceContext ctx = world_.Context(group, i, now.ns());
    EntityUpdate update;
    update.id = EntityId(*group.model, ctx.region, i);
    update.type = group.model->entity_type();
    update.observed_us = ctx.unix_us;
    update.attrs.reserve(8);
    group.model->Report(ctx, group.StateOf(i), rng, update);
    const RegionRuntime& region = world_.regions()[static_cast<size_t>(group.region)];
    Send(OpKind::kUpsert, group.region, DomainIndex(group.model->domain()), protocol_.Write(update, region.tenant));
    const sim::Duration gap =
        NextGap(group.spec->arrival, rng, now.ns(), ctx.hour, group.scale(), group.model->reports_at_event_start());
    if (now + gap < end_) engine_.ScheduleIn(gap, [this, g, i] { OnReport(g, i); });
  }

  // ---- users -------------------------------------------------------------------------------

  void ScheduleUsers() {
    auto& users = world_.users();
    const double hour0 = world_.HourAt(0);
    // Subscriptions first, during the first second (or the warm-up, if shorter).
    const double window = std::max(1e-3, std::min(1.0, scenario_.warmup.seconds() > 0 ? scenario_.warmup.seconds() : 1.0));
    for (uint32_t u = 0; u < users.size(); ++u) {
      const UserGroup& group = users[u];
      for (uint32_t m = 0; m < group.count; ++m) {
        sim::Rng rng(sim::Mix64(group.key ^ sim::Mix64((uint64_t{m} << 32) | 0xFFFFFFFFu)));
        for (uint32_t r = 0; r < group.spec->requests.size(); ++r) {
          if (group.spec->requests[r].op != RequestSpec::Op::kSubscribe) continue;
          engine_.ScheduleIn(sim::Duration::Seconds(rng.Uniform01() * window), [this, u, m, r] { Subscribe(u, m, r); });
        }
        if (group.mix.size() == 0) continue;
        const sim::Duration first = FirstOffset(group.spec->arrival, rng, hour0);
        if (sim::Time() + first < end_) engine_.ScheduleIn(first, [this, u, m] { OnUserAction(u, m, 0); });
      }
    }
  }

  void Subscribe(uint32_t u, uint32_t m, uint32_t r) {
    const UserGroup& group = world_.users()[u];
    sim::Rng rng(sim::Mix64(group.key ^ sim::Mix64((uint64_t{m} << 32) | (0xFFFF0000u + r))));
    Act(group.region, group.spec->requests[r], rng);
  }

  void OnUserAction(uint32_t u, uint32_t m, uint32_t action) {
    UserGroup& group = world_.users()[u];
    const sim::Time now = engine_.Now();
    sim::Rng rng(sim::Mix64(group.key ^ sim::Mix64((uint64_t{m} << 32) | action)));
    const RequestSpec& req = group.spec->requests[group.mix(rng)];
    Act(group.region, req, rng);
    const sim::Duration gap = NextGap(group.spec->arrival, rng, now.ns(), world_.HourAt(now.ns()));
    if (now + gap < end_) engine_.ScheduleIn(gap, [this, u, m, action] { OnUserAction(u, m, action + 1); });
  }

  // One request of a user in `region` (or, for cross-region requests, about another region).
  void Act(int region, const RequestSpec& req, sim::Rng& rng) {
    const int target = req.cross_region ? world_.TargetRegion(region, rng) : region;
    const RegionRuntime& about = world_.regions()[static_cast<size_t>(target)];
    switch (req.op) {
      case RequestSpec::Op::kGet: {
        // A thing that has reported at least once (so it exists in the broker).
        const auto& groups = world_.GroupsOfType(target, req.entity_type);
        bool sent = false;
        for (int attempt = 0; attempt < 8 && !groups.empty() && !sent; ++attempt) {
          const SourceGroup& sg = world_.sources()[static_cast<size_t>(groups[rng.Below(groups.size())])];
          const uint32_t i = static_cast<uint32_t>(rng.Below(sg.count));
          if (sg.reports[i] == 0) continue;
          Send(OpKind::kGet, region, -1, protocol_.Get(EntityId(*sg.model, about.spec->id, i), about.tenant));
          sent = true;
        }
        if (!sent) ++result_.skipped;
        break;
      }
      case RequestSpec::Op::kQuery: {
        const uint32_t slot = Send(OpKind::kQuery, region, -1,
                                   protocol_.Query(req.entity_type, req.q, req.limit, 0, req.count || req.pages > 1, about.tenant));
        if (slot != UINT32_MAX && req.pages > 1) {
          inflight_[slot].paging = &req;
          inflight_[slot].page = 0;
          inflight_[slot].about = target;
        }
        break;
      }
      case RequestSpec::Op::kGeoQuery:
        Send(OpKind::kGeoQuery, region, -1,
             protocol_.GeoQuery(req.entity_type, world_.RandomPlace(target, rng), req.max_distance_m, req.limit, about.tenant));
        break;
      case RequestSpec::Op::kSubscribe: {
        SubscriptionRequest sub;
        // Unique to this run, so that runs one after the other against the same broker do not
        // collide; and expiring soon after the run, so that a broker does not keep notifying a
        // receiver that is gone.
        sub.id = "urn:ngsi-ld:Subscription:citybed:" + run_tag_ + ":" + world_.regions()[static_cast<size_t>(region)].spec->id +
                 ":" + std::to_string(next_subscription_++);
        sub.expires_at = subscriptions_expire_;
        sub.type = req.entity_type;
        sub.watched = &req.watched;
        sub.q = req.q;
        sub.endpoint = result_.notification_url + "/" + world_.regions()[static_cast<size_t>(region)].spec->id;
        ++result_.subscriptions;
        Send(OpKind::kSubscribe, region, -1, protocol_.Subscribe(sub, about.tenant));
        break;
      }
      default:
        break;
    }
  }

  // The next page of an analyst's query, sent when the previous one answered.
  void NextPage(const InFlight& f, const sim::HttpOutcome& o) {
    if (f.paging == nullptr || !o.ok()) return;
    const RequestSpec& req = *f.paging;
    const int page = f.page + 1;
    const long long total = o.results_count.empty() ? -1 : std::atoll(o.results_count.c_str());
    if (page >= req.pages || (total >= 0 && static_cast<long long>(page) * req.limit >= total)) return;
    const int region = f.region, about = f.about;
    executor_.Inject([this, &req, page, region, about] {
      if (engine_.Now() >= end_) return;
      const RegionRuntime& rt = world_.regions()[static_cast<size_t>(about)];
      const uint32_t slot = Send(OpKind::kQuery, region, -1,
                                 protocol_.Query(req.entity_type, req.q, req.limit, page * req.limit, true, rt.tenant));
      if (slot != UINT32_MAX) {
        inflight_[slot].paging = &req;
        inflight_[slot].page = page;
        inflight_[slot].about = about;
      }
    });
  }

  // ---- events: flash crowds ----------------------------------------------------------------

  // A decaying activity: exp(-(t - start) / decay) after the event's start.
  class CrowdScale final : public RateScale {
   public:
    CrowdScale(int64_t start_ns, double decay_s) : start_ns_(start_ns), decay_s_(decay_s) {}
    double At(int64_t t_ns) const override {
      return t_ns < start_ns_ ? 0.0 : std::exp(-static_cast<double>(t_ns - start_ns_) * 1e-9 / decay_s_);
    }
    double Max() const override { return 1; }
    int64_t NextRise(int64_t) const override { return INT64_MAX; }

   private:
    int64_t start_ns_;
    double decay_s_;
  };

  struct Crowd {
    const EventSpec* event;
    int region;
    uint64_t key;
    ArrivalSpec arrival;
    CrowdScale scale;
    sim::Discrete mix;
    bool has_mix;
  };

  void ScheduleCrowds() {
    const auto& events = scenario_.events;
    for (size_t e = 0; e < events.size(); ++e) {
      const EventSpec& ev = events[e];
      if (ev.crowd.per_10k <= 0 || ev.crowd.requests.empty() || sim::Time() + ev.at >= end_) continue;
      for (const std::string& id : ev.regions) {
        const int region = scenario_.RegionIndex(id);
        if (region < 0) continue;
        ArrivalSpec a;
        a.process = ArrivalSpec::Process::kPoisson;
        a.rate = ev.crowd.rate;
        std::vector<double> weights;
        bool any = false;
        for (const RequestSpec& r : ev.crowd.requests) {
          weights.push_back(r.op == RequestSpec::Op::kSubscribe ? 0.0 : r.weight);
          any = any || r.op != RequestSpec::Op::kSubscribe;
        }
        crowds_.push_back(Crowd{&ev, region,
                                sim::Mix64(scenario_.seed ^ sim::HashName("crowd/" + id) ^ sim::Mix64(e + 1)), a,
                                CrowdScale(ev.at.ns(), ev.crowd.decay.seconds()),
                                any ? sim::Discrete(weights) : sim::Discrete(), any});
        const uint32_t c = static_cast<uint32_t>(crowds_.size() - 1);
        const uint32_t n = GroupSize(0, ev.crowd.per_10k, scenario_.regions[static_cast<size_t>(region)].population);
        for (uint32_t m = 0; m < n; ++m) {
          sim::Rng rng(sim::Mix64(crowds_[c].key ^ sim::Mix64((uint64_t{m} << 32) | 0xFFFFFFFFu)));
          const sim::Time join = sim::Time() + ev.at + ev.crowd.ramp * rng.Uniform01();
          if (join >= end_) continue;
          engine_.ScheduleAt(join, [this, c, m] { CrowdJoin(c, m); });
        }
      }
    }
  }

  void CrowdJoin(uint32_t c, uint32_t m) {
    const Crowd& crowd = crowds_[c];
    for (const RequestSpec& r : crowd.event->crowd.requests) {
      if (r.op != RequestSpec::Op::kSubscribe) continue;
      sim::Rng rng(sim::Mix64(crowd.key ^ sim::Mix64((uint64_t{m} << 32) | 0xFFFFFFFEu)));
      Act(crowd.region, r, rng);
    }
    CrowdAction(c, m, 0);
  }

  void CrowdAction(uint32_t c, uint32_t m, uint32_t action) {
    Crowd& crowd = crowds_[c];
    const sim::Time now = engine_.Now();
    sim::Rng rng(sim::Mix64(crowd.key ^ sim::Mix64((uint64_t{m} << 32) | action)));
    if (action > 0 && crowd.has_mix) Act(crowd.region, crowd.event->crowd.requests[crowd.mix(rng)], rng);
    if (!crowd.has_mix) return;
    const sim::Duration gap = NextGap(crowd.arrival, rng, now.ns(), world_.HourAt(now.ns()), &crowd.scale);
    if (now + gap < end_) engine_.ScheduleIn(gap, [this, c, m, action] { CrowdAction(c, m, action + 1); });
  }

  // ---- requests ----------------------------------------------------------------------------

  uint32_t AllocSlot() {
    if (free_ != UINT32_MAX) {
      const uint32_t s = free_;
      free_ = inflight_[s].next_free;
      return s;
    }
    inflight_.emplace_back();
    return static_cast<uint32_t>(inflight_.size() - 1);
  }

  void FreeSlot(uint32_t s) {
    inflight_[s].wire.clear();
    inflight_[s].wire.shrink_to_fit();
    inflight_[s].next_free = free_;
    free_ = s;
  }

  // Returns the in-flight slot, or UINT32_MAX when the request was lost on its uplink.
  uint32_t Send(OpKind op, int region, int domain, std::string wire) {
    const sim::Time now = engine_.Now();
    const RegionRuntime& rt = world_.regions()[static_cast<size_t>(region)];
    const sim::Delivery up = sim::Network::Deliver(rt.path, wire.size(), scenario_.network.retransmit, uplink_rng_);
    if (!up.delivered) {
      ++result_.network_failures;
      RequestRecord r;
      r.op = op;
      r.region = region;
      r.domain = domain;
      r.intended = now;
      r.latency = up.delay;
      r.network = up.delay;
      r.error = "network";
      r.bytes_up = wire.size();
      observer_.OnRequest(r);
      return UINT32_MAX;
    }
    const uint32_t slot = AllocSlot();
    InFlight& f = inflight_[slot];
    f.paging = nullptr;
    f.op = op;
    f.region = region;
    f.domain = domain;
    f.intended = now;
    f.uplink = up.delay;
    f.bytes = wire.size();
    f.wire = std::move(wire);
    if (up.delay.ns() == 0) {
      Dispatch(slot);
    } else {
      ++pending_dispatch_;
      engine_.ScheduleIn(up.delay, [this, slot] {
        --pending_dispatch_;
        Dispatch(slot);
      });
    }
    return slot;
  }

  void Dispatch(uint32_t slot) {
    InFlight& f = inflight_[slot];
    f.sent = engine_.Now();
    ++result_.sent;
    ++outstanding_;
    result_.max_outstanding = std::max<uint64_t>(result_.max_outstanding, outstanding_);
    pool_.Send(std::move(f.wire), {&Emulation::OnResponseThunk, this, slot});
  }

  static void OnResponseThunk(void* self, uint64_t slot, sim::HttpOutcome& o) {
    static_cast<Emulation*>(self)->OnResponse(static_cast<uint32_t>(slot), o);
  }

  void OnResponse(uint32_t slot, sim::HttpOutcome& o) {
    const InFlight& f = inflight_[slot];
    --outstanding_;
    result_.pool_wait.Record(o.waited.count());
    const auto now = Clock::now();
    const RegionRuntime& rt = world_.regions()[static_cast<size_t>(f.region)];
    // The broker's part, in wall time, from when the request was due to leave (lag and
    // connection waits included) to its answer.
    const sim::Duration broker(now - executor_.SimToWall(f.sent));
    const uint64_t down_bytes = o.body.size() + 160;  // status line and headers
    const sim::Delivery down = sim::Network::Deliver(rt.path, down_bytes, scenario_.network.retransmit, downlink_rng_);
    RequestRecord r;
    r.op = f.op;
    r.region = f.region;
    r.domain = f.domain;
    r.intended = f.intended;
    r.network = f.uplink + down.delay;
    r.latency = f.uplink + std::max(broker, sim::Duration()) + down.delay;
    r.status = o.status;
    r.error = o.error;
    r.bytes_up = f.bytes;
    r.bytes_down = down_bytes;
    if (o.status >= 400) r.problem = ProblemType(o.body);
    if (!down.delivered && o.error.empty()) r.error = "network";
    r.ok = o.ok() && down.delivered;
    if (f.op == OpKind::kSubscribe && !r.ok) ++result_.subscriptions_failed;
    if (r.ok) {
      ++result_.completed;
      consecutive_transport_errors_ = 0;
      last_success_ = now;
    } else {
      ++result_.failed;
      if (!o.error.empty() && o.error != "timeout") ++consecutive_transport_errors_;
    }
    observer_.OnRequest(r);
    NextPage(f, o);
    FreeSlot(slot);
    // A broker that vanished: every request fails at transport level for a while.
    if (consecutive_transport_errors_ >= 100 && now - last_success_ > std::chrono::seconds(2) && !stop_reason_set_) {
      stop_reason_set_ = true;
      result_.broker_lost = true;
      result_.invalid_reasons.push_back("the broker stopped answering at t=" + engine_.Now().SinceStart().ToString() +
                                        " (" + std::string(o.error) + "); the run was ended early");
      executor_.Stop();
    }
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
    for (const auto& entity : doc["data"]) {
      ++result_.notified_entities;
      if (!entity.is_object()) continue;
      // The latest observation the entity carries.
      int64_t observed_us = INT64_MIN;
      for (auto it = entity.begin(); it != entity.end(); ++it) {
        if (!it->is_object()) continue;
        auto obs = it->find("observedAt");
        if (obs == it->end() || !obs->is_string()) continue;
        if (auto t = ParseRfc3339Micros(obs->get<std::string>())) observed_us = std::max(observed_us, *t);
      }
      if (observed_us == INT64_MIN) continue;
      // Uplink of the source's report, nominally, and the downlink to the subscriber.
      int src_region = sub_region;
      if (entity.contains("id") && entity["id"].is_string()) {
        const auto parts = Split(entity["id"].get_ref<const std::string&>(), ':');
        if (parts.size() >= 5) {
          const int r = scenario_.RegionIndex(std::string(parts[3]));
          if (r >= 0) src_region = r;
        }
      }
      const sim::Duration uplink = world_.regions()[static_cast<size_t>(src_region)].path.Delay(600);
      const sim::Duration downlink = world_.regions()[static_cast<size_t>(sub_region)].path.Delay(body.size());
      const sim::Time observed = sim::Time::FromNs((observed_us - scenario_.start_unix_us) * 1000);
      const sim::Duration broker_part(now - executor_.SimToWall(observed + uplink));
      NotificationRecord n;
      n.region = sub_region;
      n.arrival = executor_.WallToSim(now) + downlink;
      n.freshness = uplink + broker_part + downlink;
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
    if (options_.on_progress) {
      EmulationProgress p;
      p.now = engine_.Now();
      p.duration = scenario_.duration;
      p.wall_seconds = std::chrono::duration<double>(Clock::now() - wall_start_).count();
      p.sent = result_.sent;
      p.completed = result_.completed;
      p.failed = result_.failed;
      p.outstanding = outstanding_;
      options_.on_progress(p);
    }
    if (engine_.Now() + every < end_) engine_.ScheduleIn(every, [this, every] { Progress(every); });
  }

  // Lets the requests still in flight — or still on their simulated uplink — finish, paced
  // as before, for up to the broker timeout. Their intended times are inside the run.
  void Drain() {
    if (!result_.reached_end) {
      pool_.Shutdown();
      io_.poll();
      return;
    }
    const sim::Duration check = sim::Duration::Milliseconds(10) * scenario_.speed;
    std::function<void()> poll = [this, &poll, check] {
      if (outstanding_ == 0 && pending_dispatch_ == 0) {
        executor_.Stop();
        return;
      }
      engine_.ScheduleIn(check, poll);
    };
    engine_.ScheduleIn(sim::Duration(), poll);
    executor_.RunUntil(end_ + scenario_.broker.timeout * scenario_.speed + sim::Duration::Seconds(scenario_.speed));
    pool_.Shutdown();
    io_.poll();
  }

  EmulationResult Finish(Clock::time_point wall_start) {
    result_.interrupted = interrupted_;
    result_.pool = pool_.Stats();
    result_.wall_seconds = std::chrono::duration<double>(Clock::now() - wall_start).count();
    if (!result_.executor.valid) result_.invalid_reasons.push_back(result_.executor.invalid_reason);
    if (interrupted_) result_.invalid_reasons.push_back("the run was interrupted before its end (partial results)");
    listener_.Close();
    return std::move(result_);
  }

  World& world_;
  const Scenario& scenario_;
  BrokerProtocol& protocol_;
  const EmulationOptions& options_;
  RunObserver& observer_;
  boost::asio::io_context io_;
  sim::Engine engine_;
  sim::RealtimeExecutor executor_;
  sim::HttpClientPool pool_;
  sim::HttpListener listener_;
  sim::Rng uplink_rng_, downlink_rng_;
  std::vector<InFlight> inflight_;
  uint32_t free_ = UINT32_MAX;
  uint64_t outstanding_ = 0;
  uint64_t pending_dispatch_ = 0;  // requests on their simulated uplink
  uint64_t next_subscription_ = 0;
  std::string run_tag_;               // 12 hex digits, different in every run
  std::string subscriptions_expire_;  // RFC 3339
  std::vector<Crowd> crowds_;
  uint64_t consecutive_transport_errors_ = 0;
  Clock::time_point last_success_ = Clock::now();
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

EmulationResult RunEmulation(World& world, BrokerProtocol& protocol, const EmulationOptions& options,
                             RunObserver& observer) {
  const std::string url = options.broker_url;
  std::string host = "127.0.0.1", port = "80";
  std::string rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
  rest = rest.substr(0, rest.find('/'));
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    host = rest.substr(0, colon);
    if (colon != std::string::npos) port = rest.substr(colon + 1);
  }
  Emulation e(world, protocol, options, observer, host, port);
  return e.Run();
}

}  // namespace citybed::models
