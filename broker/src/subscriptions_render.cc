// SubscriptionManager::Render: an NGSI-LD subscription as CIM 009 5.2.12 shows it (subscriptions.h).
#include <string>

#include "citybed/broker/subscriptions.h"
#include "citybed/common/strings.h"

namespace citybed::broker {
namespace json = boost::json;

void SubscriptionManager::Render(JsonWriter& w, const Subscription& s, const Context& ctx, bool sys_attrs) const {
  const int64_t now = UnixMicrosNow();
  w.BeginObject();
  w.Key("id");
  w.String(s.id);
  w.Key("type");
  w.String("Subscription");
  if (!s.name.empty()) {
    w.Key("subscriptionName");
    w.String(s.name);
  }
  if (!s.description.empty()) {
    w.Key("description");
    w.String(s.description);
  }
  if (!s.entities.empty()) {
    w.Key("entities");
    w.BeginArray();
    for (const EntitySelector& sel : s.entities) {
      w.BeginObject();
      if (!sel.id.empty()) {
        w.Key("id");
        w.String(sel.id);
      }
      if (!sel.id_pattern.empty()) {
        w.Key("idPattern");
        w.String(sel.id_pattern);
      }
      if (sel.type != 0) {
        w.Key("type");
        w.String(ctx.CompactId(sel.type, names_));
      }
      w.EndObject();
    }
    w.EndArray();
  }
  if (!s.watched.empty()) {
    w.Key("watchedAttributes");
    w.BeginArray();
    for (uint32_t a : s.watched) w.String(ctx.CompactId(a, names_));
    w.EndArray();
  }
  if (!s.triggers.empty()) {
    w.Key("notificationTrigger");
    w.BeginArray();
    for (const std::string& t : s.triggers) w.String(t);
    w.EndArray();
  }
  if (s.q) {
    w.Key("q");
    w.String(s.q->text());
  }
  if (s.temporal_q) {
    w.Key("temporalQ");
    w.BeginObject();
    w.Key("timerel");
    w.String(s.temporal_q->timerel);
    w.Key("timeAt");
    w.String(s.temporal_q->at_text);
    if (!s.temporal_q->end_at_text.empty()) {
      w.Key("endTimeAt");
      w.String(s.temporal_q->end_at_text);
    }
    w.Key("timeproperty");
    w.String(s.temporal_q->property);
    w.EndObject();
  }
  if (s.geoq) {
    w.Key("geoQ");
    w.BeginObject();
    static constexpr std::string_view kRel[] = {"near", "within", "contains", "intersects", "disjoint", "equals", "overlaps"};
    std::string georel(kRel[static_cast<int>(s.geoq->rel)]);
    char buf[64];
    if (s.geoq->max_distance >= 0) {
      std::snprintf(buf, sizeof buf, ";maxDistance==%g", s.geoq->max_distance);
      georel += buf;
    }
    if (s.geoq->min_distance >= 0) {
      std::snprintf(buf, sizeof buf, ";minDistance==%g", s.geoq->min_distance);
      georel += buf;
    }
    w.Key("georel");
    w.String(georel);
    std::visit([&](const auto& g) {
      using G = std::decay_t<decltype(g)>;
      const char* type = std::is_same_v<G, GeoPoint> ? "Point" : std::is_same_v<G, GeoLine> ? "LineString"
                         : std::is_same_v<G, GeoPolygon> ? "Polygon" : std::is_same_v<G, GeoMultiPoint> ? "MultiPoint"
                         : std::is_same_v<G, GeoMultiLine> ? "MultiLineString" : "MultiPolygon";
      w.Key("geometry");
      w.String(type);
    }, s.geoq->geometry);
    w.Key("coordinates");
    // Re-emit the coordinates from the geometry.
    std::string coords;
    auto point = [&](const GeoPoint& p) {
      coords += "[";
      AppendJsonNumber(coords, boost::geometry::get<0>(p));
      coords += ",";
      AppendJsonNumber(coords, boost::geometry::get<1>(p));
      coords += "]";
    };
    auto points = [&](const auto& range) {
      coords += "[";
      bool first = true;
      for (const auto& p : range) {
        if (!first) coords += ",";
        first = false;
        point(p);
      }
      coords += "]";
    };
    auto polygon = [&](const GeoPolygon& poly) {
      coords += "[";
      points(poly.outer());
      for (const auto& ring : poly.inners()) {
        coords += ",";
        points(ring);
      }
      coords += "]";
    };
    std::visit([&](const auto& g) {
      using G = std::decay_t<decltype(g)>;
      if constexpr (std::is_same_v<G, GeoPoint>) point(g);
      else if constexpr (std::is_same_v<G, GeoLine> || std::is_same_v<G, GeoMultiPoint>) points(g);
      else if constexpr (std::is_same_v<G, GeoPolygon>) polygon(g);
      else if constexpr (std::is_same_v<G, GeoMultiLine>) {
        coords += "[";
        for (size_t i = 0; i < g.size(); ++i) { if (i) coords += ","; points(g[i]); }
        coords += "]";
      } else {
        coords += "[";
        for (size_t i = 0; i < g.size(); ++i) { if (i) coords += ","; polygon(g[i]); }
        coords += "]";
      }
    }, s.geoq->geometry);
    w.Raw(coords);
    if (s.geoq_property != 0) {
      w.Key("geoproperty");
      w.String(ctx.CompactId(s.geoq_property, names_));
    }
    w.EndObject();
  }
  w.Key("isActive");
  w.Bool(s.active);
  w.Key("status");
  w.String(s.State(now));
  if (s.expires_at != kNoTime) WriteTimeMember(w, "expiresAt", s.expires_at);
  if (s.time_interval > 0) {
    w.Key("timeInterval");
    w.Number(s.time_interval);
  }
  if (s.throttling > 0) {
    w.Key("throttling");
    w.Number(s.throttling);
  }
  w.Key("notification");
  w.BeginObject();
  if (!s.notify_attrs.empty()) {
    w.Key("attributes");
    w.BeginArray();
    for (uint32_t a : s.notify_attrs) w.String(ctx.CompactId(a, names_));
    w.EndArray();
  }
  w.Key("format");
  w.String(s.format == Format::kNormalized ? "normalized" : (s.format == Format::kKeyValues ? "keyValues" : "concise"));
  if (s.sys_attrs) {
    w.Key("sysAttrs");
    w.Bool(true);
  }
  w.Key("endpoint");
  w.BeginObject();
  w.Key("uri");
  w.String(s.endpoint);
  w.Key("accept");
  w.String(s.accept);
  if (!s.receiver_info.empty()) {
    w.Key("receiverInfo");
    w.BeginArray();
    for (const Header& h : s.receiver_info) {
      w.BeginObject();
      w.Key("key");
      w.String(h.name);
      w.Key("value");
      w.String(h.value);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  const DeliveryStatus& st = *s.status;
  w.Key("status");
  w.String(st.failing.load() ? "failed" : "ok");
  w.Key("timesSent");
  w.Int(static_cast<int64_t>(st.times_sent.load()));
  w.Key("timesFailed");
  w.Int(static_cast<int64_t>(st.times_failed.load()));
  WriteTimeMember(w, "lastNotification", st.last_notification.load());
  WriteTimeMember(w, "lastSuccess", st.last_success.load());
  WriteTimeMember(w, "lastFailure", st.last_failure.load());
  w.EndObject();
  if (sys_attrs) {
    WriteTimeMember(w, "createdAt", s.created_at);
    WriteTimeMember(w, "modifiedAt", s.modified_at);
  }
  w.EndObject();
}

}  // namespace citybed::broker
