#include "citybed/broker/geo.h"

// Only the algorithms used below, not the umbrella boost/geometry.hpp (buffer, union, convex hull
// and the rest would be parsed for nothing).
#include <boost/geometry/algorithms/append.hpp>
#include <boost/geometry/algorithms/correct.hpp>
#include <boost/geometry/algorithms/covered_by.hpp>
#include <boost/geometry/algorithms/distance.hpp>
#include <boost/geometry/algorithms/envelope.hpp>
#include <boost/geometry/algorithms/equals.hpp>
#include <boost/geometry/algorithms/expand.hpp>
#include <boost/geometry/algorithms/intersects.hpp>
#include <boost/geometry/algorithms/is_valid.hpp>
#include <boost/geometry/algorithms/overlaps.hpp>
#include <boost/geometry/algorithms/within.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <numbers>
#include <type_traits>

#include "citybed/common/strings.h"
#include "json_parse.h"

namespace citybed::broker {
namespace bg = boost::geometry;
namespace json = boost::json;

namespace {

constexpr double kEarthRadius = 6371008.8;  // mean radius, metres
constexpr double kDeg = std::numbers::pi / 180.0;

bool Number(const json::value& v, double& out) {
  if (v.is_double()) out = v.get_double();
  else if (v.is_int64()) out = static_cast<double>(v.get_int64());
  else if (v.is_uint64()) out = static_cast<double>(v.get_uint64());
  else return false;
  return std::isfinite(out);
}

Expected<GeoPoint, std::string> Position(const json::value& v) {
  if (!v.is_array() || v.get_array().size() < 2 || v.get_array().size() > 3) {
    return Unexpected(std::string("a position must be an array [longitude, latitude] (optionally altitude)"));
  }
  double lon, lat;
  if (!Number(v.get_array()[0], lon) || !Number(v.get_array()[1], lat)) {
    return Unexpected(std::string("position coordinates must be numbers"));
  }
  if (lon < -180 || lon > 180 || lat < -90 || lat > 90) {
    return Unexpected(std::string("position out of range: longitude in [-180, 180], latitude in [-90, 90]"));
  }
  return GeoPoint(lon, lat);
}

template <class Range>
Expected<Range, std::string> Positions(const json::value& v, size_t min_count, const char* what) {
  if (!v.is_array()) return Unexpected(std::string(what) + " coordinates must be an array of positions");
  Range r;
  for (const auto& p : v.get_array()) {
    auto pt = Position(p);
    if (!pt) return Unexpected(pt.error());
    bg::append(r, *pt);
  }
  if (r.size() < min_count) {
    return Unexpected(std::string(what) + " needs at least " + std::to_string(min_count) + " positions");
  }
  return r;
}

Expected<GeoPolygon, std::string> Polygon(const json::value& v) {
  if (!v.is_array() || v.get_array().empty()) {
    return Unexpected(std::string("Polygon coordinates must be an array of linear rings"));
  }
  GeoPolygon poly;
  bool first = true;
  for (const auto& ring_json : v.get_array()) {
    auto ring = Positions<GeoPolygon::ring_type>(ring_json, 4, "a linear ring");
    if (!ring) return Unexpected(ring.error());
    if (!bg::equals(ring->front(), ring->back())) {
      return Unexpected(std::string("a linear ring must end at its first position (closed)"));
    }
    if (first) poly.outer() = std::move(*ring); else poly.inners().push_back(std::move(*ring));
    first = false;
  }
  bg::correct(poly);  // accept either orientation
  return poly;
}

template <class T>
Expected<Geometry, std::string> Wrap(Expected<T, std::string> r) {
  if (!r) return Unexpected(r.error());
  return Geometry(std::move(*r));
}

// Projects onto a local plane in metres around `origin` (equirectangular).
struct Projector {
  double lon0, lat0, kx, ky;
  explicit Projector(const GeoPoint& o)
      : lon0(bg::get<0>(o)), lat0(bg::get<1>(o)), kx(kEarthRadius * kDeg * std::cos(bg::get<1>(o) * kDeg)),
        ky(kEarthRadius * kDeg) {}
  GeoPoint operator()(const GeoPoint& p) const {
    return GeoPoint((bg::get<0>(p) - lon0) * kx, (bg::get<1>(p) - lat0) * ky);
  }
  template <class G>
  G Project(const G& g) const {
    if constexpr (std::is_same_v<G, GeoPoint>) {
      return (*this)(g);
    } else if constexpr (std::is_same_v<G, GeoLine> || std::is_same_v<G, GeoMultiPoint>) {
      G out;
      for (const auto& p : g) out.push_back((*this)(p));
      return out;
    } else if constexpr (std::is_same_v<G, GeoPolygon>) {
      G out;
      for (const auto& p : g.outer()) out.outer().push_back((*this)(p));
      for (const auto& ring : g.inners()) {
        out.inners().emplace_back();
        for (const auto& p : ring) out.inners().back().push_back((*this)(p));
      }
      return out;
    } else {
      G out;
      for (const auto& part : g) out.push_back(Project(part));
      return out;
    }
  }
};

double DistanceMetres(const GeoPoint& q, const Geometry& g) {
  if (const auto* p = std::get_if<GeoPoint>(&g)) return HaversineMetres(q, *p);
  const Projector proj(q);
  const GeoPoint origin(0, 0);
  return std::visit([&](const auto& geom) -> double {
    if constexpr (std::is_same_v<std::decay_t<decltype(geom)>, GeoPoint>) {
      return HaversineMetres(q, geom);
    } else {
      return bg::distance(origin, proj.Project(geom));
    }
  }, g);
}

// The index of a geometry type among Geometry's alternatives.
template <class T, size_t I = 0>
constexpr size_t AlternativeOf() {
  if constexpr (std::is_same_v<T, std::variant_alternative_t<I, Geometry>>) return I;
  else return AlternativeOf<T, I + 1>();
}

template <class A>
constexpr int Dim() {
  if constexpr (std::is_same_v<A, GeoPoint> || std::is_same_v<A, GeoMultiPoint>) return 0;
  else if constexpr (std::is_same_v<A, GeoLine> || std::is_same_v<A, GeoMultiLine>) return 1;
  else return 2;
}

// a within b (every point of a is inside b): defined here for b areal, or a point on a line.
bool Within(const Geometry& a, const Geometry& b) {
  return std::visit([](const auto& x, const auto& y) -> bool {
    using X = std::decay_t<decltype(x)>;
    using Y = std::decay_t<decltype(y)>;
    if constexpr (Dim<Y>() == 2 && !std::is_same_v<X, GeoMultiLine> && !std::is_same_v<X, GeoMultiPolygon> &&
                  !(std::is_same_v<X, GeoMultiPoint> && std::is_same_v<Y, GeoMultiPolygon>)) {
      return bg::covered_by(x, y);
    } else if constexpr (std::is_same_v<X, GeoMultiPolygon> && std::is_same_v<Y, GeoPolygon>) {
      for (const auto& part : x) if (!bg::covered_by(part, y)) return false;
      return true;
    } else if constexpr (std::is_same_v<X, GeoMultiPolygon> && std::is_same_v<Y, GeoMultiPolygon>) {
      for (const auto& part : x) if (!bg::covered_by(part, y)) return false;
      return true;
    } else if constexpr (std::is_same_v<X, GeoMultiLine> && Dim<Y>() == 2) {
      for (const auto& part : x) if (!bg::covered_by(part, y)) return false;
      return true;
    } else if constexpr (std::is_same_v<X, GeoMultiPoint> && std::is_same_v<Y, GeoMultiPolygon>) {
      for (const auto& part : x) if (!bg::covered_by(part, y)) return false;
      return true;
    } else if constexpr (std::is_same_v<X, GeoPoint> && Dim<Y>() == 1) {
      return bg::intersects(x, y);  // a point is within a line when it lies on it
    } else if constexpr (std::is_same_v<X, GeoPoint> && std::is_same_v<Y, GeoPoint>) {
      return bg::equals(x, y);
    } else {
      return false;  // a line or area cannot lie within a lower-dimensional geometry
    }
  }, a, b);
}

bool Intersects(const Geometry& a, const Geometry& b) {
  // intersects is symmetric: only the pairs with a's alternative at or before b's are
  // instantiated (21 of Boost.Geometry's heaviest templates instead of 36).
  if (a.index() > b.index()) return Intersects(b, a);
  return std::visit([](const auto& x, const auto& y) -> bool {
    if constexpr (AlternativeOf<std::decay_t<decltype(x)>>() <= AlternativeOf<std::decay_t<decltype(y)>>()) {
      return bg::intersects(x, y);
    } else {
      return false;  // not reached: swapped above
    }
  }, a, b);
}

bool Equals(const Geometry& a, const Geometry& b) {
  return std::visit([](const auto& x, const auto& y) -> bool {
    using X = std::decay_t<decltype(x)>;
    using Y = std::decay_t<decltype(y)>;
    if constexpr (std::is_same_v<X, Y>) {
      return bg::equals(x, y);
    } else {
      return false;
    }
  }, a, b);
}

bool Overlaps(const Geometry& a, const Geometry& b) {
  return std::visit([](const auto& x, const auto& y) -> bool {
    using X = std::decay_t<decltype(x)>;
    using Y = std::decay_t<decltype(y)>;
    if constexpr (Dim<X>() == 2 && Dim<Y>() == 2) {
      return bg::overlaps(x, y);
    } else if constexpr (std::is_same_v<X, Y> && Dim<X>() == 1) {
      return bg::overlaps(x, y);
    } else if constexpr (std::is_same_v<X, GeoMultiPoint> && std::is_same_v<Y, GeoMultiPoint>) {
      return bg::overlaps(x, y);
    } else {
      return false;  // overlaps is defined between geometries of the same dimension
    }
  }, a, b);
}

}  // namespace

double HaversineMetres(const GeoPoint& a, const GeoPoint& b) {
  const double lat1 = bg::get<1>(a) * kDeg, lat2 = bg::get<1>(b) * kDeg;
  const double dlat = lat2 - lat1, dlon = (bg::get<0>(b) - bg::get<0>(a)) * kDeg;
  const double h = std::sin(dlat / 2) * std::sin(dlat / 2) +
                   std::cos(lat1) * std::cos(lat2) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadius * std::asin(std::min(1.0, std::sqrt(h)));
}

namespace {
// Positions in a coordinates array (a position is an array whose first member is a number),
// counting no further than `limit`; GeoJSON nests at most four levels (MultiPolygon).
size_t CountPositions(const json::value& c, size_t limit, int depth = 0) {
  if (!c.is_array() || depth > 4) return 0;
  const json::array& a = c.get_array();
  if (!a.empty() && a[0].is_number()) return 1;
  size_t n = 0;
  for (const json::value& part : a) {
    n += CountPositions(part, limit - std::min(n, limit), depth + 1);
    if (n > limit) break;
  }
  return n;
}
}  // namespace

Expected<Geometry, std::string> ParseGeometry(std::string_view type, const json::value& c) {
  if (const size_t n = CountPositions(c, kMaxGeoPositions); n > kMaxGeoPositions) {
    return Unexpected("a geometry may have at most " + std::to_string(kMaxGeoPositions) + " positions");
  }
  if (type == "Point") return Wrap(Position(c));
  if (type == "LineString") return Wrap(Positions<GeoLine>(c, 2, "LineString"));
  if (type == "MultiPoint") return Wrap(Positions<GeoMultiPoint>(c, 1, "MultiPoint"));
  if (type == "Polygon") return Wrap(Polygon(c));
  if (type == "MultiLineString") {
    if (!c.is_array()) return Unexpected(std::string("MultiLineString coordinates must be an array"));
    GeoMultiLine m;
    for (const auto& part : c.get_array()) {
      auto line = Positions<GeoLine>(part, 2, "LineString");
      if (!line) return Unexpected(line.error());
      m.push_back(std::move(*line));
    }
    return Geometry(std::move(m));
  }
  if (type == "MultiPolygon") {
    if (!c.is_array()) return Unexpected(std::string("MultiPolygon coordinates must be an array"));
    GeoMultiPolygon m;
    for (const auto& part : c.get_array()) {
      auto poly = Polygon(part);
      if (!poly) return Unexpected(poly.error());
      m.push_back(std::move(*poly));
    }
    return Geometry(std::move(m));
  }
  return Unexpected("unknown geometry type \"" + std::string(type) +
                    "\" (use Point, LineString, Polygon, MultiPoint, MultiLineString or MultiPolygon)");
}

Expected<Geometry, std::string> ParseGeoJson(const json::value& v) {
  if (!v.is_object()) return Unexpected(std::string("a GeoJSON geometry must be an object"));
  const auto& o = v.get_object();
  const json::value* type = o.if_contains("type");
  const json::value* coords = o.if_contains("coordinates");
  if (type == nullptr || !type->is_string()) return Unexpected(std::string("a GeoJSON geometry needs a \"type\""));
  if (coords == nullptr) return Unexpected(std::string("a GeoJSON geometry needs \"coordinates\""));
  return ParseGeometry(type->get_string(), *coords);
}

GeoBox Envelope(const Geometry& g) {
  return std::visit([](const auto& x) { return bg::return_envelope<GeoBox>(x); }, g);
}

Expected<GeoQuery, Problem> ParseGeoQuery(std::string_view georel, std::string_view geometry,
                                          std::string_view coordinates, std::string_view geoproperty) {
  auto bad = [](std::string detail) { return Unexpected(MakeProblem(ErrorType::kBadRequestData, std::move(detail))); };
  GeoQuery q;
  if (georel.empty() || geometry.empty() || coordinates.empty()) {
    return bad("a geo-query needs georel, geometry and coordinates");
  }
  const auto parts = Split(georel, ';');
  const std::string_view rel = parts[0];
  if (rel == "near") q.rel = GeoRel::kNear;
  else if (rel == "within") q.rel = GeoRel::kWithin;
  else if (rel == "contains") q.rel = GeoRel::kContains;
  else if (rel == "intersects") q.rel = GeoRel::kIntersects;
  else if (rel == "disjoint") q.rel = GeoRel::kDisjoint;
  else if (rel == "equals") q.rel = GeoRel::kEquals;
  else if (rel == "overlaps") q.rel = GeoRel::kOverlaps;
  else return bad("unknown georel \"" + std::string(rel) + "\" (use near, within, contains, intersects, disjoint, equals or overlaps)");
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string_view mod = parts[i];
    const size_t eq = mod.find("==");
    if (q.rel != GeoRel::kNear || eq == std::string_view::npos) return bad("invalid georel modifier \"" + std::string(mod) + "\"");
    const std::string_view key = mod.substr(0, eq);
    const std::string number(mod.substr(eq + 2));
    char* end = nullptr;
    const double d = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !(d >= 0)) {
      return bad("georel distance \"" + number + "\" must be a non-negative number of metres");
    }
    if (key == "maxDistance") q.max_distance = d;
    else if (key == "minDistance") q.min_distance = d;
    else return bad("unknown georel modifier \"" + std::string(key) + "\" (use maxDistance or minDistance)");
  }
  if (q.rel == GeoRel::kNear && q.max_distance < 0 && q.min_distance < 0) {
    return bad("georel near needs maxDistance or minDistance, e.g. near;maxDistance==2000");
  }
  boost::system::error_code ec;
  json::value coords = ParseJson(coordinates, ec);
  if (ec) return bad("coordinates \"" + std::string(coordinates) + "\" are not a JSON array");
  auto g = ParseGeometry(geometry, coords);
  if (!g) return bad("invalid geo-query geometry: " + g.error());
  if (q.rel == GeoRel::kNear && !std::holds_alternative<GeoPoint>(*g)) {
    return bad("georel near needs a Point geometry");
  }
  q.geometry = std::move(*g);
  if (!geoproperty.empty()) q.geoproperty = std::string(geoproperty);
  return q;
}

