// Helpers for broker tests: building requests, parsing answers.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "citybed/broker/broker.h"

namespace citybed::broker::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Two tenants as each API names them, and the default tenant.
inline const Headers kA = {{"NGSILD-Tenant", "citya"}};
inline const Headers kB = {{"NGSILD-Tenant", "cityb"}};
inline const Headers kDefault = {};
inline const Headers kV2A = {{"Fiware-Service", "citya"}};
inline const Headers kV2B = {{"Fiware-Service", "cityb"}};

inline Request Make(Method m, std::string target, std::string body = "",
                    std::string content_type = "application/json") {
  Request r;
  r.method = m;
  r.target = std::move(target);
  if (!body.empty()) {
    r.body = std::move(body);
    r.SetHeader("Content-Type", std::move(content_type));
  }
  return r;
}

// A request through the broker's router without sockets, with extra headers; a deferred answer
// (forwarding, a durable write) is waited for.
inline Response Do(Broker& b, Method m, std::string target, std::string body = "",
                   const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  Request r = Make(m, std::move(target), std::move(body));
  for (const auto& [k, v] : headers) r.SetHeader(k, v);
  return AwaitResponse(b.Handle(r));
}

inline boost::json::value Body(const Response& r) {
  return r.body.empty() ? boost::json::value() : boost::json::parse(r.body);
}

// The NGSI-LD error type name of a problem response ("BadRequestData"), or "" if not one.
inline std::string ErrorTypeOf(const Response& r) {
  const std::string* ct = r.FindHeader("Content-Type");
  if (ct == nullptr || *ct != "application/json") return "";
  auto v = boost::json::parse(r.body);
  std::string type(v.at("type").as_string());
  return type.substr(type.rfind('/') + 1);
}

inline const char* kEntity400 =
    R"({"id":"urn:ngsi-ld:AirQualityObserved:001","type":"AirQualityObserved",)"
    R"("no2":{"type":"Property","value":22.5,"observedAt":"2024-05-01T12:00:00Z","unitCode":"GQ"},)"
    R"("pm10":{"type":"Property","value":31.2},)"
    R"("location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[139.76,35.68]}},)"
    R"("refDevice":{"type":"Relationship","object":"urn:ngsi-ld:Device:7"}})";

}  // namespace citybed::broker::testing
