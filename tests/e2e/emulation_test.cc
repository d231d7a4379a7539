// End to end: the emulation drives a real broker (the embedded one) and the results agree with
// what the broker itself holds and counts.
#include <boost/asio.hpp>
#include <chrono>
#include <boost/beast.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <thread>

#include "citybed/broker/broker.h"
#include "citybed/common/strings.h"
#include "citybed/models/emulation.h"
#include "citybed/models/placement.h"
#include "citybed/models/protocol.h"
#include "citybed/models/world.h"
#include "citybed/results/recorder.h"

using namespace citybed;
using namespace citybed::models;
namespace json = boost::json;

namespace {

Scenario Load(const std::string& text) {
  auto s = ParseScenario(text, "e2e.json");
  INFO((s ? std::string() : FormatErrors("e2e.json", s.error())));
  REQUIRE(s);
  return std::move(*s);
}

results::RecorderOptions RecorderFor(const Scenario& s) {
  results::RecorderOptions o;
  o.warmup = s.warmup;
  o.duration = s.duration;
  for (const auto& r : s.regions) o.regions.push_back(r.id);
  o.domains = DomainNames();
  return o;
}

// Remembers the last report body written for every entity id.
class RecordingProtocol : public BrokerProtocol {
 public:
  explicit RecordingProtocol(std::unique_ptr<BrokerProtocol> inner) : inner_(std::move(inner)) {}
  // Records the NGSI-LD form of what is written, whatever the API that writes it.
  std::string_view name() const override { return inner_->name(); }
  std::string Write(const EntityUpdate& e, std::string_view tenant) const override {
    std::string body;
    AppendNgsiLdEntity(body, e);
    last_[e.id] = body;
    return inner_->Write(e, tenant);
  }
  std::string Get(std::string_view id, std::string_view t) const override { return inner_->Get(id, t); }
  std::string Query(std::string_view type, std::string_view q, int limit, int offset, bool count,
                    std::string_view t) const override {
    return inner_->Query(type, q, limit, offset, count, t);
  }
  void UseOwnContext(std::string url, std::vector<std::string> own) override { inner_->UseOwnContext(url, own); }
  std::string GeoQuery(std::string_view type, LonLat at, double d, int limit, std::string_view t) const override {
    return inner_->GeoQuery(type, at, d, limit, t);
  }
  std::string Subscribe(const SubscriptionRequest& s, std::string_view t) const override { return inner_->Subscribe(s, t); }
  std::string Version() const override { return inner_->Version(); }
  mutable std::map<std::string, std::string> last_;

 private:
  std::unique_ptr<BrokerProtocol> inner_;
};

double Metric(const std::string& text, const std::string& line_prefix) {
  // Sums the values of the sample lines that start with `line_prefix`.
  double total = 0;
  size_t pos = 0;
  const std::string needle = "\n" + line_prefix;
  while ((pos = text.find(needle, pos)) != std::string::npos) {
    ++pos;
    const size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    total += std::stod(line.substr(line.rfind(' ') + 1));
    pos = end;
  }
  return total;
}

}  // namespace