Expected<GeoQuery, Problem> ParseGeoQueryObject(const json::value& geoq) {
  if (!geoq.is_object()) return Unexpected(MakeProblem(ErrorType::kBadRequestData, "geoQ must be an object"));
  const auto& o = geoq.get_object();
  auto str = [&](const char* k) -> std::string {
    const json::value* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  const json::value* coords = o.if_contains("coordinates");
  std::string coords_text;
  if (coords != nullptr) coords_text = coords->is_string() ? std::string(coords->get_string()) : json::serialize(*coords);
  return ParseGeoQuery(str("georel"), str("geometry"), coords_text, str("geoproperty"));
}

bool GeoMatches(const GeoQuery& q, const Geometry& g) {
  switch (q.rel) {
    case GeoRel::kNear: {
      const double d = DistanceMetres(std::get<GeoPoint>(q.geometry), g);
      if (q.max_distance >= 0 && d > q.max_distance) return false;
      if (q.min_distance >= 0 && d < q.min_distance) return false;
      return true;
    }
    case GeoRel::kWithin: return Within(g, q.geometry);
    case GeoRel::kContains: return Within(q.geometry, g);
    case GeoRel::kIntersects: return Intersects(g, q.geometry);
    case GeoRel::kDisjoint: return !Intersects(g, q.geometry);
    case GeoRel::kEquals: return Equals(g, q.geometry);
    case GeoRel::kOverlaps: return Overlaps(g, q.geometry);
  }
  return false;
}

bool CandidateBox(const GeoQuery& q, GeoBox& box) {
  switch (q.rel) {
    case GeoRel::kDisjoint: return false;
    case GeoRel::kNear: {
      if (q.max_distance < 0) return false;
      const GeoPoint& p = std::get<GeoPoint>(q.geometry);
      const double lat = bg::get<1>(p), lon = bg::get<0>(p);
      const double dlat = q.max_distance / (kEarthRadius * kDeg) * 1.01;
      const double coslat = std::cos(std::min(89.0, std::fabs(lat) + dlat) * kDeg);
      const double dlon = std::min(360.0, q.max_distance / (kEarthRadius * kDeg * coslat) * 1.01);
      box = GeoBox(GeoPoint(lon - dlon, lat - dlat), GeoPoint(lon + dlon, lat + dlat));
      return true;
    }
    default:
      box = Envelope(q.geometry);
      return true;
  }
}

}  // namespace citybed::broker
