// federation_bench: what a federation of embedded brokers costs (docs/performance.md).
//
//   build/bin/federation_bench [--brokers 100] [--queries 300] [--seconds 5] [--concurrency 8]
//
// 1. Memory: the resident memory of `brokers` idle embedded brokers started in this process,
//    per broker (RSS after − before, / brokers).
// 2. Fan-out overhead: a hub registers every region broker (each holds 5 entities of its own
//    type prefix, all of type Room, and its area); a national query (type=Room, limit=1000) from
//    the hub reaches all of them over loopback with no simulated delay, so its whole latency is
//    citybed's and the brokers' own work. Reported beside the same query answered locally by
//    one broker holding as many entities: p50 and p99 of `queries` sequential queries each.
// 3. Forwarding throughput of the hub on its one serving thread: closed-loop clients
//    (`concurrency` requests in flight) for `seconds`, retrieving entities by id — each
//    forwarded to the one region broker whose registration names the id — against the same
//    retrieves of local entities.
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "citybed/broker/broker.h"
#include "citybed/common/http_client.h"
#include "citybed/common/http_fetch.h"

using namespace citybed;
using Clock = std::chrono::steady_clock;

namespace {

double RssMiB() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

broker::BrokerOptions Options(const std::string& name) {
  broker::BrokerOptions o;
  o.server.port = 0;
  o.via_name = name;
  o.api.forward_timeout = std::chrono::milliseconds(5000);
  return o;
}

FetchResult Call(const std::string& method, const std::string& url, const std::string& body = "") {
  FetchRequest r;
  r.method = method;
  r.url = url;
  r.body = body;
  r.has_body = !body.empty();
  if (!body.empty()) r.headers.push_back({"Content-Type", "application/json"});
  r.timeout = std::chrono::milliseconds(20000);
  auto res = Fetch(r);
  if (!res) {
    std::fprintf(stderr, "federation_bench: %s %s: %s\n", method.c_str(), url.c_str(), res.error().message.c_str());
    std::exit(1);
  }
  return *res;
}

std::string Room(const std::string& id, double lon, double lat) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                R"({"id":"%s","type":"Room","temperature":{"type":"Property","value":21.5,"observedAt":"2026-07-01T10:00:00Z"},)"
                R"("location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[%.5f,%.5f]}}})",
                id.c_str(), lon, lat);
  return buf;
}

struct Percentiles {
  double p50 = 0, p99 = 0;
};

Percentiles Measure(const std::string& url, int n) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    const FetchResult r = Call("GET", url);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (r.status != 200) {
      std::fprintf(stderr, "federation_bench: %s answered %d\n", url.c_str(), r.status);
      std::exit(1);
    }
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, static_cast<size_t>(ms.size() * 0.99))]};
}

