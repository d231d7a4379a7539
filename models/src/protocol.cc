#include "citybed/models/protocol.h"

#include <algorithm>
#include <cstdio>

#include "citybed/common/json_text.h"
#include "citybed/common/strings.h"
#include "citybed/sim/http_client.h"

namespace citybed::models {

namespace {

void AppendTime(std::string& out, int64_t us) {
  out.push_back('"');
  AppendRfc3339Micros(out, us);
  out.push_back('"');
}

void AppendPoint(std::string& out, LonLat p) {
  out += R"({"type":"Point","coordinates":[)";
  AppendJsonNumber(out, p.lon);
  out.push_back(',');
  AppendJsonNumber(out, p.lat);
  out += "]}";
}

std::string TenantHeader(std::string_view tenant) {
  if (tenant.empty()) return {};
  std::string h = "NGSILD-Tenant: ";
  h.append(tenant).append("\r\n");
  return h;
}

class NgsiLd final : public BrokerProtocol {
 public:
  explicit NgsiLd(std::string host) : host_(std::move(host)) {}
  std::string_view name() const override { return "ngsi-ld"; }

  std::string Write(const EntityUpdate& e, std::string_view tenant) const override {
    std::string body;
    body.reserve(640);
    body.push_back('[');
    AppendNgsiLdEntity(body, e);
    body.push_back(']');
    return sim::FormatRequest("POST", "/ngsi-ld/v1/entityOperations/upsert", host_, Headers(tenant, e.type),
                              "application/json", body);
  }

  std::string Get(std::string_view id, std::string_view tenant) const override {
    // urn:ngsi-ld:<Type>:...
    std::string_view type;
    const auto parts = Split(id, ':');
    if (parts.size() > 2) type = parts[2];
    return sim::FormatRequest("GET", "/ngsi-ld/v1/entities/" + PercentEncode(id, ":"), host_, Headers(tenant, type), "", "");
  }

  std::string Query(std::string_view type, std::string_view q, int limit, int offset, bool count,
                    std::string_view tenant) const override {
    std::string target = "/ngsi-ld/v1/entities?type=" + PercentEncode(type);
    if (!q.empty()) target += "&q=" + PercentEncode(q, "=;,");
    target += "&limit=" + std::to_string(limit);
    if (offset > 0) target += "&offset=" + std::to_string(offset);
    if (count) target += "&count=true";
    return sim::FormatRequest("GET", target, host_, Headers(tenant, type), "", "");
  }

  void UseOwnContext(std::string url, std::vector<std::string> own_types) override {
    link_ = "Link: <" + url + ">; rel=\"http://www.w3.org/ns/json-ld#context\"; type=\"application/ld+json\"\r\n";
    own_types_ = std::move(own_types);
  }

  std::string GeoQuery(std::string_view type, LonLat at, double max_distance_m, int limit,
                       std::string_view tenant) const override {
    char distance[32], coords[80];
    std::snprintf(distance, sizeof distance, "%.0f", max_distance_m);
    std::snprintf(coords, sizeof coords, "[%.6f,%.6f]", at.lon, at.lat);
    std::string target = "/ngsi-ld/v1/entities?type=" + PercentEncode(type) +
                         "&georel=" + PercentEncode(std::string("near;maxDistance==") + distance, "=;") +
                         "&geometry=Point&coordinates=" + PercentEncode(coords, ",") + "&limit=" + std::to_string(limit);
    return sim::FormatRequest("GET", target, host_, Headers(tenant, type), "", "");
  }

