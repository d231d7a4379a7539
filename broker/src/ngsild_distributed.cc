// Distributed retrieve and query (CIM 009 V1.9.1, 4.3.6, 5.7.1.4, 5.7.2.4): the handlers'
// second half when registered context sources may hold what a request asks for. The local
// part is read on the serving thread; the forwarded requests go out through the Forwarder, and
// the merged answer is written on its thread and handed back to the session (Response::later).
#include <algorithm>
#include <unordered_map>

#include "citybed/common/strings.h"

#include "ngsild_internal.h"

namespace citybed::broker {

NgsiLdApi::Impl::Distribution NgsiLdApi::Impl::Distribute(const Request& req, const Call& call,
                                                          const DistributedAsk& ask) {
  Distribution d;
  std::string self;
  {
    std::lock_guard lock(forwarding_mu_);
    d.forwarder = forwarder_;
    self = via_name_;
  }
  d.self = self;
  if (d.forwarder == nullptr) return d;
  // 5.5.13: local=true asks for this broker's own data.
  if (const std::string* local = req.FindParam("local"); local && *local == "true") return d;
  if (!registrations_.HasTenant(call.tenant)) return d;
  const std::vector<RegistrationPtr> regs = registrations_.List(call.tenant, {});
  if (regs.empty()) return d;
  const std::string incoming(req.HeaderOr("Via", ""));
  const std::vector<std::string> via = ViaNames(incoming);
  std::vector<SourcePlan> plans = PlanSources(regs, ask, via, UnixMicrosNow(), d.warnings);
  if (plans.empty()) return d;
  if (auto stop = PathStop(via, self)) {  // local data only
    d.warnings.push_back(std::move(*stop));
    return d;
  }
  d.plans = std::move(plans);
  d.fc.client = &req;
  d.fc.link = call.ctx->link_header();
  d.fc.via = (incoming.empty() ? std::string() : incoming + ", ") + "1.1 " + self;
  d.fc.default_timeout = options_.forward_timeout;
  d.fc.default_cooldown = options_.forward_cooldown;
  return d;
}

namespace {

// What a deferred answer needs after the handler returned: copies, never references into the
// request or the handler's frame.
struct Deferred {
  Request req;
  Call call;
  RenderOptions opts;
  std::vector<uint32_t> projection;  // opts.only_attrs points here
  std::vector<SourcePlan> plans;
  std::vector<ForwardWarning> warnings;
  std::string self;
};

std::shared_ptr<Deferred> MakeDeferred(const Request& req, const Call& call, const RenderOptions& opts,
                                       std::vector<uint32_t> projection, NgsiLdApi::Impl::Distribution& dist) {
  auto d = std::make_shared<Deferred>();
  d->req = req;
  d->call = call;
  d->opts = opts;
  d->projection = std::move(projection);
  d->opts.only_attrs = opts.only_attrs != nullptr ? &d->projection : nullptr;
  d->plans = std::move(dist.plans);
  d->warnings = std::move(dist.warnings);
  d->self = std::move(dist.self);
  return d;
}

}  // namespace

Response NgsiLdApi::Impl::DistributedQuery(const Request& req, const Call& call, Distribution dist,
                                           std::vector<EntityPtr> local, size_t local_matched, bool local_more,
                                           const RenderOptions& opts, std::vector<uint32_t> projection,
                                           size_t offset, size_t limit, bool count) {
  const size_t want = offset + limit;
  std::vector<ForwardRequest> requests;
  requests.reserve(dist.plans.size());
  for (const SourcePlan& plan : dist.plans) {
    requests.push_back(QueryForward(plan, dist.fc, names_, *call.ctx, want, options_.max_limit));
  }
  auto d = MakeDeferred(req, call, opts, std::move(projection), dist);
  Forwarder* forwarder = dist.forwarder;
  return AfterSources(forwarder, std::move(requests), [this, d, local = std::move(local), local_matched, local_more, offset,
                                                       limit, count, want](std::vector<ForwardOutcome>& outcomes) {
    // Every list is in id order (this store's scans and citybed's sources are), so the
    // first `want` of each give the first `want` of the union in id order: pages over the
    // merged result neither repeat nor miss an entity while the data stands still.
    std::vector<std::shared_ptr<const Entity>> merged(local.begin(), local.end());
    std::unordered_map<std::string, size_t> at;
    for (size_t i = 0; i < merged.size(); ++i) at.emplace(merged[i]->id, i);
    size_t total = local_matched, duplicates = 0;
    bool more = local_more;
    const Codec codec = MakeCodec(*d->call.ctx);
    for (size_t s = 0; s < d->plans.size(); ++s) {
      std::vector<Entity> got;
      if (!ReadSourceAnswer(d->plans[s], outcomes[s], false, codec, got, d->warnings)) continue;
      size_t source_count = got.size();  // a source that gives no count: what it sent
      if (!outcomes[s].results_count.empty()) ParseCount(outcomes[s].results_count, source_count);
      total += source_count;
      more = more || source_count > got.size();
      const bool auxiliary = d->plans[s].reg->mode == RegistrationMode::kAuxiliary;
      for (Entity& e : got) {
        auto it = at.find(e.id);
        if (it == at.end()) {
          at.emplace(e.id, merged.size());
          merged.push_back(std::make_shared<const Entity>(std::move(e)));
          continue;
        }
        ++duplicates;
        auto copy = std::make_shared<Entity>(*merged[it->second]);
        MergeSourceEntity(*copy, e, auxiliary);
        merged[it->second] = std::move(copy);
      }
    }
    // A count over the union: exact when every source's list was complete, otherwise the
    // duplicates beyond the fetched lists are not known (docs/federation.md).
    total = total >= duplicates ? total - duplicates : 0;
    std::stable_sort(merged.begin(), merged.end(), [](const auto& a, const auto& b) { return a->id < b->id; });
    std::vector<const Entity*> page;
    for (size_t i = offset; i < merged.size() && i < want; ++i) page.push_back(merged[i].get());
    Response answer = QueryPage(d->req, d->call, d->opts, page, offset, limit, count, total,
                                more || merged.size() > want, *d->call.ctx);
    AddWarnings(answer, d->warnings, d->self);
    return answer;
  });
}

Response NgsiLdApi::Impl::DistributedRetrieve(const Request& req, const Call& call, Distribution dist,
                                              EntityPtr local, const std::string& id, const RenderOptions& opts,
                                              std::vector<uint32_t> attrs) {
  std::vector<ForwardRequest> requests;
  requests.reserve(dist.plans.size());
  for (const SourcePlan& plan : dist.plans) requests.push_back(RetrieveForward(plan, dist.fc, names_, *call.ctx, id));
  auto d = MakeDeferred(req, call, opts, std::move(attrs), dist);
  Forwarder* forwarder = dist.forwarder;
  return AfterSources(forwarder, std::move(requests), [this, d, local = std::move(local), id](std::vector<ForwardOutcome>& outcomes) {
    std::optional<Entity> merged;
    if (local) merged.emplace(*local);
    const Codec codec = MakeCodec(*d->call.ctx);
    for (size_t s = 0; s < d->plans.size(); ++s) {
      std::vector<Entity> got;
      if (!ReadSourceAnswer(d->plans[s], outcomes[s], true, codec, got, d->warnings)) continue;
      for (Entity& e : got) {
        if (e.id != id) {
          d->warnings.push_back({111, SourceName(*d->plans[s].reg),
                                 "registration " + d->plans[s].reg->id + ": the source answered another entity"});
          continue;
        }
        if (!merged) merged.emplace(std::move(e));
        else MergeSourceEntity(*merged, e, d->plans[s].reg->mode == RegistrationMode::kAuxiliary);
      }
    }
    Response answer = FinishRetrieve(d->req, d->call, merged ? &*merged : nullptr, id, d->opts, d->projection);
    AddWarnings(answer, d->warnings, d->self);
    return answer;
  });
}

}  // namespace citybed::broker
