// Geometry for GeoProperties and geo-queries (ETSI GS CIM 009, 4.10 and 4.11).
//
// GeoJSON geometries (Point, LineString, Polygon, MultiPoint, MultiLineString, MultiPolygon)
// are held as Boost.Geometry objects in (longitude, latitude) degrees. Topological relations
// (within, contains, intersects, disjoint, equals, overlaps) are evaluated in that plane, as
// NGSI-LD brokers commonly do. Distances (near;maxDistance / minDistance, metres) are
// great-circle (haversine) between points; for lines and polygons they are measured in a local
// equirectangular projection around the query point (error well under 1 % below 100 km).
#pragma once

#include <boost/geometry/geometries/box.hpp>
#include <boost/geometry/geometries/linestring.hpp>
#include <boost/geometry/geometries/multi_linestring.hpp>
#include <boost/geometry/geometries/multi_point.hpp>
#include <boost/geometry/geometries/multi_polygon.hpp>
#include <boost/geometry/geometries/point.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "citybed/broker/problem.h"
#include "citybed/common/expected.h"

namespace citybed::broker {

namespace bgm = boost::geometry::model;
using GeoPoint = bgm::point<double, 2, boost::geometry::cs::cartesian>;  // (lon, lat)
using GeoBox = bgm::box<GeoPoint>;
using GeoLine = bgm::linestring<GeoPoint>;
using GeoPolygon = bgm::polygon<GeoPoint, false, true>;  // counter-clockwise exterior, closed
using GeoMultiPoint = bgm::multi_point<GeoPoint>;
using GeoMultiLine = bgm::multi_linestring<GeoLine>;
using GeoMultiPolygon = bgm::multi_polygon<GeoPolygon>;
using Geometry = std::variant<GeoPoint, GeoLine, GeoPolygon, GeoMultiPoint, GeoMultiLine, GeoMultiPolygon>;

// The most positions one geometry may have (all its rings and parts together): geo-queries
// and geo-subscriptions compare geometries in time that grows with their sizes.
inline constexpr size_t kMaxGeoPositions = 10000;

// Parses a GeoJSON geometry object {"type": ..., "coordinates": ...}. Errors name the problem.
// Geometries beyond kMaxGeoPositions are refused.
Expected<Geometry, std::string> ParseGeoJson(const boost::json::value& v);
// Parses a geometry given as a type name and coordinates (GET /entities?geometry=&coordinates=).
Expected<Geometry, std::string> ParseGeometry(std::string_view type, const boost::json::value& coordinates);
GeoBox Envelope(const Geometry& g);

enum class GeoRel { kNear, kWithin, kContains, kIntersects, kDisjoint, kEquals, kOverlaps };

struct GeoQuery {
  GeoRel rel = GeoRel::kIntersects;
  double max_distance = -1;  // metres, near only
  double min_distance = -1;
  Geometry geometry;
  std::string geoproperty = "location";  // as given (the caller expands it)
};

// Parses the georel ("near;maxDistance==2000", "within", ...), geometry and coordinates text.
Expected<GeoQuery, Problem> ParseGeoQuery(std::string_view georel, std::string_view geometry,
                                          std::string_view coordinates, std::string_view geoproperty);
// Same, from a subscription's or a query body's "geoQ" object.
Expected<GeoQuery, Problem> ParseGeoQueryObject(const boost::json::value& geoq);

// Does an entity geometry satisfy the query?
bool GeoMatches(const GeoQuery& q, const Geometry& entity_geometry);
// A box that contains every geometry that can match (for the spatial index); false when the
// relation cannot be narrowed by a box (disjoint, near;minDistance).
bool CandidateBox(const GeoQuery& q, GeoBox& box);

// Great-circle distance in metres between two (lon, lat) points.
double HaversineMetres(const GeoPoint& a, const GeoPoint& b);

}  // namespace citybed::broker
