// Per-tenant rate limits (rate_limit.h, docs/reliability.md): the cell rate rule on a clock the
// test controls, the table's bound, and the broker's 429 through both APIs.
#include <catch2/catch.hpp>

#include "test_util.h"

using namespace citybed::broker;
using namespace citybed::broker::testing;
using Clock = TenantRateLimiter::Clock;
using std::chrono::milliseconds;

namespace {
RateLimitOptions Limits(double rate, double burst) {
  RateLimitOptions o;
  o.per_tenant = {rate, burst};
  return o;
}
}  // namespace

TEST_CASE("Rate limits: a burst is admitted, then one request per 1/rate, tenant by tenant", "[broker][rate]") {
  TenantRateLimiter limiter(Limits(10, 3));
  const Clock::time_point t0 = Clock::now();
  // Three at once, the fourth waits for the next tenth of a second.
  for (int i = 0; i < 3; ++i) CHECK_FALSE(limiter.Admit("a", t0));
  auto wait = limiter.Admit("a", t0);
  REQUIRE(wait);
  CHECK(*wait == Approx(0.1).epsilon(1e-6));
  // Another tenant has its own allowance.
  for (int i = 0; i < 3; ++i) CHECK_FALSE(limiter.Admit("b", t0));
  CHECK(limiter.Admit("b", t0));
  // 100 ms later one more for a, not two.
  CHECK_FALSE(limiter.Admit("a", t0 + milliseconds(100)));
  CHECK(limiter.Admit("a", t0 + milliseconds(100)));
  // Over a long stretch at twice the rate, half are admitted.
  int admitted = 0;
  for (int i = 0; i < 2000; ++i) admitted += limiter.Admit("c", t0 + milliseconds(50 * i)) ? 0 : 1;
  CHECK(admitted == 1000 + 2);  // 10/s over 100 s, plus the burst's head start
  CHECK(limiter.refused() == 1 + 1 + 1 + 998);
}

TEST_CASE("Rate limits: a tenant's own limit, and RATE/BURST parsing", "[broker][rate]") {
  RateLimitOptions o = Limits(1, 1);
  o.tenants["vip"] = {100, 50};
  o.tenants[""] = {2, 2};
  TenantRateLimiter limiter(o);
  const Clock::time_point t0 = Clock::now();
  int vip = 0, plain = 0, fallback = 0;
  for (int i = 0; i < 60; ++i) {
    vip += limiter.Admit("vip", t0) ? 0 : 1;
    plain += limiter.Admit("", t0) ? 0 : 1;
    fallback += limiter.Admit("other", t0) ? 0 : 1;
  }
  CHECK(vip == 50);
  CHECK(plain == 2);
  CHECK(fallback == 1);

  auto l = RateLimit::Parse("20/5");
  REQUIRE(l);
  CHECK(l->rate == 20);
  CHECK(l->burst == 5);
  l = RateLimit::Parse("0.5");
  REQUIRE(l);
  CHECK(l->burst == 1);  // at least one request
  CHECK(RateLimit::Parse("20")->burst == 20);
  for (const char* bad : {"", "0", "-3", "x", "10/0.5", "10/", "1e400", "nan", "5/abc", "1e-12", "0.01/1e9", "2e6"}) {
    INFO(bad);
    CHECK_FALSE(RateLimit::Parse(bad));
  }
}

TEST_CASE("Rate limits: inventing tenant names cannot grow the table past its bound", "[broker][rate]") {
  RateLimitOptions o = Limits(1, 1);
  o.max_tenants = 64;
  o.tenants["vip"] = {1, 1};
  TenantRateLimiter limiter(o);
  const Clock::time_point t0 = Clock::now();
  // 10,000 names at one instant: the table stays within its bound; the names beyond it share
  // one overflow allowance (one request per second between them).
  int admitted = 0;
  for (int i = 0; i < 10000; ++i) admitted += limiter.Admit("t" + std::to_string(i), t0) ? 0 : 1;
  CHECK(limiter.tracked() <= 64);
  CHECK(admitted <= 64 + 1);
  CHECK(admitted >= 16);  // every shard took at least one
  // A tenant with its own limit keeps its own allowance whatever the flood did.
  CHECK_FALSE(limiter.Admit("vip", t0));
  CHECK(limiter.Admit("vip", t0));
  // A second later the old names are as good as new and make room.
  CHECK_FALSE(limiter.Admit("late", t0 + milliseconds(1001)));
  CHECK(limiter.tracked() <= 64);
}

TEST_CASE("Rate limits: the broker answers 429 with Retry-After in each API's error shape, other tenants unharmed",
          "[broker][rate]") {
  BrokerOptions bo;
  bo.server.port = 0;
  bo.rate_limits = Limits(0.01, 3);  // three at once, then one per 100 s: the test never earns another
  Broker b(bo);
  const char* room = R"({"id":"urn:ngsi-ld:Room:R","type":"Room"})";
  const std::vector<std::pair<std::string, std::string>> osaka{{"NGSILD-Tenant", "osaka"}};
  auto room_n = [](int i) { return R"({"id":"urn:ngsi-ld:Room:)" + std::to_string(i) + R"(","type":"Room"})"; };
  int ok = 0;
  for (int i = 0; i < 3; ++i) ok += Do(b, Method::kPost, "/ngsi-ld/v1/entities", room_n(i), osaka).status == 201;
  CHECK(ok == 3);
  Response refused = Do(b, Method::kPost, "/ngsi-ld/v1/entities", room, osaka);
  CHECK(refused.status == 429);
  REQUIRE(refused.FindHeader("Retry-After") != nullptr);
  CHECK(std::stoi(*refused.FindHeader("Retry-After")) >= 90);
  CHECK(Body(refused).at("type") == "about:blank");
  CHECK(Body(refused).at("title") == "Too Many Requests");
  CHECK(Body(refused).at("status") == 429);
  REQUIRE(refused.FindHeader("Content-Type") != nullptr);
  CHECK(*refused.FindHeader("Content-Type") == "application/json");
  // The refused one was not written.
  CHECK(b.store().Count("osaka") == 3);
  // Another tenant, the default one, and /v2 with its own tenant are served.
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", room, {{"NGSILD-Tenant", "kobe"}}).status == 201);
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", room).status == 201);
  // NGSI-v2: Fiware-Service names the tenant; Orion's error shape.
  const std::vector<std::pair<std::string, std::string>> v2{{"Fiware-Service", "nara"}};
  for (int i = 0; i < 3; ++i) CHECK(Do(b, Method::kGet, "/v2/entities", "", v2).status == 200);
  Response orion = Do(b, Method::kGet, "/v2/entities", "", v2);
  CHECK(orion.status == 429);
  CHECK(Body(orion).at("error") == "TooManyRequests");
  CHECK(orion.FindHeader("Retry-After") != nullptr);
  // Operators' paths are never limited.
  for (int i = 0; i < 10; ++i) {
    CHECK(Do(b, Method::kGet, "/health").status == 200);
    CHECK(Do(b, Method::kGet, "/version").status == 200);
  }
  const std::string metrics = Do(b, Method::kGet, "/metrics").body;
  CHECK(metrics.find("\ncitybed_rate_limited_total 2\n") != std::string::npos);
}
