// Helpers of the distributed-operation tests: embedded brokers on 127.0.0.1 (ephemeral ports)
// called over HTTP, and the entities and registrations they exchange.
#pragma once

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "citybed/broker/broker.h"
#include "citybed/common/http_fetch.h"
#include "citybed/common/strings.h"
#include "receiver.h"

namespace citybed::testing {
namespace json = boost::json;
using namespace std::chrono_literals;

using citybed::Fetch;
using citybed::FetchRequest;
using citybed::FetchResult;
using citybed::HttpField;
using broker::BrokerOptions;
using broker::Broker;

namespace federation {
using namespace std::chrono_literals;

inline BrokerOptions FedOptions() {
  BrokerOptions o;
  o.server.port = 0;
  o.server.threads = 1;
  o.api.forward_timeout = 2000ms;
  o.api.forward_cooldown = 60000ms;
  o.shutdown_grace = 1000ms;
  return o;
}

}  // namespace federation

struct FederationNode {
  Broker broker;
  explicit FederationNode(BrokerOptions o = federation::FedOptions()) : broker(std::move(o)) { REQUIRE(broker.Start()); }

  FetchResult Call(const std::string& method, const std::string& path, const std::string& body = "",
                   std::vector<HttpField> headers = {}) {
    if (!body.empty()) headers.push_back({"Content-Type", "application/json"});
    FetchRequest req;
    req.method = method;
    req.url = broker.url() + path;
    req.headers = std::move(headers);
    req.body = body;
    req.has_body = method != "GET" && method != "DELETE";
    req.timeout = 10000ms;
    auto r = Fetch(req);
    INFO((r ? std::string() : r.error().message));
    REQUIRE(r);
    return *r;
  }
  void Create(const std::string& entity, const std::string& tenant = "") {
    std::vector<HttpField> h;
    if (!tenant.empty()) h.push_back({"NGSILD-Tenant", tenant});
    const FetchResult r = Call("POST", "/ngsi-ld/v1/entities", entity, h);
    REQUIRE(r.status == 201);
  }
  void Register(const std::string& registration) {
    const FetchResult r = Call("POST", "/ngsi-ld/v1/csourceRegistrations", registration);
    INFO(r.body);
    REQUIRE(r.status == 201);
  }
  std::string Endpoint() const { return broker.url(); }
};

namespace federation {

inline std::string Room(const std::string& id, double temperature, const std::string& extra = "") {
  return R"({"id":")" + id + R"(","type":"Room","temperature":{"type":"Property","value":)" +
         std::to_string(temperature) + "}" + extra + "}";
}

inline std::string TypeRegistration(const std::string& endpoint, const std::string& type = "Room",
                             const std::string& more = "") {
  return R"({"type":"ContextSourceRegistration","information":[{"entities":[{"type":")" + type +
         R"("}]}],"endpoint":")" + endpoint + "\"" + more + "}";
}

inline std::vector<std::string> Ids(const std::string& body) {
  std::vector<std::string> ids;
  const json::value v = json::parse(body);
  for (const json::value& e : v.as_array()) ids.emplace_back(e.at("id").as_string());
  return ids;
}

inline size_t Warnings(const FetchResult& r) {
  size_t n = 0;
  for (const HttpField& h : r.headers) n += citybed::EqualsAsciiNoCase(h.name, "NGSILD-Warning") ? 1 : 0;
  return n;
}

}  // namespace federation
}  // namespace citybed::testing
