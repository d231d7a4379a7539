#include "citybed/models/protocol.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "citybed/common/json_text.h"
#include "citybed/common/strings.h"
#include "citybed/common/http_client.h"

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

void AppendLine(std::string& out, const std::vector<LonLat>& line) {
  out += R"({"type":"LineString","coordinates":[)";
  for (size_t i = 0; i < line.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('[');
    AppendJsonNumber(out, line[i].lon);
    out.push_back(',');
    AppendJsonNumber(out, line[i].lat);
    out.push_back(']');
  }
  out += "]}";
}

void AppendTexts(std::string& out, const std::vector<std::string>& texts) {
  out.push_back('[');
  for (size_t i = 0; i < texts.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(out, texts[i]);
  }
  out.push_back(']');
}

// The type of an entity from its id: urn:ngsi-ld:<Type>:...
std::string_view TypeOfId(std::string_view id) {
  const auto parts = Split(id, ':');
  return parts.size() > 2 ? parts[2] : std::string_view();
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
    return FormatRequest("POST", "/ngsi-ld/v1/entityOperations/upsert", host_, Headers(tenant, e.type),
                              "application/json", body);
  }

  std::string Get(std::string_view id, std::string_view tenant) const override {
    return FormatRequest("GET", "/ngsi-ld/v1/entities/" + PercentEncode(id, ":"), host_,
                              Headers(tenant, TypeOfId(id)), "", "");
  }

  std::string Query(std::string_view type, std::string_view q, int limit, int offset, bool count,
                    std::string_view tenant) const override {
    std::string target = "/ngsi-ld/v1/entities?type=" + PercentEncode(type);
    if (!q.empty()) target += "&q=" + PercentEncode(q, "=;,");
    target += "&limit=" + std::to_string(limit);
    if (offset > 0) target += "&offset=" + std::to_string(offset);
    if (count) target += "&count=true";
    return FormatRequest("GET", target, host_, Headers(tenant, type), "", "");
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
    return FormatRequest("GET", target, host_, Headers(tenant, type), "", "");
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
    return FormatRequest("POST", "/ngsi-ld/v1/subscriptions", host_, Headers(tenant, s.type), "application/json", body);
  }

  std::string Version() const override { return FormatRequest("GET", "/version", host_, "", "", ""); }

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


std::string V2Headers(std::string_view tenant) {
  std::string h;
  if (!tenant.empty()) h.append("Fiware-Service: ").append(V2Tenant(tenant)).append("\r\n");
  h += "Fiware-ServicePath: /\r\n";
  return h;
}

class NgsiV2 final : public BrokerProtocol {
 public:
  NgsiV2(std::string host, V2Writes writes) : host_(std::move(host)), writes_(writes) {}
  std::string_view name() const override { return "ngsi-v2"; }

  std::string Write(const EntityUpdate& e, std::string_view tenant) const override {
    std::string body;
    body.reserve(720);
    if (writes_ == V2Writes::kEntities) {
      AppendNgsiV2Entity(body, e);
      return FormatRequest("POST", "/v2/entities?options=upsert", host_, V2Headers(tenant), "application/json", body);
    }
    body += R"({"actionType":"append","entities":[)";
    AppendNgsiV2Entity(body, e);
    body += "]}";
    return FormatRequest("POST", "/v2/op/update", host_, V2Headers(tenant), "application/json", body);
  }

  std::string Get(std::string_view id, std::string_view tenant) const override {
    std::string target = "/v2/entities/" + PercentEncode(id, ":");
    if (auto type = TypeOfId(id); !type.empty()) target += "?type=" + PercentEncode(type);
    return FormatRequest("GET", target, host_, V2Headers(tenant), "", "");
  }

  std::string Query(std::string_view type, std::string_view q, int limit, int offset, bool count,
                    std::string_view tenant) const override {
    std::string target = "/v2/entities?type=" + PercentEncode(type);
    if (!q.empty()) {
      // The scenario's q was checked when it was loaded (V2Query); an unconvertible one is sent
      // as written, for the broker to judge.
      auto v2q = V2Query(q);
      target += "&q=" + PercentEncode(v2q ? *v2q : std::string(q), "=;,':");
    }
    target += "&limit=" + std::to_string(limit);
    if (offset > 0) target += "&offset=" + std::to_string(offset);
    if (count) target += "&options=count";
    return FormatRequest("GET", target, host_, V2Headers(tenant), "", "");
  }

