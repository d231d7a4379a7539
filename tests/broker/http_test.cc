// The broker over real sockets on 127.0.0.1 (ephemeral ports): HTTP limits and timeouts,
// keep-alive and pipelining, notifications to a local receiver with retries, remote contexts,
// and shutdown. Every wait is bounded.
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio.hpp>
#include <cmath>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <atomic>
#include <thread>

#include "citybed/common/http_fetch.h"
#include "receiver.h"
using citybed::testing::Receiver;
#include "test_util.h"

using namespace citybed::broker;
using namespace citybed::broker::testing;
using citybed::Fetch;
using citybed::FetchRequest;
using citybed::FetchResult;
using citybed::HttpField;
namespace json = boost::json;
using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

BrokerOptions TestOptions() {
  BrokerOptions o;
  o.server.port = 0;
  o.server.threads = 2;
  o.server.header_timeout = 300ms;
  o.server.idle_timeout = 400ms;
  o.server.max_body_bytes = 4096;
  o.notifier.first_backoff = 10ms;
  o.notifier.timeout = 2000ms;
  o.shutdown_grace = 2000ms;
  return o;
}

// GET `path` from a bare HttpServer on loopback.
FetchResult GetFrom(const HttpServer& server, const std::string& path) {
  FetchRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(server.port()) + path;
  req.timeout = 20000ms;
  auto r = Fetch(req);
  REQUIRE(r);
  return *r;
}

struct Running {
  Broker broker;
  explicit Running(BrokerOptions o = TestOptions()) : broker(std::move(o)) { REQUIRE(broker.Start()); }
  FetchResult Call(Method m, const std::string& path, const std::string& body = "", std::vector<HttpField> headers = {}) {
    if (!body.empty()) headers.push_back({"Content-Type", "application/json"});
    FetchRequest req;
    req.method = std::string(ToString(m));
    req.url = broker.url() + path;
    req.headers = std::move(headers);
    req.body = body;
    req.has_body = m == Method::kPost || m == Method::kPut || m == Method::kPatch;
    req.timeout = 5000ms;
    auto r = Fetch(req);
    REQUIRE(r);
    return *r;
  }
};

// A raw client socket whose reads give up after 5 s.
struct Raw {
  boost::asio::io_context io;
  tcp::socket socket{io};
  explicit Raw(uint16_t port) {
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
    timeval tv{5, 0};
    setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void Send(const std::string& s) { boost::asio::write(socket, boost::asio::buffer(s)); }
  // Asio's blocking reads wait in poll() without a timeout (SO_RCVTIMEO does not bound them):
  // wait here, at most 5 s, so that a broker that never answers fails the test instead of
  // hanging it.
  bool Readable() {
    pollfd p{socket.native_handle(), POLLIN, 0};
    return ::poll(&p, 1, 5000) > 0;
  }
  // Reads until the peer closes or `want` occurrences of "HTTP/1.1 " arrived.
  std::string ReadResponses(int want) {
    std::string all;
    char buf[4096];
    while (true) {
      boost::system::error_code ec;
      if (!Readable()) break;
      const size_t n = socket.read_some(boost::asio::buffer(buf), ec);
      if (ec) break;
      all.append(buf, n);
      int count = 0;
      for (size_t p = all.find("HTTP/1.1 "); p != std::string::npos; p = all.find("HTTP/1.1 ", p + 1)) ++count;
      if (count >= want && all.size() > 0 && want > 0) {
        // Stop once the last response's body is complete (Content-Length or 204).
        const size_t last = all.rfind("HTTP/1.1 ");
        const size_t end_headers = all.find("\r\n\r\n", last);
        if (end_headers != std::string::npos) {
          const size_t cl = all.find("Content-Length: ", last);
          size_t body = 0;
          if (cl != std::string::npos && cl < end_headers) body = std::stoul(all.substr(cl + 16));
          if (all.size() >= end_headers + 4 + body) break;
        }
      }
    }
    return all;
  }
  // True if the server closed the connection (EOF) before the read timeout.
  bool ClosedByPeer() {
    char buf[256];
    boost::system::error_code ec;
    while (true) {
      if (!Readable()) return false;
      socket.read_some(boost::asio::buffer(buf), ec);
      if (ec) return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
    }
  }
};

}  // namespace

