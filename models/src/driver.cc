#include "citybed/models/driver.h"

#include <algorithm>
#include <cstdlib>

#include "citybed/sim/network.h"

namespace citybed::models {

namespace {

// The error type named in an error answer: NGSI-LD "type": ".../errors/BadRequestData", or
// NGSI-v2 "error": "BadRequest".
std::string_view ProblemType(std::string_view body) {
  if (const size_t at = body.find("/errors/"); at != std::string_view::npos) {
    const size_t start = at + 8, end = body.find('"', start);
    return end == std::string_view::npos ? std::string_view() : body.substr(start, end - start);
  }
  if (const size_t at = body.find("\"error\""); at != std::string_view::npos) {
    const size_t open = body.find('"', body.find(':', at) + 1);
    if (open == std::string_view::npos) return {};
    const size_t close = body.find('"', open + 1);
    return close == std::string_view::npos ? std::string_view() : body.substr(open + 1, close - open - 1);
  }
  return {};
}

constexpr uint64_t kHeaderBytes = 160;  // status line and headers of an answer, nominally

}  // namespace

RequestDriver::RequestDriver(World& world, sim::Engine& engine, BrokerPort& port, RunObserver& observer,
                             sim::Duration timeout)
    : world_(world),
      engine_(engine),
      port_(port),
      observer_(observer),
      timeout_(timeout),
      probe_(world),
      uplink_rng_(sim::RngStreams(world.scenario().seed).Stream("network/uplink")),
      downlink_rng_(sim::RngStreams(world.scenario().seed).Stream("network/downlink")) {
  port_.Bind(*this);
}

uint32_t RequestDriver::AllocSlot() {
  if (free_ != UINT32_MAX) {
    const uint32_t s = free_;
    free_ = inflight_[s].next_free;
    return s;
  }
  inflight_.emplace_back();
  return static_cast<uint32_t>(inflight_.size() - 1);
}

void RequestDriver::FreeSlot(uint32_t slot) {
  InFlight& f = inflight_[slot];
  f.live = false;
  f.at_port = false;
  f.request.wire.clear();
  f.request.wire.shrink_to_fit();
  f.next_free = free_;
  free_ = slot;
}

void RequestDriver::Report(const InFlight& f, RequestRecord& r) {
  const WorkloadRequest& q = f.request;
  r.op = q.op;
  r.region = q.region;
  r.about = q.about;
  r.site = q.site;
  r.domain = q.domain;
  r.name = q.spec != nullptr ? std::string_view(q.spec->name) : std::string_view();
  r.intended = f.intended;
  r.bytes_up = f.bytes;
  switch (r.outcome) {
    case Outcome::kOk: ++stats_.ok; break;
    case Outcome::kTimeout: ++stats_.timeouts, ++stats_.failed; break;
    case Outcome::kCancelled: ++stats_.cancelled, ++stats_.failed; break;
    case Outcome::kNetwork: ++stats_.network_failures, ++stats_.failed; break;
    default: ++stats_.failed; break;
  }
  observer_.OnRequest(r);
  if (measure_content_ && probe_.Measures(q)) observer_.OnInterop(probe_.Measure(q, r));
}

void RequestDriver::Emit(WorkloadRequest&& request) {
  ++stats_.emitted;
  const sim::Time now = engine_.Now();
  const Scenario& s = world_.scenario();
  const uint64_t bytes = request.wire.size();
  const sim::Delivery up =
      sim::Network::Deliver(world_.RouteOf(request.region, request.site), bytes, s.network.retransmit, uplink_rng_);
  if (request.group >= 0) {
    SourceGroup& g = world_.sources()[static_cast<size_t>(request.group)];
    const int64_t up_us = up.delivered ? std::min<int64_t>(up.delay.ns() / 1000, UINT32_MAX - 1) : UINT32_MAX;
    g.last_write[request.member] = {static_cast<uint32_t>(request.observed_us), static_cast<uint32_t>(up_us)};
  }
  const uint32_t slot = AllocSlot();
  InFlight& f = inflight_[slot];
  f.request = std::move(request);
  f.intended = now;
  f.uplink = up.delay;
  f.bytes = bytes;
  f.live = true;
  f.at_port = false;
  if (!up.delivered || up.delay >= timeout_) {
    // Lost on the uplink (the source gave up after its last retry), or slower than the timeout.
    RequestRecord r;
    r.outcome = up.delay >= timeout_ ? Outcome::kTimeout : Outcome::kNetwork;
    r.latency = std::min(up.delay, timeout_);
    r.network = r.latency;
    r.completed = now + r.latency;
    r.error = r.outcome == Outcome::kNetwork ? "network" : "timeout";
    Report(f, r);
    FreeSlot(slot);
    return;
  }
  if (up.delay.ns() == 0) {
    Dispatch(slot);
    return;
  }
  ++stats_.on_uplink;
  f.dispatch_event = engine_.ScheduleIn(up.delay, [this, slot] {
    --stats_.on_uplink;
    inflight_[slot].dispatch_event = sim::EventId();
    Dispatch(slot);
  });
}

void RequestDriver::Dispatch(uint32_t slot) {
  InFlight& f = inflight_[slot];
  ++stats_.dispatched;
  ++stats_.outstanding;
  stats_.max_outstanding = std::max(stats_.max_outstanding, stats_.outstanding);
  f.at_port = true;
  // A fault of the broker the request reaches (scenario "faults").
  const int site = f.request.site >= 0 || world_.federation() == nullptr
                       ? f.request.site
                       : world_.federation()->HomeSite(f.request.region);
  if (const FaultSpec* fault = world_.FaultSpecAt(site, engine_.Now())) {
    if (Faulted(slot, *fault)) return;
  }
  std::string wire = std::move(f.request.wire);
  port_.Submit(slot, f.request.site, std::move(wire), timeout_ - f.uplink);  // may complete at once: f is not used after
}

void RequestDriver::TimeOutLater(uint32_t slot, sim::Duration budget) {
  inflight_[slot].dispatch_event = engine_.ScheduleIn(budget, [this, slot, budget] {
    inflight_[slot].dispatch_event = sim::EventId();
    PortOutcome o;
    o.error = "timeout";
    o.sent = true;
    o.broker = budget;
    o.answered = engine_.Now();
    OnPortDone(slot, o);
  });
}

bool RequestDriver::Faulted(uint32_t slot, const FaultSpec& fault) {
  InFlight& f = inflight_[slot];
  const sim::Time now = engine_.Now();
  const auto mode = fault.At(now);
  if (!mode) return false;
  const sim::Duration budget = timeout_ - f.uplink;
  switch (*mode) {
    case FaultSpec::Mode::kRefuse:
    case FaultSpec::Mode::kFlap: {
      PortOutcome o;
      o.error = "connection refused (broker outage)";
      o.answered = now;
      OnPortDone(slot, o);
      return true;
    }
    case FaultSpec::Mode::kError: {
      PortOutcome o;
      o.status = 503;
      o.sent = true;
      o.body = R"({"type":"https://uri.etsi.org/ngsi-ld/errors/InternalError","title":"Service Unavailable","status":503})";
      o.answered = now;
      OnPortDone(slot, o);
      return true;
    }
    case FaultSpec::Mode::kBlackhole:
      TimeOutLater(slot, budget);  // sent, and never answered
      return true;
    case FaultSpec::Mode::kSlow: {
      // The broker takes `delay` longer: the request reaches it that much later.
      if (fault.delay >= budget) {
        TimeOutLater(slot, budget);
        return true;
      }
      const sim::Duration delay = fault.delay;
      f.dispatch_event = engine_.ScheduleIn(delay, [this, slot, budget, delay] {
        InFlight& g = inflight_[slot];
        g.dispatch_event = sim::EventId();
        std::string wire = std::move(g.request.wire);
        port_.Submit(slot, g.request.site, std::move(wire), budget - delay);
      });
      return true;
    }
  }
  return false;
}

void RequestDriver::OnPortDone(uint32_t slot, PortOutcome& o) {
  InFlight& f = inflight_[slot];
  if (!f.live || !f.at_port) return;  // completed already
  --stats_.outstanding;
  f.at_port = false;
  if (o.sent) ++stats_.sent;
  stats_.waited.Record(o.waited.ns());
  const sim::Route& path = world_.RouteOf(f.request.region, f.request.site);
  const sim::Duration broker = std::max(o.broker, sim::Duration());
  RequestRecord r;
  r.sent = o.sent;
  r.waited = o.waited;
  r.status = o.status;
  r.error = o.error;
  if (o.status > 0 && o.error.empty()) {
    stats_.transport_errors_in_a_row = 0;
    const uint64_t down_bytes = std::max<uint64_t>(o.body.size(), o.answer_bytes) + kHeaderBytes;
    const sim::Delivery down =
        sim::Network::Deliver(path, down_bytes, world_.scenario().network.retransmit, downlink_rng_);
    r.bytes_down = down_bytes;
    r.network = f.uplink + down.delay;
    r.latency = f.uplink + broker + down.delay;
    r.completed = o.answered + down.delay;
    if (o.status >= 400) r.problem = ProblemType(o.body);
    if (r.latency > timeout_) {
      r.outcome = Outcome::kTimeout;  // the requester had given up
    } else if (!down.delivered) {
      r.outcome = Outcome::kNetwork;
      r.error = "network";
    } else {
      r.outcome = o.status < 300 && o.status >= 200 ? Outcome::kOk : Outcome::kStatus;
    }
    if (r.outcome == Outcome::kOk) {
      r.body = o.body;
      r.results_count = o.results_count;
      r.warnings = o.warnings;
      r.forwarded_sources = o.forwarded_sources;
      r.forwarded_bytes = o.forwarded_bytes;
    }
  } else {
    r.network = f.uplink;
    r.latency = f.uplink + broker;
    r.completed = o.answered;
    if (o.error == "timeout" || r.latency > timeout_) {
      r.outcome = Outcome::kTimeout;
    } else if (o.error == "cancelled") {
      r.outcome = Outcome::kCancelled;
    } else {
      r.outcome = Outcome::kConnection;
      ++stats_.transport_errors_in_a_row;
    }
  }
  if (r.outcome == Outcome::kTimeout) {
    r.latency = timeout_;
    r.completed = f.intended + timeout_;
    r.error = "timeout";
    r.status = 0;
    r.problem = {};
  }
  Report(f, r);
  // A paged query asks for its next page at the answer's time.
  if (workload_ != nullptr && r.ok() && f.request.op == OpKind::kQuery && f.request.spec != nullptr &&
      f.request.spec->pages > 1) {
    const RequestSpec* spec = f.request.spec;
    const int page = f.request.page, region = f.request.region, about = f.request.about;
    const long long total = o.results_count.empty() ? -1 : std::atoll(o.results_count.c_str());
    engine_.ScheduleAt(std::max(engine_.Now(), o.answered), [this, spec, page, region, about, total] {
      WorkloadRequest done;
      done.op = OpKind::kQuery;
      done.spec = spec;
      done.page = page;
      done.region = region;
      done.about = about;
      workload_->OnAnswer(done, true, total < 0 ? std::string() : std::to_string(total));
    });
  }
  FreeSlot(slot);
}

void RequestDriver::CancelAll() {
  port_.CancelAll();  // completes every request at the port
  const sim::Time now = engine_.Now();
  for (uint32_t slot = 0; slot < inflight_.size(); ++slot) {
    InFlight& f = inflight_[slot];
    if (!f.live) continue;
    if (f.at_port) {
      --stats_.outstanding;  // the port lost it: count it as cancelled here
      engine_.Cancel(f.dispatch_event);  // a fault's pending answer, if any
    } else {
      engine_.Cancel(f.dispatch_event);
      --stats_.on_uplink;
    }
    RequestRecord r;
    r.outcome = Outcome::kCancelled;
    r.error = "cancelled";
    r.network = f.uplink;
    r.latency = std::max(now - f.intended, sim::Duration());
    r.completed = now;
    Report(f, r);
    FreeSlot(slot);
  }
}

}  // namespace citybed::models