  std::string GeoQuery(std::string_view type, LonLat at, double max_distance_m, int limit,
                       std::string_view tenant) const override {
    char georel[48], coords[80];
    std::snprintf(georel, sizeof georel, "near;maxDistance:%.0f", max_distance_m);
    std::snprintf(coords, sizeof coords, "%.6f,%.6f", at.lat, at.lon);
    const std::string target = "/v2/entities?type=" + PercentEncode(type) + "&georel=" + PercentEncode(georel, ";:") +
                               "&geometry=point&coords=" + PercentEncode(coords, ",") + "&limit=" + std::to_string(limit);
    return FormatRequest("GET", target, host_, V2Headers(tenant), "", "");
  }

  std::string Subscribe(const SubscriptionRequest& s, std::string_view tenant) const override {
    // v2 subscription ids are the broker's: s.id goes into the description instead.
    std::string body = R"({"description":)";
    AppendJsonString(body, s.id);
    body += R"(,"subject":{"entities":[{"idPattern":".*","type":)";
    AppendJsonString(body, s.type);
    body += "}]";
    // No condition at all when nothing is watched and there is no q: Orion refuses an empty one.
    const bool attrs = s.watched != nullptr && !s.watched->empty();
    if (attrs || !s.q.empty()) {
      body += R"(,"condition":{)";
      if (attrs) {
        body += R"("attrs":)";
        AppendTexts(body, *s.watched);
      }
      if (!s.q.empty()) {
        auto v2q = V2Query(s.q);
        if (attrs) body.push_back(',');
        body += R"("expression":{"q":)";
        AppendJsonString(body, v2q ? *v2q : std::string(s.q));
        body.push_back('}');
      }
      body.push_back('}');
    }
    body += R"(},"notification":{"http":{"url":)";
    AppendJsonString(body, s.endpoint);
    body += R"(},"attrsFormat":"normalized"})";
    if (!s.expires_at.empty()) {
      body += R"(,"expires":)";
      AppendJsonString(body, s.expires_at);
    }
    body.push_back('}');
    return FormatRequest("POST", "/v2/subscriptions", host_, V2Headers(tenant), "application/json", body);
  }

  std::string Version() const override { return FormatRequest("GET", "/version", host_, "", "", ""); }
  void UseOwnContext(std::string, std::vector<std::string>) override {}  // v2 has no @context

 private:
  std::string host_;
  V2Writes writes_;
};

}  // namespace

namespace {

// An attribute's value: the same in both APIs but for DateTime, which NGSI-LD types in the value
// ({"@type": "DateTime", "@value": ...}) and NGSI-v2 in the attribute ("type": "DateTime").
void AppendValue(std::string& out, const AttrOut& a, BrokerApi api) {
  switch (a.kind) {
    case AttrOut::Kind::kRelationship:
    case AttrOut::Kind::kText: AppendJsonString(out, a.text); return;
    case AttrOut::Kind::kPoint: AppendPoint(out, a.point); return;
    case AttrOut::Kind::kLineString: AppendLine(out, a.line); return;
    case AttrOut::Kind::kDateTime:
      if (api == BrokerApi::kNgsiLd) out += R"({"@type":"DateTime","@value":)";
      AppendTime(out, a.time_us);
      if (api == BrokerApi::kNgsiLd) out.push_back('}');
      return;
    case AttrOut::Kind::kBool: out += a.flag ? "true" : "false"; return;
    case AttrOut::Kind::kTextList: AppendTexts(out, a.texts); return;
    case AttrOut::Kind::kNumber: AppendJsonNumber(out, a.number); return;
  }
}

// The attribute's opening up to its value: "type" and the member that holds the value.
std::string_view AttrHead(const AttrOut& a, BrokerApi api) {
  if (api == BrokerApi::kNgsiLd) {
    switch (a.kind) {
      case AttrOut::Kind::kRelationship: return R"({"type":"Relationship","object":)";
      case AttrOut::Kind::kPoint:
      case AttrOut::Kind::kLineString: return R"({"type":"GeoProperty","value":)";
      default: return R"({"type":"Property","value":)";
    }
  }
  switch (a.kind) {
    case AttrOut::Kind::kRelationship: return R"({"type":"Relationship","value":)";
    case AttrOut::Kind::kPoint:
    case AttrOut::Kind::kLineString: return R"({"type":"geo:json","value":)";
    case AttrOut::Kind::kDateTime: return R"({"type":"DateTime","value":)";
    case AttrOut::Kind::kText: return R"({"type":"Text","value":)";
    case AttrOut::Kind::kBool: return R"({"type":"Boolean","value":)";
    case AttrOut::Kind::kTextList: return R"({"type":"StructuredValue","value":)";
    case AttrOut::Kind::kNumber: return R"({"type":"Number","value":)";
  }
  return {};
}

// observedAt and unitCode: NGSI-LD members, or NGSI-v2 metadata of the same names.
void AppendAttrTail(std::string& out, const AttrOut& a, const EntityUpdate& e, BrokerApi api) {
  if (api == BrokerApi::kNgsiLd) {
    if (a.observed) {
      out += R"(,"observedAt":)";
      AppendTime(out, e.observed_us);
    }
    if (!a.unit.empty()) {
      out += R"(,"unitCode":)";
      AppendJsonString(out, a.unit);
    }
    out.push_back('}');
    return;
  }
  out += R"(,"metadata":{)";
  if (a.observed) {
    out += R"("observedAt":{"type":"DateTime","value":)";
    AppendTime(out, e.observed_us);
    out.push_back('}');
  }
  if (!a.unit.empty()) {
    if (a.observed) out.push_back(',');
    out += R"("unitCode":{"type":"Text","value":)";
    AppendJsonString(out, a.unit);
    out.push_back('}');
  }
  out += "}}";
}

void AppendEntity(std::string& out, const EntityUpdate& e, BrokerApi api) {
  out += R"({"id":)";
  AppendJsonString(out, e.id);
  out += R"(,"type":)";
  AppendJsonString(out, e.type);
  for (const AttrOut& a : e.attrs) {
    out.push_back(',');
    AppendJsonString(out, a.name);
    out.push_back(':');
    out += AttrHead(a, api);
    AppendValue(out, a, api);
    AppendAttrTail(out, a, e, api);
  }
  out.push_back('}');
}

}  // namespace