  std::string Subscribe(const SubscriptionRequest& s, std::string_view tenant) const override {
    std::string body = R"({"id":)";
    AppendJsonString(body, s.id);
    body += R"(,"type":"Subscription","entities":[{"type":)";
    AppendJsonString(body, s.type);
    body += "}]";
    if (s.watched != nullptr && !s.watched->empty()) {
      body += R"(,"watchedAttributes":[)";
      for (size_t i = 0; i < s.watched->size(); ++i) {
        if (i) body.push_back(',');
        AppendJsonString(body, (*s.watched)[i]);
      }
      body.push_back(']');
    }
    if (!s.q.empty()) {
      body += R"(,"q":)";
      AppendJsonString(body, s.q);
    }
    if (!s.expires_at.empty()) {
      body += R"(,"expiresAt":)";
      AppendJsonString(body, s.expires_at);
    }
    body += R"(,"notification":{"format":"normalized","endpoint":{"uri":)";
    AppendJsonString(body, s.endpoint);
    body += R"(,"accept":"application/json"}}})";
    return sim::FormatRequest("POST", "/ngsi-ld/v1/subscriptions", host_, Headers(tenant, s.type), "application/json", body);
  }

  std::string Version() const override { return sim::FormatRequest("GET", "/version", host_, "", "", ""); }

 private:
  std::string Headers(std::string_view tenant, std::string_view type) const {
    std::string h = TenantHeader(tenant);
    if (!link_.empty() && std::find(own_types_.begin(), own_types_.end(), type) != own_types_.end()) h += link_;
    return h;
  }

  std::string host_;
  std::string link_;
  std::vector<std::string> own_types_;
};

}  // namespace

void AppendNgsiLdEntity(std::string& out, const EntityUpdate& e) {
  out += R"({"id":)";
  AppendJsonString(out, e.id);
  out += R"(,"type":)";
  AppendJsonString(out, e.type);
  for (const AttrOut& a : e.attrs) {
    out.push_back(',');
    AppendJsonString(out, a.name);
    switch (a.kind) {
      case AttrOut::Kind::kRelationship:
        out += R"(:{"type":"Relationship","object":)";
        AppendJsonString(out, a.text);
        break;
      case AttrOut::Kind::kPoint:
        out += R"(:{"type":"GeoProperty","value":)";
        AppendPoint(out, a.point);
        break;
      case AttrOut::Kind::kLineString:
        out += R"(:{"type":"GeoProperty","value":{"type":"LineString","coordinates":[)";
        for (size_t i = 0; i < a.line.size(); ++i) {
          if (i) out.push_back(',');
          out.push_back('[');
          AppendJsonNumber(out, a.line[i].lon);
          out.push_back(',');
          AppendJsonNumber(out, a.line[i].lat);
          out.push_back(']');
        }
        out += "]}";
        break;
      case AttrOut::Kind::kDateTime:
        out += R"(:{"type":"Property","value":{"@type":"DateTime","@value":)";
        AppendTime(out, a.time_us);
        out.push_back('}');
        break;
      case AttrOut::Kind::kText:
        out += R"(:{"type":"Property","value":)";
        AppendJsonString(out, a.text);
        break;
      case AttrOut::Kind::kBool:
        out += R"(:{"type":"Property","value":)";
        out += a.flag ? "true" : "false";
        break;
      case AttrOut::Kind::kTextList:
        out += R"(:{"type":"Property","value":[)";
        for (size_t i = 0; i < a.texts.size(); ++i) {
          if (i) out.push_back(',');
          AppendJsonString(out, a.texts[i]);
        }
        out.push_back(']');
        break;
      case AttrOut::Kind::kNumber:
        out += R"(:{"type":"Property","value":)";
        AppendJsonNumber(out, a.number);
        break;
    }
    if (a.observed) {
      out += R"(,"observedAt":)";
      AppendTime(out, e.observed_us);
    }
    if (!a.unit.empty()) {
      out += R"(,"unitCode":)";
      AppendJsonString(out, a.unit);
    }
    out.push_back('}');
  }
  out.push_back('}');
}

std::unique_ptr<BrokerProtocol> MakeNgsiLdProtocol(std::string host_header) {
  return std::make_unique<NgsiLd>(std::move(host_header));
}

}  // namespace citybed::models