TEST_CASE("E2E: the broker holds what the sources sent and counts what citybed counted", "[e2e][timing]") {
  Scenario s = Load(R"({
    "name": "e2e", "duration": "10s", "warmup": "0s", "seed": 11,
    "regions": [{"id": "north", "lat": 43.06, "lon": 141.35, "population": 1e6, "radius_km": 5},
                {"id": "south", "lat": 33.59, "lon": 130.42, "population": 1e6, "radius_km": 5}],
    "broker": {"tenancy": "per-region", "connections": 8},
    "network": {"nodes": [{"id": "gw-n"}, {"id": "gw-s"}, {"id": "dc"}],
                "links": [{"from": "gw-n", "to": "dc", "latency": "4ms"}, {"from": "gw-s", "to": "dc", "latency": "6ms"}],
                "broker_node": "dc",
                "access": {"default": {"latency": "1ms"}, "regions": {"north": {"node": "gw-n"}, "south": {"node": "gw-s"}}}},
    "sources": [
      {"kind": "air-quality", "count": 20, "arrival": {"process": "periodic", "period": "1s", "jitter": "200ms"}},
      {"kind": "parking-spot", "count": 30, "arrival": {"process": "poisson", "rate": 0.5}}
    ],
    "users": [
      {"kind": "dashboard", "count": 2, "arrival": {"process": "periodic", "period": "1s"},
       "requests": [{"op": "query", "type": "AirQualityObserved", "q": "no2>0", "count": true}]},
      {"kind": "resident", "count": 3, "arrival": {"process": "poisson", "rate": 2},
       "requests": [{"op": "get", "type": "ParkingSpot", "weight": 2}, {"op": "geo-query", "type": "ParkingSpot", "max_distance": "1km"}]},
      {"kind": "app", "count": 2, "arrival": {"process": "periodic", "period": "5s"},
       "requests": [{"op": "subscribe", "type": "ParkingSpot", "watched": ["status"]}, {"op": "get", "type": "AirQualityObserved"}]}
    ]
  })");
  auto world = World::Build(s);
  REQUIRE(world);
  broker::BrokerOptions bo;
  bo.server.port = 0;
  broker::Broker b(bo);
  REQUIRE(b.Start());
  RecordingProtocol protocol(MakeNgsiLdProtocol(b.url().substr(7)));
  results::Recorder recorder(RecorderFor(s));
  EmulationOptions eo;
  eo.broker_url = b.url();
  const EmulationResult result = RunEmulation(**world, protocol, eo, recorder);
  INFO((result.invalid_reasons.empty() ? std::string() : result.invalid_reasons[0]));
  REQUIRE(result.valid());
  REQUIRE(result.reached_end);
  CHECK(result.failed == 0);
  CHECK(result.sent > 600);

  // 1. Exactly the entities the sources created, each with the last value its source sent.
  size_t created = 0;
  for (const SourceGroup& g : (*world)->sources()) {
    const std::string& region = s.regions[static_cast<size_t>(g.region)].id;
    for (uint32_t i = 0; i < g.count; ++i) created += g.reports[i] > 0 ? 1 : 0;
    (void)region;
  }
  size_t stored = 0;
  for (const std::string tenant : {"north", "south"}) stored += b.store().Count(tenant);
  CHECK(stored == created);
  CHECK(stored == protocol.last_.size());
  int mismatches = 0;
  for (const auto& [id, body] : protocol.last_) {
    const std::string tenant = id.find(":north:") != std::string::npos ? "north" : "south";
    broker::Request get;
    get.method = broker::Method::kGet;
    get.target = "/ngsi-ld/v1/entities/" + id;
    get.SetHeader("NGSILD-Tenant", tenant);
    const broker::Response r = b.Handle(get);
    if (r.status != 200 || json::parse(r.body) != json::parse(body)) ++mismatches;
  }
  CHECK(mismatches == 0);

  // 2. Every notification the broker reports as sent arrived.
  const std::string metrics = b.RenderMetrics();
  const double sent_by_broker = Metric(metrics, "citybed_notifications_sent_total ");
  CHECK(sent_by_broker > 0);
  CHECK(static_cast<double>(result.notifications) == sent_by_broker);
  CHECK(result.notification_errors == 0);

  // 3. Request counts agree with the broker's own counters (warm-up is 0, so all are in).
  const auto& by_op = recorder.all_by_op();
  auto ops = [&](OpKind k) { return static_cast<double>(by_op[static_cast<size_t>(k)]); };
  CHECK(ops(OpKind::kUpsert) == Metric(metrics, R"(citybed_http_requests_total{route="/ngsi-ld/v1/entityOperations/upsert")"));
  CHECK(ops(OpKind::kGet) == Metric(metrics, R"(citybed_http_requests_total{route="/ngsi-ld/v1/entities/{entityId}")"));
  CHECK(ops(OpKind::kQuery) + ops(OpKind::kGeoQuery) ==
        Metric(metrics, R"(citybed_http_requests_total{route="/ngsi-ld/v1/entities",method="GET")"));
  CHECK(ops(OpKind::kSubscribe) == Metric(metrics, R"(citybed_http_requests_total{route="/ngsi-ld/v1/subscriptions")"));
  CHECK(recorder.total().scheduled == recorder.all_scheduled());
  CHECK(recorder.total().sent == recorder.all_scheduled());  // every one reached the broker
  // Besides the workload: the readiness check (GET /version) and the reads of the broker's
  // notification counters (GET /metrics).
  CHECK(static_cast<double>(recorder.all_scheduled()) + 1 ==
        Metric(metrics, "citybed_http_requests_total{") - Metric(metrics, R"(citybed_http_requests_total{route="/metrics")"));
  CHECK(result.broker_notifications.known);
  CHECK(result.broker_notifications.missing == 0);
  CHECK(static_cast<double>(result.broker_notifications.triggered) == sent_by_broker);
  b.Stop();
}