void AppendNgsiLdEntity(std::string& out, const EntityUpdate& e) { AppendEntity(out, e, BrokerApi::kNgsiLd); }

void AppendNgsiV2Entity(std::string& out, const EntityUpdate& e) { AppendEntity(out, e, BrokerApi::kNgsiV2); }

std::unique_ptr<BrokerProtocol> MakeNgsiLdProtocol(std::string host_header) {
  return std::make_unique<NgsiLd>(std::move(host_header));
}

std::unique_ptr<BrokerProtocol> MakeNgsiV2Protocol(std::string host_header, V2Writes writes) {
  return std::make_unique<NgsiV2>(std::move(host_header), writes);
}

Expected<std::string, Error> V2Query(std::string_view ld_q) {
  std::string out;
  out.reserve(ld_q.size());
  for (size_t i = 0; i < ld_q.size(); ++i) {
    const char c = ld_q[i];
    if (c == '"') {
      const size_t close = ld_q.find('"', i + 1);
      if (close == std::string_view::npos) return Unexpected(Error::InvalidArgument("q has an unterminated string"));
      const std::string_view text = ld_q.substr(i + 1, close - i - 1);
      if (text.find('\'') != std::string_view::npos) {
        return Unexpected(Error::InvalidArgument("q compares with a string holding ', which NGSI-v2 cannot quote"));
      }
      out.push_back('\'');
      out.append(text);
      out.push_back('\'');
      i = close;
      continue;
    }
    if (c == '|') return Unexpected(Error::InvalidArgument("q uses OR (|), which NGSI-v2's simple query language lacks"));
    if (c == '(' || c == ')') {
      return Unexpected(Error::InvalidArgument("q uses parentheses, which NGSI-v2's simple query language lacks"));
    }
    if (c == '[' || c == ']') {
      return Unexpected(Error::InvalidArgument("q uses a [key] path, which NGSI-v2's simple query language lacks"));
    }
    out.push_back(c);
  }
  return out;
}

std::string V2Tenant(std::string_view tenant) {
  std::string out;
  for (char c : tenant.substr(0, 50)) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.push_back((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_' ? l : '_');
  }
  return out;
}

Protocols Protocols::ForScenario(const Scenario& s, const std::string& host_header) {
  Protocols p;
  auto ld = std::shared_ptr<BrokerProtocol>(MakeNgsiLdProtocol(host_header));
  auto v2 = std::shared_ptr<BrokerProtocol>(MakeNgsiV2Protocol(host_header, s.broker.v2_writes));
  p.by_api_[0] = ld.get();
  p.by_api_[1] = v2.get();
  p.owned_ = {ld, v2};
  p.primary_ = &p.For(s.broker.api);
  return p;
}

void Protocols::UseOwnContext(const std::string& url, const std::vector<std::string>& own_types) {
  by_api_[0]->UseOwnContext(url, own_types);
  if (by_api_[1] != by_api_[0]) by_api_[1]->UseOwnContext(url, own_types);
}


}  // namespace citybed::models
