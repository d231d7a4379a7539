// Access keys (auth.h, docs/reliability.md): who may read and write which tenant, through both
// APIs, and what a refusal looks like; the key file's mistakes are named.
#include <catch2/catch.hpp>

#include "citybed/common/sha256.h"
#include "test_util.h"

using namespace citybed::broker;
using namespace citybed::broker::testing;

namespace {

const char* kKeys = R"({"keys": [
  {"name": "ops", "key": "ops-key-0123456789", "tenants": ["*"], "access": "write", "metrics": true},
  {"name": "osaka-writer", "key": "osaka-key-0123456789", "tenants": ["osaka"], "access": "write"},
  {"name": "viewer", "sha256": "SHA", "tenants": ["osaka", ""]}
]})";

BrokerOptions WithKeys() {
  std::string text = kKeys;
  text.replace(text.find("SHA"), 3, citybed::Sha256Hex("viewer-key-0123456789"));
  auto keys = Authorizer::Parse(text);
  INFO((keys ? std::string() : keys.error().message));
  REQUIRE(keys);
  BrokerOptions o;
  o.server.port = 0;
  o.auth = std::make_shared<const Authorizer>(std::move(*keys));
  return o;
}

Headers Key(const std::string& key, const std::string& tenant = "") {
  Headers h{{"Authorization", "Bearer " + key}};
  if (!tenant.empty()) h.push_back({"NGSILD-Tenant", tenant});
  return h;
}

const char* kRoom = R"({"id":"urn:ngsi-ld:Room:1","type":"Room","t":{"type":"Property","value":1}})";

}  // namespace

TEST_CASE("Access keys: no key or an unknown one is 401, a key not good for the request 403", "[broker][auth]") {
  Broker b(WithKeys());
  // No key: 401 with a challenge; nothing was written.
  Response none = Do(b, Method::kPost, "/ngsi-ld/v1/entities", kRoom);
  CHECK(none.status == 401);
  REQUIRE(none.FindHeader("WWW-Authenticate") != nullptr);
  CHECK(none.FindHeader("WWW-Authenticate")->rfind("Bearer", 0) == 0);
  CHECK(Body(none).at("type") == "about:blank");
  CHECK(Body(none).at("title") == "Unauthorized");
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", kRoom, Key("not-a-key-of-this-broker")).status == 401);
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", kRoom, {{"Authorization", "Basic b3BzOm9wcw=="}}).status == 401);
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1", "", Key("ops-key-0123456789")).status == 404);
  // A read-only key cannot write; a tenant's key cannot reach another tenant.
  Response read_only = Do(b, Method::kPost, "/ngsi-ld/v1/entities", kRoom, Key("viewer-key-0123456789"));
  CHECK(read_only.status == 403);
  CHECK(Body(read_only).at("title") == "Forbidden");
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", kRoom, Key("osaka-key-0123456789")).status == 403);  // default tenant
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entities", kRoom, Key("osaka-key-0123456789", "osaka")).status == 201);
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1", "", Key("viewer-key-0123456789", "osaka")).status ==
        200);
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/entities/urn:ngsi-ld:Room:1", "", Key("viewer-key-0123456789", "kyoto")).status ==
        403);
  // A query sent with POST is a read.
  CHECK(Do(b, Method::kPost, "/ngsi-ld/v1/entityOperations/query", R"({"type":"Query","entities":[{"type":"Room"}]})",
           Key("viewer-key-0123456789", "osaka"))
            .status == 200);
  // FIWARE's PEP header works too.
  CHECK(Do(b, Method::kGet, "/ngsi-ld/v1/types", "", {{"X-Auth-Token", "ops-key-0123456789"}}).status == 200);
}

TEST_CASE("Access keys: NGSI-v2 answers in Orion's shape, and health, version and metrics", "[broker][auth]") {
  Broker b(WithKeys());
  Response v2 = Do(b, Method::kGet, "/v2/entities");
  CHECK(v2.status == 401);
  CHECK(Body(v2).at("error") == "Unauthorized");
  CHECK(Body(v2).as_object().contains("description"));
  // Fiware-Service is the tenant on /v2.
  CHECK(Do(b, Method::kGet, "/v2/entities", "", {{"X-Auth-Token", "viewer-key-0123456789"}, {"Fiware-Service", "osaka"}})
            .status == 200);
  Response other = Do(b, Method::kGet, "/v2/entities", "", {{"X-Auth-Token", "viewer-key-0123456789"}, {"Fiware-Service", "kyoto"}});
  CHECK(other.status == 403);
  CHECK(Body(other).at("error") == "Forbidden");
  // Always open: liveness and version. /metrics needs a key that may read it.
  CHECK(Do(b, Method::kGet, "/health").status == 200);
  CHECK(Do(b, Method::kGet, "/version").status == 200);
  CHECK(Do(b, Method::kGet, "/metrics", "", Key("viewer-key-0123456789")).status == 403);
  Response metrics = Do(b, Method::kGet, "/metrics", "", Key("ops-key-0123456789"));
  REQUIRE(metrics.status == 200);
  CHECK(metrics.body.find("citybed_auth_refused_total{status=\"401\"} 1") != std::string::npos);
  CHECK(metrics.body.find("citybed_auth_refused_total{status=\"403\"} 2") != std::string::npos);
}

TEST_CASE("Access keys: the key file's mistakes are named", "[broker][auth]") {
  auto error = [](const std::string& text) {
    auto a = Authorizer::Parse(text);
    return a ? std::string() : a.error().message;
  };
  CHECK(error("[]").find("{\"keys\"") != std::string::npos);
  CHECK(error(R"({"keys": []})").find("no key") != std::string::npos);
  CHECK(error(R"({"keys": [{"key": "short", "tenants": ["*"]}]})").find("/keys/0/key") != std::string::npos);
  CHECK(error(R"({"keys": [{"key": "long-enough-key-123", "tenants": []}]})").find("/keys/0/tenants") != std::string::npos);
  CHECK(error(R"({"keys": [{"key": "long-enough-key-123", "tenants": ["*"], "access": "admin"}]})").find("/keys/0/access") !=
        std::string::npos);
  CHECK(error(R"({"keys": [{"sha256": "xyz", "tenants": ["*"]}]})").find("/keys/0/sha256") != std::string::npos);
  CHECK(error(R"({"keys": [{"key": "long-enough-key-123", "tenants": ["*"], "role": "x"}]})").find("/keys/0/role") !=
        std::string::npos);
  CHECK(error(R"({"keys": [{"key": "long-enough-key-123", "tenants": ["*"]}, {"key": "long-enough-key-123", "tenants": ["a"]}]})")
            .find("/keys/1: the same key") != std::string::npos);
  CHECK(error(R"({"keys": [{"key": "long-enough-key-123", "sha256": "ab", "tenants": ["*"]}]})").find("one of them") !=
        std::string::npos);
}
