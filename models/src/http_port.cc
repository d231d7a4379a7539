#include "citybed/models/http_port.h"

#include "citybed/models/workload.h"

namespace citybed::models {

HttpBrokerPort::HttpBrokerPort(boost::asio::io_context& io, sim::RealtimeExecutor& executor,
                               std::vector<HttpClientOptions> sites)
    : io_(io), executor_(executor) {
  for (HttpClientOptions& o : sites) pools_.push_back(std::make_unique<HttpClientPool>(io, std::move(o)));
}

HttpClientStats HttpBrokerPort::Stats() const {
  HttpClientStats sum;
  for (const auto& p : pools_) {
    const HttpClientStats s = p->Stats();
    sum.sent += s.sent;
    sum.completed += s.completed;
    sum.failed += s.failed;
    sum.timeouts += s.timeouts;
    sum.connects += s.connects;
    sum.in_flight += s.in_flight;
    sum.waiting += s.waiting;
    sum.max_waiting = std::max(sum.max_waiting, s.max_waiting);
  }
  return sum;
}

void HttpBrokerPort::Submit(uint32_t slot, int site, std::string&& wire, sim::Duration budget) {
  if (slot >= dispatched_.size()) {
    dispatched_.resize(slot + 1);
    pending_.resize(slot + 1, 0);
  }
  const sim::Time now = executor_.engine().Now();
  dispatched_[slot] = now;
  pending_[slot] = 1;
  const auto door = executor_.SimToWall(now);
  const auto deadline = budget == sim::Duration::Max() ? HttpClientPool::Clock::time_point::max()
                                                       : door + budget.chrono();
  if (site < 0 && !instance_of_.empty() && client_ != nullptr) {
    if (const WorkloadRequest* req = client_->RequestOf(slot); req != nullptr && static_cast<size_t>(req->about) < instance_of_.size()) {
      site = instance_of_[static_cast<size_t>(req->about)];
    }
  }
  pool(site).Send(std::move(wire), {&HttpBrokerPort::OnDone, this, slot}, deadline);
}

void HttpBrokerPort::OnDone(void* self_ptr, uint64_t tag, HttpOutcome& o) {
  auto* self = static_cast<HttpBrokerPort*>(self_ptr);
  const uint32_t slot = static_cast<uint32_t>(tag);
  if (slot >= self->pending_.size() || !self->pending_[slot]) return;
  self->pending_[slot] = 0;
  const auto now = HttpClientPool::Clock::now();
  PortOutcome out;
  out.status = o.status;
  out.error = std::move(o.error);
  out.body = std::move(o.body);
  out.results_count = std::move(o.results_count);
  out.warnings = o.warnings;
  out.forwarded_sources = o.forwarded_sources;
  out.forwarded_bytes = o.forwarded_bytes;
  out.sent = o.sent;
  out.waited = sim::Duration(o.waited);
  out.broker = sim::Duration(now - self->executor_.SimToWall(self->dispatched_[slot]));
  out.answered = std::max(self->executor_.WallToSim(now), self->executor_.engine().Now());
  if (self->client_ != nullptr) self->client_->OnPortDone(slot, out);
}

void HttpBrokerPort::CancelAll() {
  for (auto& p : pools_) p->Shutdown();
  io_.poll();  // the closed connections' handlers complete their requests
  // Whatever the pool did not complete (it should have), complete here.
  for (uint32_t slot = 0; slot < pending_.size(); ++slot) {
    if (!pending_[slot]) continue;
    HttpOutcome o;
    o.error = "cancelled";
    OnDone(this, slot, o);
  }
}

}  // namespace citybed::models