TEST_CASE("HTTP: the broker answers over keep-alive connections and pipelines in order", "[broker][http]") {
  Running b;
  auto v = b.Call(Method::kGet, "/version");
  CHECK(v.status == 200);
  CHECK(json::parse(v.body).at("broker") == json::value("citybed"));
  Raw raw(b.broker.port());
  raw.Send("GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /ngsi-ld/v1/entities/urn:x:1 HTTP/1.1\r\nHost: x\r\n\r\n"
           "GET /version HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string all = raw.ReadResponses(3);
  const size_t a = all.find("HTTP/1.1 200"), nf = all.find("HTTP/1.1 404"), c = all.rfind("HTTP/1.1 200");
  REQUIRE(a != std::string::npos);
  REQUIRE(nf != std::string::npos);
  CHECK(a < nf);
  CHECK(nf < c);
  CHECK(all.find("ResourceNotFound") != std::string::npos);
}

TEST_CASE("HTTP: a body over the limit gets 413 and a problem document", "[broker][http]") {
  Running b;
  const std::string big = "[" + std::string(5000, ' ') + "]";
  auto r = b.Call(Method::kPost, "/ngsi-ld/v1/entityOperations/upsert", big);
  CHECK(r.status == 413);
  CHECK(json::parse(r.body).at("status") == json::value(413));
  CHECK(b.Call(Method::kGet, "/health").status == 200);  // the broker is fine
}

TEST_CASE("HTTP: malformed requests get 400 and huge headers 431", "[broker][http]") {
  Running b;
  {
    Raw raw(b.broker.port());
    raw.Send("THIS IS NOT HTTP\r\n\r\n");
    CHECK(raw.ReadResponses(1).find("HTTP/1.1 400") != std::string::npos);
  }
  {
    Raw raw(b.broker.port());
    raw.Send("GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
    CHECK(raw.ReadResponses(1).find("HTTP/1.1 431") != std::string::npos);
  }
}

TEST_CASE("HTTP: slow and idle connections are closed by their timeouts", "[broker][http][timing]") {
  Running b;
  const auto t0 = std::chrono::steady_clock::now();
  Raw slow(b.broker.port());
  slow.Send("GET /health HTTP/1.1\r\nHo");  // never finishes the header
  CHECK(slow.ClosedByPeer());
  Raw idle(b.broker.port());
  CHECK(idle.ClosedByPeer());
  const auto waited = std::chrono::steady_clock::now() - t0;
  CHECK(waited < 4s);  // well before the 5 s read bound: the server closed them
  Response m;
  Request req = Make(Method::kGet, "/metrics");
  m = b.broker.Handle(req);
  CHECK_THAT(m.body, Catch::Contains("citybed_http_timeouts_total 2"));
}

TEST_CASE("HTTP: notifications reach the subscriber with the NGSI-LD envelope", "[broker][http]") {
  Receiver receiver;
  Running b;
  const std::string sub = R"({"type":"Subscription","entities":[{"type":"Room"}],"watchedAttributes":["temperature"],
      "notification":{"format":"keyValues","attributes":["temperature"],"endpoint":{"uri":")" + receiver.url("/notify") + R"("}}})";
  auto created = b.Call(Method::kPost, "/ngsi-ld/v1/subscriptions", sub, {{"NGSILD-Tenant", "t1"}});
  REQUIRE(created.status == 201);
  std::string sub_id;
  const std::string location = created.Get("Location");
  sub_id = location.substr(location.rfind('/') + 1);
  REQUIRE(b.Call(Method::kPost, "/ngsi-ld/v1/entities",
                 R"({"id":"urn:ngsi-ld:Room:1","type":"Room","temperature":{"type":"Property","value":21},"name":{"type":"Property","value":"A"}})",
                 {{"NGSILD-Tenant", "t1"}}).status == 201);
  // An update of an unwatched attribute does not notify; a watched one does.
  REQUIRE(b.Call(Method::kPatch, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1/attrs", R"({"name":{"type":"Property","value":"B"}})",
                 {{"NGSILD-Tenant", "t1"}}).status == 204);
  REQUIRE(b.Call(Method::kPatch, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1/attrs", R"({"temperature":{"type":"Property","value":25}})",
                 {{"NGSILD-Tenant", "t1"}}).status == 204);
  REQUIRE(receiver.WaitFor(2));
  auto got = receiver.received();
  REQUIRE(got.size() == 2);
  auto n = json::parse(got[1].body);
  CHECK(n.at("type") == json::value("Notification"));
  CHECK(n.at("subscriptionId") == json::value(sub_id));
  CHECK(n.as_object().contains("notifiedAt"));
  CHECK(n.at("data").at(0) == json::parse(R"({"id":"urn:ngsi-ld:Room:1","type":"Room","temperature":25})"));
  CHECK(got[1].headers["NGSILD-Tenant"] == "t1");
  CHECK(got[1].headers["Content-Type"] == "application/json");
  CHECK(got[1].headers["Link"].find("ngsi-ld-core-context") != std::string::npos);
  // The subscription reports what was sent, once the notifier has taken both answers.
  REQUIRE(b.broker.notifier().WaitUntil([](const NotifierCounters& c) { return c.sent >= 2; }, 10s));
  json::value s = json::parse(b.Call(Method::kGet, "/ngsi-ld/v1/subscriptions/" + sub_id, "", {{"NGSILD-Tenant", "t1"}}).body);
  CHECK(s.at("notification").at("timesSent") == json::value(2));
  CHECK(s.at("notification").at("status") == json::value("ok"));
  CHECK(s.at("notification").as_object().contains("lastSuccess"));
}