TEST_CASE("E2E: a region speaking NGSI-v2 and one speaking NGSI-LD drive one broker, and it holds, notifies and counts the same",
          "[e2e][timing][ngsiv2]") {
  Scenario s = Load(R"({
    "name": "e2e-v2", "duration": "8s", "warmup": "0s", "seed": 12,
    "regions": [{"id": "north", "lat": 43.06, "lon": 141.35, "population": 1e6, "radius_km": 5, "api": "ngsi-v2"},
                {"id": "south", "lat": 33.59, "lon": 130.42, "population": 1e6, "radius_km": 5}],
    "broker": {"tenancy": "per-region", "connections": 8},
    "sources": [
      {"kind": "air-quality", "count": 20, "arrival": {"process": "periodic", "period": "1s", "jitter": "200ms"}},
      {"kind": "parking-spot", "count": 30, "arrival": {"process": "poisson", "rate": 0.5}}
    ],
    "users": [
      {"kind": "dashboard", "count": 2, "arrival": {"process": "periodic", "period": "1s"},
       "requests": [{"op": "query", "type": "ParkingSpot", "q": "status==\"free\"", "count": true}]},
      {"kind": "resident", "count": 3, "arrival": {"process": "poisson", "rate": 2},
       "requests": [{"op": "get", "type": "ParkingSpot", "weight": 2}, {"op": "geo-query", "type": "ParkingSpot", "max_distance": "1km"}]},
      {"kind": "app", "count": 2, "arrival": {"process": "periodic", "period": "5s"},
       "requests": [{"op": "subscribe", "type": "ParkingSpot", "watched": ["status"]}, {"op": "get", "type": "AirQualityObserved"}]}
    ]
  })");
  auto world = World::Build(s);
  REQUIRE(world);
  REQUIRE((*world)->regions()[0].api == BrokerApi::kNgsiV2);
  REQUIRE((*world)->regions()[1].api == BrokerApi::kNgsiLd);
  broker::BrokerOptions bo;
  bo.server.port = 0;
  broker::Broker b(bo);
  REQUIRE(b.Start());
  RecordingProtocol ld(MakeNgsiLdProtocol(b.url().substr(7)));
  RecordingProtocol v2(MakeNgsiV2Protocol(b.url().substr(7)));
  results::Recorder recorder(RecorderFor(s));
  EmulationOptions eo;
  eo.broker_url = b.url();
  const EmulationResult result = RunEmulation(**world, Protocols(ld, v2, BrokerApi::kNgsiLd), eo, recorder);
  INFO((result.invalid_reasons.empty() ? std::string() : result.invalid_reasons[0]));
  REQUIRE(result.valid());
  REQUIRE(result.reached_end);
  CHECK(result.failed == 0);
  CHECK(result.subscriptions_failed == 0);

  // 1. The north's entities came through v2, the south's through LD; read through NGSI-LD, each
  // is exactly the NGSI-LD form of the last report its source made.
  CHECK(v2.last_.size() > 0);
  CHECK(ld.last_.size() > 0);
  for (const auto& [id, body] : v2.last_) CHECK(id.find(":north:") != std::string::npos);
  for (const auto& [id, body] : ld.last_) CHECK(id.find(":south:") != std::string::npos);
  CHECK(b.store().Count("north") == v2.last_.size());
  CHECK(b.store().Count("south") == ld.last_.size());
  int mismatches = 0;
  for (const auto* written : {&v2.last_, &ld.last_}) {
    for (const auto& [id, body] : *written) {
      broker::Request get;
      get.method = broker::Method::kGet;
      get.target = "/ngsi-ld/v1/entities/" + id;
      get.SetHeader("NGSILD-Tenant", id.find(":north:") != std::string::npos ? "north" : "south");
      const broker::Response r = b.Handle(get);
      if (r.status != 200 || json::parse(r.body) != json::parse(body)) ++mismatches;
    }
  }
  CHECK(mismatches == 0);

  // 2. Notifications of both formats arrived, as many as the broker sent.
  const std::string metrics = b.RenderMetrics();
  const double sent_by_broker = Metric(metrics, "citybed_notifications_sent_total ");
  CHECK(sent_by_broker > 0);
  CHECK(static_cast<double>(result.notifications) == sent_by_broker);
  CHECK(result.notification_errors == 0);
  CHECK(result.broker_notifications.missing == 0);

  // 3. Requests per operation agree with the broker's counters, v2 routes and LD routes together.
  const auto& by_op = recorder.all_by_op();
  auto ops = [&](OpKind k) { return static_cast<double>(by_op[static_cast<size_t>(k)]); };
  auto route = [&](const std::string& r) { return Metric(metrics, "citybed_http_requests_total{route=\"" + r + "\""); };
  CHECK(route("/v2/op/update") > 0);
  CHECK(route("/v2/entities\",method=\"GET") > 0);
  CHECK(route("/v2/subscriptions\",method=\"POST") > 0);
  CHECK(ops(OpKind::kUpsert) == route("/ngsi-ld/v1/entityOperations/upsert") + route("/v2/op/update"));
  CHECK(ops(OpKind::kGet) == route("/ngsi-ld/v1/entities/{entityId}") + route("/v2/entities/{entityId}"));
  CHECK(ops(OpKind::kQuery) + ops(OpKind::kGeoQuery) ==
        route("/ngsi-ld/v1/entities\",method=\"GET") + route("/v2/entities\",method=\"GET"));
  CHECK(ops(OpKind::kSubscribe) == route("/ngsi-ld/v1/subscriptions") + route("/v2/subscriptions"));
  CHECK(static_cast<double>(recorder.all_scheduled()) + 1 ==
        Metric(metrics, "citybed_http_requests_total{") - route("/metrics"));
  b.Stop();
}