// Closed loop: `concurrency` GETs in flight on keep-alive connections, for `seconds`.
double Throughput(const std::string& host, const std::string& port, const std::vector<std::string>& targets,
                  int concurrency, double seconds) {
  boost::asio::io_context io;
  HttpClientOptions o;
  o.host = host;
  o.port = port;
  o.connections = concurrency;
  o.timeout = std::chrono::milliseconds(20000);
  HttpClientPool pool(io, o);
  struct State {
    boost::asio::io_context* io;
    HttpClientPool* pool;
    const std::vector<std::string>* targets;
    std::string host;
    Clock::time_point end;
    uint64_t done = 0, failed = 0, next = 0;
    int in_flight = 0;
  } st{&io, &pool, &targets, host + ":" + port,
       Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds))};
  const auto start = Clock::now();
  struct Loop {
    static void Done(void* c, uint64_t, HttpOutcome& out) {
      auto* s = static_cast<State*>(c);
      --s->in_flight;
      (out.ok() ? s->done : s->failed)++;
      if (Clock::now() < s->end) {
        Send(s);
      } else if (s->in_flight == 0) {
        boost::asio::post(*s->io, [s] { s->pool->Shutdown(); });  // the io_context's run() then returns
      }
    }
    static void Send(State* s) {
      ++s->in_flight;
      const std::string& t = (*s->targets)[s->next++ % s->targets->size()];
      s->pool->Send(FormatRequest("GET", t, s->host, "", "", ""), HttpCompletion{&Loop::Done, s, 0});
    }
  };
  for (int i = 0; i < concurrency; ++i) Loop::Send(&st);
  io.run();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  if (st.failed > 0) std::fprintf(stderr, "federation_bench: %llu requests failed\n", static_cast<unsigned long long>(st.failed));
  return static_cast<double>(st.done) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  int brokers = 100, queries = 300, concurrency = 8;
  double seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--brokers")) brokers = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--queries")) queries = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--concurrency")) concurrency = std::atoi(argv[i + 1]);
  }

  // 1. Idle brokers.
  const double before = RssMiB();
  std::vector<std::unique_ptr<broker::Broker>> regions;
  for (int i = 0; i < brokers; ++i) {
    regions.push_back(std::make_unique<broker::Broker>(Options("region-" + std::to_string(i))));
    if (!regions.back()->Start()) return 1;
  }
  const double after = RssMiB();
  std::printf("idle brokers: %d, RSS %.1f MiB -> %.1f MiB: %.2f MiB per broker\n", brokers, before, after,
              (after - before) / brokers);

  // 2. A hub over every region; 5 entities per region.
  auto hub = std::make_unique<broker::Broker>(Options("national"));
  if (!hub->Start()) return 1;
  auto local = std::make_unique<broker::Broker>(Options("local"));
  if (!local->Start()) return 1;
  for (int i = 0; i < brokers; ++i) {
    const double lon = 130 + (i % 10), lat = 32 + (i / 10) * 0.5;
    for (int k = 0; k < 5; ++k) {
      const std::string id = "urn:ngsi-ld:Room:r" + std::to_string(i) + ":" + std::to_string(k);
      Call("POST", regions[static_cast<size_t>(i)]->url() + "/ngsi-ld/v1/entities", Room(id, lon + k * 0.001, lat));
      Call("POST", local->url() + "/ngsi-ld/v1/entities", Room(id, lon + k * 0.001, lat));
    }
    char reg[1024];
    std::snprintf(reg, sizeof reg,
                  R"({"type":"ContextSourceRegistration","information":[{"entities":[{"type":"Room","idPattern":"urn:ngsi-ld:Room:r%d:.*"}]}],)"
                  R"("endpoint":"%s","contextSourceAlias":"region-%d","location":{"type":"Polygon","coordinates":[[[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f],[%.3f,%.3f]]]}})",
                  i, regions[static_cast<size_t>(i)]->url().c_str(), i, lon - 0.1, lat - 0.1, lon + 0.1, lat - 0.1, lon + 0.1,
                  lat + 0.1, lon - 0.1, lat + 0.1, lon - 0.1, lat - 0.1);
    if (Call("POST", hub->url() + "/ngsi-ld/v1/csourceRegistrations", reg).status != 201) return 1;
  }
  const std::string national = hub->url() + "/ngsi-ld/v1/entities?type=Room&limit=1000&count=true";
  const FetchResult check = Call("GET", national);
  if (check.Get("NGSILD-Results-Count") != std::to_string(brokers * 5)) {
    std::fprintf(stderr, "federation_bench: the national query counted %s, not %d\n", check.Get("NGSILD-Results-Count").c_str(),
                 brokers * 5);
    return 1;
  }
  auto regions_cpu = [&] {
    double sum = 0;
    for (const auto& b : regions) sum += b->CpuSeconds();
    return sum;
  };
  const double hub_cpu0 = hub->CpuSeconds(), fwd_cpu0 = hub->forwarder().CpuSeconds(), regions_cpu0 = regions_cpu();
  const Percentiles fed = Measure(national, queries);
  // Where the national query's time goes, in CPU time per query: the hub's threads (serving,
  // forwarder) and the region brokers (on this machine they share its cores; in a rollout each
  // region is on its own, answering in parallel).
  const double hub_ms = (hub->CpuSeconds() - hub_cpu0) * 1e3 / queries;
  const double fwd_ms = (hub->forwarder().CpuSeconds() - fwd_cpu0) * 1e3 / queries;
  const double region_ms = (regions_cpu() - regions_cpu0) * 1e3 / queries / brokers;
  const Percentiles loc = Measure(local->url() + "/ngsi-ld/v1/entities?type=Room&limit=1000&count=true", queries);
  std::printf("national query over %d brokers (%d entities): p50 %.2f ms, p99 %.2f ms\n", brokers, brokers * 5, fed.p50,
              fed.p99);
  std::printf("the same query on one broker holding them all: p50 %.2f ms, p99 %.2f ms\n", loc.p50, loc.p99);
  std::printf("fan-out overhead (zero backbone delay): p50 %+.2f ms, p99 %+.2f ms\n", fed.p50 - loc.p50, fed.p99 - loc.p99);
  std::printf("CPU per national query (mean of %d): hub %.2f ms (of which its forwarder thread %.2f ms), each region broker %.3f ms\n",
              queries, hub_ms, fwd_ms, region_ms);

  // 3. Hub throughput: forwarded retrieves against local ones.
  std::vector<std::string> forwarded, at_home;
  for (int i = 0; i < brokers; ++i) {
    for (int k = 0; k < 5; ++k) {
      const std::string id = "urn:ngsi-ld:Room:r" + std::to_string(i) + ":" + std::to_string(k);
      forwarded.push_back("/ngsi-ld/v1/entities/" + id);
      Call("POST", hub->url() + "/ngsi-ld/v1/entities", Room("urn:ngsi-ld:Room:hub:" + std::to_string(i * 5 + k), 139.7, 35.7));
      at_home.push_back("/ngsi-ld/v1/entities/urn:ngsi-ld:Room:hub:" + std::to_string(i * 5 + k));
    }
  }
  const std::string port = std::to_string(hub->port());
  const double fwd = Throughput("127.0.0.1", port, forwarded, concurrency, seconds);
  const double own = Throughput("127.0.0.1", port, at_home, concurrency, seconds);
  std::printf("hub retrieves per wall second, %d in flight, %.0f s each: forwarded %.0f, local %.0f (ratio %.3f)\n", concurrency,
              seconds, fwd, own, own > 0 ? fwd / own : 0);
  const auto f = hub->forwarder().Counters();
  std::printf("hub forwarder: %llu sent, %llu answered, %llu failed\n", static_cast<unsigned long long>(f.sent),
              static_cast<unsigned long long>(f.answered), static_cast<unsigned long long>(f.failed));
  hub->Stop();
  local->Stop();
  for (auto& b : regions) b->Stop();
  return 0;
}