TEST_CASE("HTTP: failed deliveries are retried with back-off, then reported", "[broker][http]") {
  Receiver receiver;
  receiver.FailFirst(2);
  Running b;
  const std::string sub = R"({"id":"urn:ngsi-ld:Subscription:retry","type":"Subscription","entities":[{"type":"Room"}],
      "notification":{"endpoint":{"uri":")" + receiver.url("/n") + R"("}}})";
  REQUIRE(b.Call(Method::kPost, "/ngsi-ld/v1/subscriptions", sub).status == 201);
  REQUIRE(b.Call(Method::kPost, "/ngsi-ld/v1/entities", R"({"id":"urn:ngsi-ld:Room:1","type":"Room"})").status == 201);
  REQUIRE(receiver.WaitFor(3));  // two failures, then success
  REQUIRE(b.broker.notifier().WaitUntil([](const NotifierCounters& c) { return c.sent >= 1; }, 10s));
  auto c = b.broker.notifier().Counters();
  CHECK(c.sent == 1);
  CHECK(c.retried == 2);
  CHECK(c.failed == 0);
  // Now the receiver fails every time: after max_attempts the notification is given up.
  receiver.AlwaysFail();
  REQUIRE(b.Call(Method::kPost, "/ngsi-ld/v1/entities", R"({"id":"urn:ngsi-ld:Room:2","type":"Room"})").status == 201);
  REQUIRE(receiver.WaitFor(6));
  REQUIRE(b.broker.notifier().WaitUntil([](const NotifierCounters& c) { return c.failed >= 1; }, 10s));
  CHECK(b.broker.notifier().Counters().failed == 1);
  auto s = json::parse(b.Call(Method::kGet, "/ngsi-ld/v1/subscriptions/urn:ngsi-ld:Subscription:retry").body);
  CHECK(s.at("notification").at("status") == json::value("failed"));
  CHECK(s.at("notification").at("timesFailed") == json::value(1));
  CHECK(s.at("notification").as_object().contains("lastFailure"));
}