TEST_CASE("E2E: runs one after the other against the same broker keep their subscriptions apart", "[e2e][timing]") {
  Scenario s = Load(R"({
    "name": "twice", "duration": "3s", "warmup": "0s", "seed": 5,
    "regions": [{"id": "a", "lat": 35.68, "lon": 139.77, "population": 1e5, "radius_km": 3}],
    "sources": [{"kind": "parking-spot", "count": 20, "arrival": {"process": "periodic", "period": "500ms"}}],
    "users": [{"kind": "app", "count": 2, "arrival": {"process": "periodic", "period": "1s"},
               "requests": [{"op": "subscribe", "type": "ParkingSpot"}, {"op": "get", "type": "ParkingSpot"}]}]
  })");
  broker::BrokerOptions bo;
  bo.server.port = 0;
  broker::Broker b(bo);
  REQUIRE(b.Start());
  const int64_t before = std::chrono::duration_cast<std::chrono::microseconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count();
  for (int run = 0; run < 2; ++run) {
    auto world = World::Build(s);  // the same scenario and seed: the same workload
    REQUIRE(world);
    auto protocol = MakeNgsiLdProtocol(b.url().substr(7));
    results::Recorder recorder(RecorderFor(s));
    EmulationOptions eo;
    eo.broker_url = b.url();
    const EmulationResult result = RunEmulation(**world, *protocol, eo, recorder);
    INFO("run " << run);
    REQUIRE(result.valid());
    CHECK(result.subscriptions == 2);
    CHECK(result.subscriptions_failed == 0);  // the same ids again would be 409 AlreadyExists
    CHECK(result.notifications > 0);          // and the first run's receiver would get them
    CHECK(result.notification_errors == 0);
  }
  // Both runs' subscriptions are there, each expiring shortly after its run: 3 s at speed 1,
  // plus the drain bound (the broker timeout) and a second or two.
  broker::Request list;
  list.method = broker::Method::kGet;
  list.target = "/ngsi-ld/v1/subscriptions?limit=100";
  const broker::Response r = b.Handle(list);
  REQUIRE(r.status == 200);
  const json::array subs = json::parse(r.body).as_array();
  REQUIRE(subs.size() == 4);
  std::set<std::string> ids;
  for (const json::value& v : subs) {
    ids.insert(std::string(v.at("id").as_string()));
    const auto expires = ParseRfc3339Micros(v.at("expiresAt").as_string());
    REQUIRE(expires);
    CHECK(*expires > before);
    CHECK(*expires < before + static_cast<int64_t>((2 * 3 + s.broker.timeout.seconds() + 10) * 1e6));
  }
  CHECK(ids.size() == 4);
  b.Stop();
}

