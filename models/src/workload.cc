#include "citybed/models/workload.h"

#include <algorithm>
#include <cstdlib>

#include "citybed/models/arrivals.h"

namespace citybed::models {

Workload::Workload(World& world, Protocols protocols, sim::Engine& engine, RequestSink& sink,
                   WorkloadOptions options)
    : world_(world),
      scenario_(world.scenario()),
      protocols_(std::move(protocols)),
      engine_(engine),
      sink_(sink),
      options_(std::move(options)) {}

void Workload::Emit(WorkloadRequest&& r) {
  ++emitted_[static_cast<size_t>(r.op)];
  sink_.Emit(std::move(r));
}

void Workload::Start(sim::Time end) {
  end_ = end;
  const sim::Time now = engine_.Now();
  const int64_t horizon = (end - now).ns();
  const double hour0 = world_.HourAt(now.ns());

  // Sources: each at its stationary phase.
  auto& groups = world_.sources();
  for (uint32_t g = 0; g < groups.size(); ++g) {
    for (uint32_t i = 0; i < groups[g].count; ++i) {
      sim::Rng rng = MemberRng(groups[g].key, i, "first");
      const sim::Duration first = FirstOffset(groups[g].spec->arrival, rng, hour0, groups[g].scale(),
                                              groups[g].model->reports_at_event_start(), horizon);
      if (first == kNever) continue;
      engine_.ScheduleIn(first, [this, g, i] { OnReport(g, i); });
    }
  }

  // Users: subscriptions during the first second (or the warm-up, if shorter), then actions.
  auto& users = world_.users();
  const double window =
      std::max(1e-3, std::min(1.0, scenario_.warmup.seconds() > 0 ? scenario_.warmup.seconds() : 1.0));
  for (uint32_t u = 0; u < users.size(); ++u) {
    const UserGroup& group = users[u];
    for (uint32_t m = 0; m < group.count; ++m) {
      sim::Rng rng = MemberRng(group.key, m, "start");
      for (uint32_t r = 0; r < group.spec->requests.size(); ++r) {
        if (group.spec->requests[r].op != RequestSpec::Op::kSubscribe) continue;
        const sim::Duration at = sim::Duration::Seconds(rng.Uniform01() * window);
        if (!Before(at)) continue;
        engine_.ScheduleIn(at, [this, u, m, r] {
          const UserGroup& ug = world_.users()[u];
          sim::Rng sub_rng = MemberRng(ug.key, m, "subscribe", r);
          Act(ug.region, ug.spec->requests[r], sub_rng);
        });
      }
      if (group.mix.size() == 0) continue;
      const sim::Duration first = FirstOffset(group.spec->arrival, rng, hour0, nullptr, false, horizon);
      if (first != kNever) engine_.ScheduleIn(first, [this, u, m] { OnUserAction(u, m, 0); });
    }
  }

  // Crowds: members join uniformly over the ramp.
  auto& crowds = world_.crowds();
  for (uint32_t c = 0; c < crowds.size(); ++c) {
    const CrowdGroup& crowd = crowds[c];
    for (uint32_t m = 0; m < crowd.count; ++m) {
      sim::Rng rng = MemberRng(crowd.key, m, "join");
      const sim::Time join = sim::Time() + crowd.event->at + crowd.event->crowd.ramp * rng.Uniform01();
      if (join >= end_ || join < now) continue;
      engine_.ScheduleAt(join, [this, c, m] { CrowdJoin(c, m); });
    }
  }
}

void Workload::OnReport(uint32_t g, uint32_t i) {
  SourceGroup& group = world_.sources()[g];
  const sim::Time now = engine_.Now();
  const uint32_t k = group.reports[i]++;
  sim::Rng rng = World::ReportRng(group, i, k);
  const SourceContext ctx = world_.Context(group, i, now.ns());
  EntityUpdate update;
  update.id = world_.SourceEntityId(group, i);
  update.type = group.model->entity_type();
  update.observed_us = ctx.unix_us;
  update.attrs.reserve(8);
  group.model->Report(ctx, group.StateOf(i), rng, update);
  const RegionRuntime& region = world_.regions()[static_cast<size_t>(group.region)];
  WorkloadRequest r;
  r.op = OpKind::kUpsert;
  r.region = r.about = group.region;
  r.domain = DomainIndex(group.model->domain());
  r.group = static_cast<int>(g);
  r.member = i;
  r.observed_us = update.observed_us;
  r.site = world_.federation() ? world_.federation()->HomeSite(group.region) : -1;
  r.wire = ProtocolOf(region).Write(update, region.tenant);
  Emit(std::move(r));
  const sim::Duration gap = NextGap(group.spec->arrival, rng, now.ns(), ctx.hour, group.scale(),
                                    group.model->reports_at_event_start(), end_.ns());
  if (gap != kNever) engine_.ScheduleIn(gap, [this, g, i] { OnReport(g, i); });
}

void Workload::OnUserAction(uint32_t u, uint32_t m, uint32_t action) {
  UserGroup& group = world_.users()[u];
  const sim::Time now = engine_.Now();
  sim::Rng rng = MemberRng(group.key, m, "action", action);
  Act(group.region, group.spec->requests[group.mix(rng)], rng);
  const sim::Duration gap =
      NextGap(group.spec->arrival, rng, now.ns(), world_.HourAt(now.ns()), nullptr, false, end_.ns());
  if (gap != kNever) engine_.ScheduleIn(gap, [this, u, m, action] { OnUserAction(u, m, action + 1); });
}

void Workload::CrowdJoin(uint32_t c, uint32_t m) {
  const CrowdGroup& crowd = world_.crowds()[c];
  const auto& requests = crowd.event->crowd.requests;
  for (uint32_t r = 0; r < requests.size(); ++r) {
    if (requests[r].op != RequestSpec::Op::kSubscribe) continue;
    sim::Rng rng = MemberRng(crowd.key, m, "subscribe", r);
    Act(crowd.region, requests[r], rng);
  }
  CrowdAction(c, m, 0);
}

// Action 0 is the joining itself; actions 1, 2, ... draw from the crowd's mix.
void Workload::CrowdAction(uint32_t c, uint32_t m, uint32_t action) {
  CrowdGroup& crowd = world_.crowds()[c];
  if (!crowd.has_mix) return;
  const sim::Time now = engine_.Now();
  sim::Rng rng = MemberRng(crowd.key, m, "action", action);
  if (action > 0) Act(crowd.region, crowd.event->crowd.requests[crowd.mix(rng)], rng);
  const sim::Duration gap =
      NextGap(crowd.arrival, rng, now.ns(), world_.HourAt(now.ns()), &crowd.scale, false, end_.ns());
  if (gap != kNever) engine_.ScheduleIn(gap, [this, c, m, action] { CrowdAction(c, m, action + 1); });
}

// One request of a user in `region` (or, for cross-region requests, about another region).
const BrokerProtocol& Workload::Route(WorkloadRequest& r) const {
  const Federation* fed = world_.federation();
  const RegionRuntime& about = world_.regions()[static_cast<size_t>(r.about)];
  if (fed == nullptr) return ProtocolOf(about);
  r.site = fed->EntrySite(r.region, r.about);
  // Through another region's broker or a hub, a request is a distributed operation: NGSI-LD.
  if (r.site != fed->HomeSite(r.about)) return protocols_.For(BrokerApi::kNgsiLd);
  return ProtocolOf(about);
}

void Workload::Act(int region, const RequestSpec& req, sim::Rng& rng) {
  const int target = req.cross_region ? world_.TargetRegion(region, rng, req.other_region) : region;
  const RegionRuntime& about = world_.regions()[static_cast<size_t>(target)];
  WorkloadRequest r;
  r.region = region;
  r.about = target;
  r.spec = &req;
  const BrokerProtocol& protocol = Route(r);
  switch (req.op) {
    case RequestSpec::Op::kGet: {
      // A thing that has reported at least once (so it exists in the broker).
      const auto& groups = world_.GroupsOfType(target, req.entity_type);
      for (int attempt = 0; attempt < 8 && !groups.empty(); ++attempt) {
        const int gi = groups[rng.Below(groups.size())];
        const SourceGroup& sg = world_.sources()[static_cast<size_t>(gi)];
        const uint32_t i = static_cast<uint32_t>(rng.Below(sg.count));
        if (sg.reports[i] == 0) continue;
        r.op = OpKind::kGet;
        r.asked_group = gi;
        r.asked_member = i;
        r.wire = protocol.Get(world_.SourceEntityId(sg, i), about.tenant);
        Emit(std::move(r));
        return;
      }
      ++skipped_;
      return;
    }
    case RequestSpec::Op::kQuery:
      r.op = OpKind::kQuery;
      r.wire = protocol.Query(req.entity_type, req.q, req.limit, 0, req.count || req.pages > 1, about.tenant);
      Emit(std::move(r));
      return;
    case RequestSpec::Op::kGeoQuery:
      r.op = OpKind::kGeoQuery;
      r.place = world_.RandomPlace(target, rng);
      r.wire = protocol.GeoQuery(req.entity_type, r.place, req.max_distance_m, req.limit,
                                  about.tenant);
      Emit(std::move(r));
      return;
    case RequestSpec::Op::kSubscribe: {
      const std::string& region_id = world_.regions()[static_cast<size_t>(region)].spec->id;
      SubscriptionRequest sub;
      // Unique to this run, so that runs one after the other against the same broker do not
      // collide; and expiring soon after the run, so that a broker does not keep notifying a
      // receiver that is gone.
      sub.id = options_.subscription_prefix + region_id + ":" + std::to_string(next_subscription_++);
      sub.expires_at = options_.subscriptions_expire;
      sub.type = req.entity_type;
      sub.watched = &req.watched;
      sub.q = req.q;
      sub.endpoint = options_.notification_url + "/" + region_id;
      r.op = OpKind::kSubscribe;
      r.wire = protocol.Subscribe(sub, about.tenant);
      Emit(std::move(r));
      return;
    }
    default:
      return;
  }
}

void Workload::OnAnswer(const WorkloadRequest& request, bool ok, std::string_view results_count) {
  const RequestSpec* req = request.spec;
  if (!ok || req == nullptr || request.op != OpKind::kQuery || req->pages <= 1) return;
  const int page = request.page + 1;
  const long long total = results_count.empty() ? -1 : std::atoll(std::string(results_count).c_str());
  if (page >= req->pages || (total >= 0 && static_cast<long long>(page) * req->limit >= total)) return;
  if (engine_.Now() >= end_) return;
  const RegionRuntime& about = world_.regions()[static_cast<size_t>(request.about)];
  WorkloadRequest r;
  r.op = OpKind::kQuery;
  r.region = request.region;
  r.about = request.about;
  r.spec = req;
  r.page = page;
  const BrokerProtocol& protocol = Route(r);
  r.wire = protocol.Query(req->entity_type, req->q, req->limit, page * req->limit, true, about.tenant);
  Emit(std::move(r));
}

}  // namespace citybed::models