TEST_CASE("HTTP: user contexts are fetched from where the Link header says", "[broker][http]") {
  Receiver contexts;
  contexts.Serve("/ctx.jsonld", R"({"@context":{"Bus":"https://vocab.test/Bus","speed":"https://vocab.test/speed"}})");
  Running b;
  const std::string link = "<" + contexts.url("/ctx.jsonld") + R"(>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json")";
  REQUIRE(b.Call(Method::kPost, "/ngsi-ld/v1/entities", R"({"id":"urn:x:bus1","type":"Bus","speed":{"type":"Property","value":40}})",
                 {{"Link", link}}).status == 201);
  auto with_link = json::parse(b.Call(Method::kGet, "/ngsi-ld/v1/entities/urn:x:bus1", "", {{"Link", link}}).body);
  CHECK(with_link.at("type") == json::value("Bus"));
  CHECK(with_link.as_object().contains("speed"));
  auto without = json::parse(b.Call(Method::kGet, "/ngsi-ld/v1/entities/urn:x:bus1").body);
  CHECK(without.at("type") == json::value("https://vocab.test/Bus"));
  auto by_type = json::parse(b.Call(Method::kGet, "/ngsi-ld/v1/entities?type=Bus", "", {{"Link", link}}).body);
  CHECK(by_type.as_array().size() == 1);
  CHECK(contexts.received().size() == 1);  // fetched once, then cached
  // A context that cannot be fetched: 503 LdContextNotAvailable.
  const std::string dead = "<http://127.0.0.1:9/none.jsonld>; rel=\"http://www.w3.org/ns/json-ld#context\"";
  auto r = b.Call(Method::kGet, "/ngsi-ld/v1/entities?type=Bus", "", {{"Link", dead}});
  CHECK(r.status == 503);
  CHECK(json::parse(r.body).at("type") == json::value("https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable"));
}

TEST_CASE("HTTP: metrics count what was served and Stop closes idle connections", "[broker][http]") {
  auto b = std::make_unique<Running>();
  for (int i = 0; i < 5; ++i) REQUIRE(b->Call(Method::kGet, "/health").status == 200);
  REQUIRE(b->Call(Method::kGet, "/ngsi-ld/v1/entities/urn:x:none").status == 404);
  // A request is counted before its answer is written: what a client has seen is in /metrics.
  auto metrics = b->Call(Method::kGet, "/metrics").body;
  CHECK_THAT(metrics, Catch::Contains(R"(citybed_http_requests_total{route="/health",method="GET",status="200"} 5)"));
  CHECK_THAT(metrics, Catch::Contains(R"(route="/ngsi-ld/v1/entities/{entityId}",method="GET",status="404"} 1)"));
  Raw idle(b->broker.port());
  const auto t0 = std::chrono::steady_clock::now();
  b->broker.Stop();
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  CHECK(idle.ClosedByPeer());
}