namespace {

// A deliberately slow server: one request at a time on each connection, answered after 20 ms.
class SlowServer {
 public:
  SlowServer() : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SlowServer() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    explicit Session(boost::asio::ip::tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
    boost::asio::ip::tcp::socket socket;
    boost::asio::steady_timer timer;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> req;
    boost::beast::http::response<boost::beast::http::string_body> res;
    void Read() {
      req = {};
      boost::beast::http::async_read(socket, buffer, req, [self = shared_from_this()](auto ec, size_t) {
        if (ec) return;
        self->timer.expires_after(std::chrono::milliseconds(20));
        self->timer.async_wait([self](auto) {
          self->res = {};
          self->res.version(11);
          self->res.result(self->req.target() == "/version" ? 200 : 204);
          if (self->req.target() == "/version") self->res.body() = "{}";
          self->res.prepare_payload();
          boost::beast::http::async_write(self->socket, self->res, [self](auto e, size_t) {
            if (!e) self->Read();
          });
        });
      });
    }
  };
  void Accept() {
    acceptor_.async_accept([this](auto ec, boost::asio::ip::tcp::socket s) {
      if (ec) return;
      std::make_shared<Session>(std::move(s))->Read();
      Accept();
    });
  }
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

}  // namespace

TEST_CASE("E2E: against a slow server latency grows with the queue while the send rate holds", "[e2e][timing]") {
  SlowServer slow;
  // 100 requests/s offered to a server that does 50/s on the one connection allowed.
  Scenario s = Load(R"({
    "name": "openloop", "duration": "3s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "broker": {"connections": 1, "timeout": "30s"},
    "sources": [{"kind": "weather", "count": 100, "arrival": {"process": "periodic", "period": "1s"}}]
  })");
  auto world = World::Build(s);
  REQUIRE(world);
  auto protocol = MakeNgsiLdProtocol("127.0.0.1:" + std::to_string(slow.port()));
  results::Recorder recorder(RecorderFor(s));
  EmulationOptions eo;
  eo.broker_url = "http://127.0.0.1:" + std::to_string(slow.port());
  const EmulationResult result = RunEmulation(**world, *protocol, eo, recorder);
  // Every request was sent on schedule: 100 sources x 3 reports, whatever was outstanding.
  CHECK(result.sent == 300);
  CHECK(result.max_outstanding > 100);
  // The generator kept pace: the slowness is the server's, so the run is a valid measurement.
  CHECK(result.executor.valid);
  // Latency is measured from the intended send time: the last requests waited ~3 s in queue.
  const auto& lat = recorder.total().latency;
  CHECK(lat.Count() == 300);
  CHECK(lat.ValueAtPercentile(50) > 1'000'000'000);
  CHECK(lat.Max() > 2'500'000'000);
  CHECK(lat.Min() < 100'000'000);
  CHECK(result.pool_wait.Max() > 2'000'000'000);
}

namespace {
// Stops the broker after some requests succeeded, from the emulation's own thread.
class StopAfter : public RunObserver {
 public:
  StopAfter(RunObserver& inner, broker::Broker& b, int n) : inner_(inner), broker_(b), left_(n) {}
  void OnRequest(const RequestRecord& r) override {
    inner_.OnRequest(r);
    if (r.ok() && --left_ == 0) broker_.Stop();
  }
  void OnNotification(const NotificationRecord& n) override { inner_.OnNotification(n); }

 private:
  RunObserver& inner_;
  broker::Broker& broker_;
  int left_;
};
}  // namespace

TEST_CASE("E2E: a broker that disappears ends the run with the errors recorded", "[e2e][timing]") {
  Scenario s = Load(R"({
    "name": "lost", "duration": "60s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "sources": [{"kind": "weather", "count": 200, "arrival": {"process": "periodic", "period": "1s"}}]
  })");
  auto world = World::Build(s);
  REQUIRE(world);
  broker::BrokerOptions bo;
  bo.server.port = 0;
  bo.shutdown_grace = std::chrono::milliseconds(100);
  broker::Broker b(bo);
  REQUIRE(b.Start());
  auto protocol = MakeNgsiLdProtocol(b.url().substr(7));
  results::Recorder recorder(RecorderFor(s));
  StopAfter observer(recorder, b, 300);
  EmulationOptions eo;
  eo.broker_url = b.url();
  const auto t0 = std::chrono::steady_clock::now();
  const EmulationResult result = RunEmulation(**world, *protocol, eo, observer);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(30));  // not the full minute
  CHECK(result.broker_lost);
  CHECK_FALSE(result.valid());
  CHECK_FALSE(result.reached_end);
  REQUIRE_FALSE(result.invalid_reasons.empty());
  CHECK_THAT(result.invalid_reasons[0], Catch::Contains("stopped answering"));
  CHECK(recorder.total().failed() >= 100);
  CHECK(recorder.total().transport.count("connection refused") == 1);
}

TEST_CASE("E2E: an unreachable broker is reported before anything is sent", "[e2e][timing]") {
  Scenario s = Load(R"({"name": "none", "duration": "5s",
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "sources": [{"kind": "weather", "count": 1, "arrival": {"process": "periodic", "period": "1s"}}]})");
  auto world = World::Build(s);
  REQUIRE(world);
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor probe(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const std::string url = "http://127.0.0.1:" + std::to_string(probe.local_endpoint().port());
  probe.close();
  auto protocol = MakeNgsiLdProtocol(url.substr(7));
  results::Recorder recorder(RecorderFor(s));
  EmulationOptions eo;
  eo.broker_url = url;
  const EmulationResult result = RunEmulation(**world, *protocol, eo, recorder);
  CHECK(result.broker_lost);
  CHECK(result.sent == 0);
  REQUIRE_FALSE(result.invalid_reasons.empty());
  CHECK_THAT(result.invalid_reasons[0], Catch::Contains("does not answer GET /version"));
}

TEST_CASE("E2E: notifications the broker dropped are counted as missing, not silently lost", "[e2e][timing]") {
  // A broker whose notification queue holds one job: most notifications of a burst are dropped.
  Scenario s = Load(R"({"name": "drops", "duration": "4s", "seed": 3,
    "regions": [{"id": "a", "lat": 35, "lon": 139, "population": 1000}],
    "sources": [{"kind": "parking-spot", "count": 300, "arrival": {"process": "periodic", "period": "1s"}}],
    "users": [{"kind": "app", "count": 3, "arrival": {"process": "periodic", "period": "1h"},
               "requests": [{"op": "subscribe", "type": "ParkingSpot"}]}]})");
  auto world = World::Build(s);
  REQUIRE(world);
  broker::BrokerOptions bo;
  bo.server.port = 0;
  bo.notifier.queue_capacity = 1;
  broker::Broker b(bo);
  REQUIRE(b.Start());
  auto protocol = MakeNgsiLdProtocol(b.url().substr(7));
  results::Recorder recorder(RecorderFor(s));
  EmulationOptions eo;
  eo.broker_url = b.url();
  const EmulationResult result = RunEmulation(**world, *protocol, eo, recorder);
  REQUIRE(result.reached_end);
  const NotificationAccount& a = result.broker_notifications;
  REQUIRE(a.known);
  const double dropped = Metric(b.RenderMetrics(), "citybed_notifications_dropped_total ");
  CHECK(a.dropped == static_cast<uint64_t>(dropped));
  CHECK(a.dropped > 100);
  CHECK(a.triggered == a.sent + a.failed + a.dropped);
  CHECK(a.missing == a.triggered - result.notifications);
  CHECK(a.missing >= a.dropped);
  b.Stop();
}

