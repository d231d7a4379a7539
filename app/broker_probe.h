// BrokerProbe: what `citybed calibrate` drives and reads a broker with — a closed-loop replay of
// captured requests at a chosen concurrency (through common's HttpClientPool, on the caller's
// io_context), and snapshots of the broker's service metrics (GET /metrics?format=json) to
// take differences of. App-private; see calibrate_command.cc and docs/capacity.md.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "citybed/common/http_client.h"
#include "citybed/common/op_class.h"
#include "citybed/common/url.h"
#include "citybed/sim/histogram.h"

namespace citybed::app {

using Clock = std::chrono::steady_clock;

// One request of the scenario's workload, as captured.
struct Captured {
  OpClass cls;
  std::string wire;
  // A source's write or a subscription: its tenant and entity type, for the structural fan-out.
  std::string topic;
};


// CPU model, cores and kernel of this machine.
std::string Machine();

// What a stretch of closed-loop load measured.
struct Load {
  uint64_t answered = 0, failed = 0, bytes = 0;
  double seconds = 0;
  sim::LatencyHistogram rt{3};  // ns
  std::map<int, uint64_t> statuses;
  // By class: answers, their statuses and bytes.
  std::array<uint64_t, kOpClasses> class_answered{}, class_bytes{};
  std::array<std::map<int, uint64_t>, kOpClasses> class_statuses;
};

class Client {
 public:
  Client(boost::asio::io_context& io, const HttpUrl& url, int connections) : io_(io) {
    HttpClientOptions o;
    o.host = url.host;
    o.port = url.port;
    o.connections = connections;
    o.timeout = std::chrono::seconds(30);
    o.keep_body = true;
    o.max_queue = 1 << 20;
    pool_ = std::make_unique<HttpClientPool>(io, o);
    host_ = url.host_header;
  }

  HttpOutcome Get(const std::string& target) {
    HttpOutcome out;
    bool done = false;
    struct Ctx {
      HttpOutcome* out;
      bool* done;
    } ctx{&out, &done};
    pool_->Send(FormatRequest("GET", target, host_, "", "", ""),
                {[](void* c, uint64_t, HttpOutcome& o) {
                   auto* x = static_cast<Ctx*>(c);
                   *x->out = std::move(o);
                   *x->done = true;
                 },
                 &ctx, 0});
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (!done && Clock::now() < deadline) io_.run_one_for(std::chrono::milliseconds(50));
    if (!done) out.error = "no answer within 30 s";
    return out;
  }

  // Keeps `concurrency` requests of `seq` in flight (from `cursor`, cyclically when `cycle`) until
  // `limit` were sent or `warmup + seconds` have passed; answers before `warmup` are not counted.
  Load Drive(const std::vector<const Captured*>& seq, size_t& cursor, int concurrency, double seconds, uint64_t limit,
             bool cycle, double warmup = 0) {
    Run r;
    r.self = this;
    r.seq = &seq;
    r.cursor = &cursor;
    r.cycle = cycle;
    r.limit = limit;
    r.started.resize(static_cast<size_t>(concurrency));
    r.classes.resize(static_cast<size_t>(concurrency));
    r.t0 = Clock::now();
    r.counting_from = r.t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
    r.stop_at = r.t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup + seconds));
    for (int i = 0; i < concurrency; ++i) Next(r, static_cast<uint64_t>(i));
    while (r.in_flight > 0) io_.run_one_for(std::chrono::milliseconds(50));
    const auto end = std::min(r.last_answer, r.stop_at);
    r.load.seconds = std::max(1e-9, std::chrono::duration<double>(end - std::max(r.t0, r.counting_from)).count());
    return std::move(r.load);
  }

 private:
  struct Run {
    Client* self = nullptr;
    const std::vector<const Captured*>* seq = nullptr;
    size_t* cursor = nullptr;
    bool cycle = false;
    Load load;
    std::vector<Clock::time_point> started;
    std::vector<OpClass> classes;
    Clock::time_point t0, counting_from, stop_at, last_answer;
    uint64_t limit = 0, issued = 0;
    int in_flight = 0;
    bool stopping = false;
  };

  static void Next(Run& r, uint64_t slot) {
    if (r.stopping || r.issued >= r.limit || Clock::now() >= r.stop_at) return;
    if (*r.cursor >= r.seq->size()) {
      if (!r.cycle || r.seq->empty()) return;
      *r.cursor = 0;
    }
    const Captured* q = (*r.seq)[(*r.cursor)++];
    ++r.issued;
    ++r.in_flight;
    r.started[slot] = Clock::now();
    r.classes[slot] = q->cls;
    r.self->pool_->Send(q->wire, {&Done, &r, slot});
  }

  static void Done(void* p, uint64_t slot, HttpOutcome& o) {
    Run& r = *static_cast<Run*>(p);
    --r.in_flight;
    const auto now = Clock::now();
    r.last_answer = now;
    if (now >= r.counting_from && now <= r.stop_at) {
      if (o.status > 0 && o.error.empty()) {
        ++r.load.answered;
        ++r.load.statuses[o.status];
        r.load.bytes += o.body.size();
        const auto c = static_cast<size_t>(r.classes[slot]);
        ++r.load.class_answered[c];
        r.load.class_bytes[c] += o.body.size();
        ++r.load.class_statuses[c][o.status];
        r.load.rt.Record((now - r.started[slot]).count());
      } else {
        ++r.load.failed;
      }
    }
    if (!o.error.empty() && !o.sent) r.stopping = true;  // the broker is gone
    Next(r, slot);
  }

  boost::asio::io_context& io_;
  std::unique_ptr<HttpClientPool> pool_;
  std::string host_;
};

// The per-class counters of GET /metrics?format=json, for differences.
struct Snapshot {
  bool known = false;
  double serving_cpu = 0, notifier_cpu = 0, forwarder_cpu = 0;
  double cpu() const { return serving_cpu + notifier_cpu + forwarder_cpu; }  // the broker's threads
  uint64_t entities = 0, changes = 0, triggered = 0, sent = 0;
  nlohmann::json classes, upper;
  double ClassCount(OpClass c) const { return Field(c, "count"); }
  double Field(OpClass c, const char* key) const {
    const std::string name(OpClassName(c));
    return known && classes.contains(name) ? classes[name].value(key, 0.0) : 0.0;
  }
  double Count(OpClass c, const char* clock) const {
    const std::string name(OpClassName(c));
    return known && classes.contains(name) ? classes[name][clock].value("count", 0.0) : 0.0;
  }
  double Sum(OpClass c, const char* clock) const {
    const std::string name(OpClassName(c));
    return known && classes.contains(name) ? classes[name][clock].value("sum", 0.0) : 0.0;
  }
  uint64_t Requests() const {
    uint64_t n = 0;
    if (!known) return 0;
    for (const auto& [k, v] : classes.items()) n += v.value("count", uint64_t{0});
    return n;
  }
};


Snapshot ParseSnapshot(const std::string& body);
Snapshot Read(Client& client);
// A snapshot through a blocking fetch (while the client's io_context runs elsewhere).
Snapshot ReadBlocking(const std::string& url);
// The mean handler CPU of a class between two snapshots (the CPU clock is sampled: its own count).
double CpuMean(const Snapshot& a, const Snapshot& b, OpClass c);
// The difference of a class's histogram between two snapshots, as (upper bound, count) buckets.
std::vector<std::pair<double, uint64_t>> HistogramDelta(const Snapshot& a, const Snapshot& b, OpClass c, const char* clock);

}  // namespace citybed::app