TEST_CASE("HTTP: v2 and NGSI-LD subscriptions are both notified, each in its format, of writes through either API",
          "[broker][http][ngsiv2]") {
  Receiver receiver;
  Running b;
  // Tenant "City1" through Fiware-Service is tenant "city1" through NGSILD-Tenant.
  const std::vector<HttpField> v2_tenant = {{"Fiware-Service", "City1"}};
  const std::vector<HttpField> ld_tenant = {{"NGSILD-Tenant", "city1"}};
  auto v2_sub = b.Call(Method::kPost, "/v2/subscriptions",
                       R"({"subject":{"entities":[{"idPattern":".*","type":"Room"}]},
                           "notification":{"http":{"url":")" + receiver.url("/v2") + R"("}}})",
                       v2_tenant);
  INFO(v2_sub.body);
  REQUIRE(v2_sub.status == 201);
  const std::string v2_location = v2_sub.Get("Location");
  const std::string v2_id = v2_location.substr(v2_location.rfind('/') + 1);
  auto ld_sub = b.Call(Method::kPost, "/ngsi-ld/v1/subscriptions",
                       R"({"type":"Subscription","entities":[{"type":"Room"}],
                           "notification":{"endpoint":{"uri":")" + receiver.url("/ld") + R"("}}})",
                       ld_tenant);
  REQUIRE(ld_sub.status == 201);
  const std::string ld_location = ld_sub.Get("Location");
  const std::string ld_id = ld_location.substr(ld_location.rfind('/') + 1);

  // One write through v2 (create), one through NGSI-LD (update).
  REQUIRE(b.Call(Method::kPost, "/v2/entities",
                 R"({"id":"Room1","type":"Room","temperature":{"type":"Number","value":21,
                     "metadata":{"unitCode":{"type":"Text","value":"CEL"}}}})",
                 v2_tenant).status == 201);
  REQUIRE(b.Call(Method::kPatch, "/ngsi-ld/v1/entities/urn:ngsi-v2:Room1/attrs",
                 R"({"temperature":{"type":"Property","value":25,"unitCode":"CEL"}})", ld_tenant).status == 204);
  // Both writes have queued their notifications before answering: four in all.
  REQUIRE(receiver.WaitFor(4));
  REQUIRE(b.broker.notifier().WaitUntil([](const NotifierCounters& c) { return c.sent + c.failed >= 4; }, 10s));
  CHECK(b.broker.notifier().Counters().sent == 4);
  const auto got = receiver.received();
  REQUIRE(got.size() == 4);

  // Per endpoint, by the temperature each notification carries (deliveries may overtake one another).
  std::map<std::string, std::map<int64_t, Receiver::Received>> by;
  for (const auto& r : got) {
    const json::value n = json::parse(r.body);
    INFO(r.target << " " << r.body);
    REQUIRE(n.at("data").as_array().size() == 1);
    const json::value& t = n.at("data").at(0).at("temperature");
    REQUIRE(t.at("value").is_number());
    by[r.target][t.at("value").to_number<int64_t>()] = r;
  }
  REQUIRE(by["/v2"].size() == 2);
  REQUIRE(by["/ld"].size() == 2);
  for (int64_t value : {21, 25}) {
    INFO("temperature " << value);
    const auto& v2 = by["/v2"][value];
    CHECK(json::parse(v2.body) == json::parse(R"({"subscriptionId":")" + v2_id + R"(","data":[{"id":"Room1","type":"Room",
        "temperature":{"type":"Number","value":)" + std::to_string(value) +
                                                  R"(,"metadata":{"unitCode":{"type":"Text","value":"CEL"}}}}]})"));
    CHECK(v2.headers.at("Fiware-Service") == "city1");  // Orion's lower-cased service
    CHECK(v2.headers.at("Fiware-ServicePath") == "/");
    CHECK(v2.headers.at("Ngsiv2-AttrsFormat") == "normalized");
    CHECK(v2.headers.count("NGSILD-Tenant") == 0);
    const auto& ld = by["/ld"][value];
    json::value n = json::parse(ld.body);
    CHECK(n.at("type") == json::value("Notification"));
    CHECK(n.at("subscriptionId") == json::value(ld_id));
    CHECK(n.as_object().contains("notifiedAt"));
    CHECK(n.at("data").at(0) == json::parse(R"({"id":"urn:ngsi-v2:Room1","type":"Room",
        "temperature":{"type":"Property","value":)" + std::to_string(value) + R"(,"unitCode":"CEL"}})"));
    CHECK(ld.headers.at("NGSILD-Tenant") == "city1");
    CHECK(ld.headers.count("Fiware-Service") == 0);
  }
}

TEST_CASE("HTTP: a header that cannot be written is a 500 and the server goes on", "[broker][http]") {
  Metrics metrics;
  ServerOptions o;
  o.port = 0;
  HttpServer server(o, [](Request& req, int*) {
    Response r;
    r.status = 201;
    if (req.target == "/crlf") r.SetHeader("Location", "/x\r\nX-Injected: 1");
    else if (req.target == "/huge") r.SetHeader("Location", "/" + std::string(70000, 'x'));
    else r.status = 200;
    return r;
  }, metrics);
  REQUIRE(server.Start());
  auto get = [&](const std::string& path) { return GetFrom(server, path); };
  const FetchResult crlf = get("/crlf");
  CHECK(crlf.status == 500);
  CHECK_FALSE(crlf.Has("X-Injected"));
  CHECK(get("/huge").status == 500);
  CHECK(get("/ok").status == 200);  // still serving
  server.Stop();
}