TEST_CASE("E2E: regions spread over two broker instances: each region's data and subscriptions at its instance only",
          "[e2e][timing][instances]") {
  // Four regions of unequal demand on two instances, placed "balanced": the biggest region
  // alone on one instance, the three others on the other.
  Scenario s = Load(R"({
    "name": "e2e-instances", "duration": "6s", "warmup": "0s", "seed": 5,
    "regions": [{"id": "big", "lat": 35.68, "lon": 139.76, "population": 1e6, "radius_km": 5},
                {"id": "s1", "lat": 34.69, "lon": 135.50, "population": 1e5, "radius_km": 5},
                {"id": "s2", "lat": 43.06, "lon": 141.35, "population": 1e5, "radius_km": 5},
                {"id": "s3", "lat": 33.59, "lon": 130.42, "population": 1e5, "radius_km": 5}],
    "broker": {"tenancy": "per-region", "connections": 4, "instances": 2, "placement": "balanced"},
    "sources": [
      {"kind": "air-quality", "regions": ["big"], "count": 30, "arrival": {"process": "periodic", "period": "1s"}},
      {"kind": "air-quality", "regions": ["s1", "s2", "s3"], "count": 8, "arrival": {"process": "periodic", "period": "1s"}},
      {"kind": "parking-spot", "count": 5, "arrival": {"process": "poisson", "rate": 0.5}}
    ],
    "users": [
      {"kind": "resident", "count": 2, "arrival": {"process": "poisson", "rate": 1},
       "requests": [{"op": "get", "type": "ParkingSpot"}, {"op": "query", "type": "AirQualityObserved", "count": true}]},
      {"kind": "app", "count": 1, "arrival": {"process": "periodic", "period": "2s"},
       "requests": [{"op": "subscribe", "type": "ParkingSpot"}, {"op": "get", "type": "AirQualityObserved"}]}
    ]
  })");
  auto world = World::Build(s);
  REQUIRE(world);
  const std::vector<int> of = PlaceRegions(**world, 2, Placement::kBalanced);
  REQUIRE(of == std::vector<int>{0, 1, 1, 1});
  std::vector<std::unique_ptr<broker::Broker>> brokers;
  EmulationOptions eo;
  for (int i = 0; i < 2; ++i) {
    broker::BrokerOptions bo;
    bo.server.port = 0;
    brokers.push_back(std::make_unique<broker::Broker>(bo));
    REQUIRE(brokers.back()->Start());
    eo.site_urls.push_back(brokers.back()->url());
  }
  eo.broker_url = eo.site_urls.front();
  auto protocol = MakeNgsiLdProtocol(brokers.front()->url().substr(7));
  results::Recorder recorder(RecorderFor(s));
  const EmulationResult result = RunEmulation(**world, *protocol, eo, recorder);
  INFO((result.invalid_reasons.empty() ? std::string() : result.invalid_reasons[0]));
  REQUIRE(result.valid());
  CHECK(result.failed == 0);

  // Every region's entities are at its instance, and none at the other.
  for (size_t r = 0; r < s.regions.size(); ++r) {
    size_t created = 0;
    for (const SourceGroup& g : (*world)->sources()) {
      if (static_cast<size_t>(g.region) != r) continue;
      for (uint32_t i = 0; i < g.count; ++i) created += g.reports[i] > 0 ? 1 : 0;
    }
    const std::string& tenant = s.regions[r].id;
    INFO("region " << tenant);
    CHECK(created > 0);
    CHECK(brokers[static_cast<size_t>(of[r])]->store().Count(tenant) == created);
    CHECK(brokers[static_cast<size_t>(1 - of[r])]->store().Count(tenant) == 0);
  }
  // Both instances served; the requests they counted add up to the workload's; the
  // notifications each triggered arrived (the counters are read from both).
  double requests = 0, notified = 0;
  for (const auto& b : brokers) {
    const std::string metrics = b->RenderMetrics();
    const double served = Metric(metrics, "citybed_http_requests_total{") - Metric(metrics, R"(citybed_http_requests_total{route="/metrics")") - 1;
    CHECK(served > 0);
    requests += served;
    notified += Metric(metrics, "citybed_notifications_sent_total ");
  }
  CHECK(requests == static_cast<double>(recorder.all_scheduled()));
  CHECK(notified > 0);
  CHECK(static_cast<double>(result.notifications) == notified);
  CHECK(result.broker_notifications.known);
  CHECK(static_cast<double>(result.broker_notifications.triggered) == notified);
  CHECK(result.broker_notifications.missing == 0);
  for (auto& b : brokers) b->Stop();
}