TEST_CASE("HTTP: overload is shed with 503 and Retry-After while the loop runs behind, then served again",
          "[broker][http][reliability]") {
  // One serving thread; each /work request takes 20 ms of CPU, and 16 clients keep one each in
  // flight, so the loop runs hundreds of milliseconds behind: far beyond shed_lag.
  Metrics metrics;
  ServerOptions o;
  o.port = 0;
  o.threads = 1;
  o.shed_lag = 50ms;
  std::atomic<int> handled{0};
  HttpServer server(o, [&](Request& req, int*) {
    Response r;
    if (req.target == "/work") {
      const auto until = std::chrono::steady_clock::now() + 20ms;
      while (std::chrono::steady_clock::now() < until) {
      }
      handled.fetch_add(1);
    }
    r.status = 200;
    return r;
  }, metrics);
  REQUIRE(server.Start());
  auto get = [&](const std::string& path) { return GetFrom(server, path); };
  std::atomic<int> ok{0}, shed{0}, other{0}, health_ok{0};
  std::atomic<bool> retry_after{true};
  // Keep-alive connections, all open before the load starts: a client that connects for each
  // request is throttled by the accept loop (one accept per pass) and never builds a backlog.
  std::vector<std::thread> clients;
  std::atomic<int> connected{0};
  for (int c = 0; c < 16; ++c) {
    clients.emplace_back([&] {
      namespace http = boost::beast::http;
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket sock(io);
      boost::system::error_code ec;
      sock.connect({boost::asio::ip::address_v4::loopback(), server.port()}, ec);
      connected.fetch_add(1);
      if (ec) return;
      while (connected.load() < 16) std::this_thread::yield();
      boost::beast::flat_buffer buffer;
      for (int i = 0; i < 12; ++i) {
        http::request<http::empty_body> req{http::verb::get, "/work", 11};
        req.set(http::field::host, "127.0.0.1");
        http::write(sock, req, ec);
        http::response<http::string_body> res;
        if (!ec) http::read(sock, buffer, res, ec);
        if (ec) {
          other.fetch_add(1);
          return;
        }
        if (res.result_int() == 200) {
          ok.fetch_add(1);
        } else if (res.result_int() == 503) {
          shed.fetch_add(1);
          if (res[http::field::retry_after] != "1") retry_after = false;
        } else {
          other.fetch_add(1);
        }
      }
    });
  }
  // The operator's probe is answered all along.
  for (int i = 0; i < 3; ++i) health_ok += get("/health").status == 200;
  for (auto& t : clients) t.join();
  CHECK(other == 0);
  CHECK(health_ok == 3);
  CHECK(shed > 0);                       // overload was shed...
  CHECK(ok > 0);                         // ...while work still got done
  CHECK(handled == ok);                  // a shed request never ran its handler
  CHECK(retry_after);
  CHECK(metrics.shed() == static_cast<uint64_t>(shed.load()));
  // Once the load is gone the probe measures a punctual loop again and work is served.
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) status = get("/work").status;
  CHECK(status == 200);
  server.Stop();
}

TEST_CASE("HTTP: client input that would reach a header is refused before it gets there", "[broker][http]") {
  BrokerOptions o = TestOptions();
  o.server.max_body_bytes = 64 << 10;
  Running b(o);
  const std::string long_id = "urn:ngsi-ld:T:" + std::string(2000, 'x');
  auto ok = b.Call(Method::kPost, "/ngsi-ld/v1/entities", R"({"id":")" + long_id + R"(","type":"T"})");
  CHECK(ok.status == 201);
  CHECK(ok.Get("Location").size() > 2000);
  auto too_long = b.Call(Method::kPost, "/ngsi-ld/v1/entities",
                         R"({"id":"urn:ngsi-ld:T:)" + std::string(3000, 'y') + R"(","type":"T"})");
  CHECK(too_long.status == 400);
  auto injected = b.Call(Method::kPost, "/ngsi-ld/v1/subscriptions",
                         R"({"type":"Subscription","entities":[{"type":"T"}],"notification":{"endpoint":{)"
                         R"("uri":"http://127.0.0.1:9/n","receiverInfo":[{"key":"X-A","value":"1\r\nX-Injected: 2"}]}}})");
  CHECK(injected.status == 400);
  auto bad_key = b.Call(Method::kPost, "/ngsi-ld/v1/subscriptions",
                        R"({"type":"Subscription","entities":[{"type":"T"}],"notification":{"endpoint":{)"
                        R"("uri":"http://127.0.0.1:9/n","receiverInfo":[{"key":"X A:","value":"1"}]}}})");
  CHECK(bad_key.status == 400);
  auto v2 = b.Call(Method::kPost, "/v2/subscriptions",
                   R"({"subject":{"entities":[{"idPattern":".*"}]},"notification":{"httpCustom":{)"
                   R"("url":"http://127.0.0.1:9/n","headers":{"X-A":"1\r\nX-Injected: 2"}}}})");
  CHECK(v2.status == 400);
  CHECK(b.Call(Method::kGet, "/health").status == 200);
}

TEST_CASE("Service metrics: the log-linear buckets keep a duration within 1/8 of an octave", "[broker][http][service]") {
  using H = DurationHistogram;
  CHECK(H::BucketOf(0) == 0);
  CHECK(H::BucketOf(999) == 0);
  CHECK(H::BucketOf(1000) == 1);                        // [1, 1.125) µs
  CHECK(H::BucketOf(1124) == 1);
  CHECK(H::BucketOf(1125) == 2);
  CHECK(H::BucketOf(1999) == 8);
  CHECK(H::BucketOf(2000) == 9);                        // the next octave
  CHECK(H::UpperSeconds(1) == Approx(1.125e-6));
  CHECK(H::UpperSeconds(8) == Approx(2e-6));
  CHECK(H::UpperSeconds(9) == Approx(2.25e-6));
  CHECK(H::BucketOf(int64_t{1} << 50) == H::kBuckets - 1);  // beyond the last octave
  CHECK(std::isinf(H::UpperSeconds(H::kBuckets - 1)));
  // Every duration lies in its bucket: lower < d <= upper, with the upper at most 12.5 % above.
  for (int64_t ns : {1000LL, 1500LL, 7777LL, 123456LL, 987654321LL}) {
    const int b = H::BucketOf(ns);
    INFO(ns);
    CHECK(ns * 1e-9 < H::UpperSeconds(b));
    CHECK(ns * 1e-9 >= H::UpperSeconds(b - 1));
    CHECK(H::UpperSeconds(b) / H::UpperSeconds(b - 1) <= 1.125 + 1e-12);
  }
}

TEST_CASE("Service metrics: each request is timed in its class, in Prometheus and in the JSON snapshot", "[broker][http][service]") {
  Running b;
  CHECK(b.Call(Method::kPost, "/ngsi-ld/v1/entityOperations/upsert", R"([{"id":"urn:a:1","type":"T"}])").status == 201);
  CHECK(b.Call(Method::kPost, "/ngsi-ld/v1/entityOperations/upsert", R"([{"id":"urn:a:2","type":"T"}])").status == 201);
  CHECK(b.Call(Method::kGet, "/ngsi-ld/v1/entities/urn:a:1").status == 200);
  CHECK(b.Call(Method::kGet, "/ngsi-ld/v1/entities?type=T").status == 200);
  auto snap = json::parse(b.Call(Method::kGet, "/metrics?format=json").body).as_object();
  const auto& classes = snap.at("service").at("classes").as_object();
  CHECK(classes.at("batch-upsert").at("count").to_number<int64_t>() == 2);
  CHECK(classes.at("get").at("count").to_number<int64_t>() == 1);
  CHECK(classes.at("query").at("count").to_number<int64_t>() == 1);
  CHECK(classes.at("geo-query").at("count").to_number<int64_t>() == 0);
  CHECK(classes.at("get").at("in_flight").to_number<int64_t>() == 0);
  // The wall histogram holds the request; its sum is positive and the CPU no more than a little above the wall.
  const auto& wall = classes.at("batch-upsert").at("wall").as_object();
  CHECK(wall.at("buckets").as_array().size() >= 1);
  CHECK(wall.at("sum").to_number<double>() > 0);
  CHECK(snap.at("entity_changes").to_number<int64_t>() == 2);
  CHECK(snap.at("entities").to_number<int64_t>() == 2);
  const std::string prom = b.Call(Method::kGet, "/metrics").body;
  CHECK(prom.find("citybed_service_seconds_count{class=\"get\",clock=\"wall\"} 1\n") != std::string::npos);
  CHECK(prom.find("citybed_service_seconds_count{class=\"batch-upsert\",clock=\"wall\"} 2\n") != std::string::npos);
  // The CPU clock is read for one request in 8 at random: at most as many samples as requests.
  CHECK(classes.at("batch-upsert").at("cpu").at("count").to_number<int64_t>() <= 2);
  CHECK(prom.find("citybed_in_flight{class=\"get\"} 0\n") != std::string::npos);
  CHECK(prom.find("citybed_entity_changes_total 2\n") != std::string::npos);
  // The snapshot's bucket bounds are the histogram's.
  const auto& upper = snap.at("service").at("bucket_upper_seconds").as_array();
  REQUIRE(upper.size() == static_cast<size_t>(DurationHistogram::kBuckets));
  CHECK(upper[1].to_number<double>() == Approx(1.125e-6));
  CHECK(upper.back().is_null());
}

TEST_CASE("Service metrics can be switched off (to measure what they cost)", "[broker][http][service]") {
  BrokerOptions o = TestOptions();
  o.server.service_metrics = false;
  Running b(o);
  CHECK(b.Call(Method::kGet, "/ngsi-ld/v1/entities/urn:none").status == 404);
  auto snap = json::parse(b.Call(Method::kGet, "/metrics?format=json").body).as_object();
  CHECK(snap.at("service").at("classes").at("get").at("count").to_number<int64_t>() == 0);
}

TEST_CASE("Notifier: keep-alive connections to endpoints close when idle too long or too many", "[broker][http][reliability]") {
  // Subscriptions come and go; before, every endpoint ever notified kept its connections open
  // until the broker ran out of descriptors.
  auto job = [](const std::string& uri) {
    NotificationJob j;
    j.status = std::make_shared<DeliveryStatus>();
    j.uri = uri;
    j.headers = {{"Content-Type", "application/json"}};
    j.body = "{}";
    return j;
  };
  SECTION("idle timeout") {
    Receiver receiver;
    NotifierOptions o;
    o.idle_timeout = 50ms;
    Notifier n(o);
    n.Start();
    REQUIRE(n.Enqueue(job(receiver.url("/a"))));
    REQUIRE(receiver.WaitFor(1));
    REQUIRE(n.WaitUntil([](const NotifierCounters& c) { return c.sent >= 1; }, 10s));
    CHECK(receiver.WaitForClosed(1));  // by the notifier, not by the receiver: it keeps alive
    // The endpoint is notified again afterwards on a fresh connection.
    REQUIRE(n.Enqueue(job(receiver.url("/a"))));
    REQUIRE(n.WaitUntil([](const NotifierCounters& c) { return c.sent >= 2; }, 10s));
    CHECK(n.Counters().failed == 0);
    n.Stop(1s);
  }
  SECTION("at most max_idle connections wait for reuse") {
    Receiver a, b, c;
    NotifierOptions o;
    o.idle_timeout = std::chrono::hours(1);
    o.max_idle = 1;
    Notifier n(o);
    n.Start();
    uint64_t k = 0;
    for (Receiver* r : {&a, &b, &c}) {  // one after the other: each answer read before the next
      REQUIRE(n.Enqueue(job(r->url("/n"))));
      ++k;
      REQUIRE(n.WaitUntil([k](const NotifierCounters& got) { return got.sent >= k; }, 10s));
    }
    // a's connection waits for reuse; b's and c's are closed once answered (the cap is 1).
    CHECK(b.WaitForClosed(1));
    CHECK(c.WaitForClosed(1));
    CHECK(a.closed() == 0);
    n.Stop(1s);
  }
}
