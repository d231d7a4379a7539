#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "citybed/broker/geo.h"

using namespace citybed::broker;
namespace json = boost::json;

namespace {
Geometry G(const char* text) {
  auto g = ParseGeoJson(json::parse(text));
  REQUIRE(g);
  return *g;
}
GeoQuery Q(const char* georel, const char* geometry, const char* coords) {
  auto q = ParseGeoQuery(georel, geometry, coords, "");
  REQUIRE(q);
  return *q;
}
}  // namespace

TEST_CASE("GeoJSON geometries parse and bad ones are explained", "[broker]") {
  CHECK(ParseGeoJson(json::parse(R"({"type":"Point","coordinates":[139.7,35.6]})")));
  CHECK(ParseGeoJson(json::parse(R"({"type":"LineString","coordinates":[[0,0],[1,1]]})")));
  CHECK(ParseGeoJson(json::parse(R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]})")));
  CHECK(ParseGeoJson(json::parse(R"({"type":"MultiPoint","coordinates":[[0,0],[1,1]]})")));
  CHECK(ParseGeoJson(json::parse(R"({"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]})")));
  auto open_ring = ParseGeoJson(json::parse(R"({"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]})"));
  REQUIRE_FALSE(open_ring);
  CHECK_THAT(open_ring.error(), Catch::Contains("closed"));
  CHECK_FALSE(ParseGeoJson(json::parse(R"({"type":"Point","coordinates":[200,0]})")));
  CHECK_FALSE(ParseGeoJson(json::parse(R"({"type":"Point","coordinates":["1","2"]})")));
  CHECK_FALSE(ParseGeoJson(json::parse(R"({"type":"Circle","coordinates":[1,2]})")));
  CHECK_FALSE(ParseGeoJson(json::parse(R"({"coordinates":[1,2]})")));
}

TEST_CASE("Haversine distances match known values", "[broker]") {
  // Tokyo Station to Osaka Station: about 403 km.
  const double d = HaversineMetres(GeoPoint(139.7671, 35.6812), GeoPoint(135.4959, 34.7025));
  CHECK(d == Approx(403000).epsilon(0.01));
  // One degree of latitude: about 111.2 km.
  CHECK(HaversineMetres(GeoPoint(0, 0), GeoPoint(0, 1)) == Approx(111195).epsilon(0.001));
}

TEST_CASE("near honours maxDistance and minDistance", "[broker]") {
  const Geometry p = G(R"({"type":"Point","coordinates":[139.7671,35.6812]})");
  CHECK(GeoMatches(Q("near;maxDistance==1000", "Point", "[139.77,35.68]"), p));
  CHECK_FALSE(GeoMatches(Q("near;maxDistance==100", "Point", "[139.78,35.68]"), p));
  CHECK(GeoMatches(Q("near;minDistance==500", "Point", "[139.78,35.68]"), p));
  CHECK_FALSE(GeoMatches(Q("near;minDistance==5000", "Point", "[139.78,35.68]"), p));
  // A line 1 km away in a local plane.
  const Geometry line = G(R"({"type":"LineString","coordinates":[[139.7671,35.6902],[139.78,35.6902]]})");
  CHECK(GeoMatches(Q("near;maxDistance==1100", "Point", "[139.7671,35.6812]"), line));
  CHECK_FALSE(GeoMatches(Q("near;maxDistance==900", "Point", "[139.7671,35.6812]"), line));
}

TEST_CASE("within, contains, intersects, disjoint, equals and overlaps", "[broker]") {
  const char* square = "[[[0,0],[10,0],[10,10],[0,10],[0,0]]]";
  const Geometry inside = G(R"({"type":"Point","coordinates":[5,5]})");
  const Geometry outside = G(R"({"type":"Point","coordinates":[15,5]})");
  const Geometry small = G(R"({"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,2],[1,1]]]})");
  const Geometry crossing = G(R"({"type":"LineString","coordinates":[[-5,5],[5,5]]})");
  const Geometry shifted = G(R"({"type":"Polygon","coordinates":[[[5,5],[15,5],[15,15],[5,15],[5,5]]]})");
  CHECK(GeoMatches(Q("within", "Polygon", square), inside));
  CHECK_FALSE(GeoMatches(Q("within", "Polygon", square), outside));
  CHECK(GeoMatches(Q("within", "Polygon", square), small));
  CHECK(GeoMatches(Q("intersects", "Polygon", square), crossing));
  CHECK_FALSE(GeoMatches(Q("intersects", "Polygon", square), outside));
  CHECK(GeoMatches(Q("disjoint", "Polygon", square), outside));
  CHECK_FALSE(GeoMatches(Q("disjoint", "Polygon", square), inside));
  CHECK(GeoMatches(Q("contains", "Point", "[1.5,1.5]"), small));
  CHECK_FALSE(GeoMatches(Q("contains", "Point", "[5,5]"), small));
  CHECK(GeoMatches(Q("equals", "Point", "[5,5]"), inside));
  CHECK(GeoMatches(Q("overlaps", "Polygon", square), shifted));
  CHECK_FALSE(GeoMatches(Q("overlaps", "Polygon", square), small));  // inside, not overlapping
}

TEST_CASE("Geo-query parameters are validated", "[broker]") {
  CHECK_FALSE(ParseGeoQuery("near", "Point", "[1,2]", ""));                       // no distance
  CHECK_FALSE(ParseGeoQuery("near;maxDistance==-3", "Point", "[1,2]", ""));
  CHECK_FALSE(ParseGeoQuery("near;maxDistance==1", "Polygon", "[[[0,0],[1,0],[1,1],[0,0]]]", ""));
  CHECK_FALSE(ParseGeoQuery("nearby", "Point", "[1,2]", ""));
  CHECK_FALSE(ParseGeoQuery("within", "Point", "not json", ""));
  CHECK_FALSE(ParseGeoQuery("within", "", "[1,2]", ""));
  auto q = ParseGeoQuery("near;maxDistance==2000;minDistance==10", "Point", "[139.7,35.6]", "observationSpace");
  REQUIRE(q);
  CHECK(q->max_distance == 2000);
  CHECK(q->min_distance == 10);
  CHECK(q->geoproperty == "observationSpace");
  GeoBox box;
  REQUIRE(CandidateBox(*q, box));
  // The box must contain every point within 2 km.
  CHECK(boost::geometry::get<boost::geometry::max_corner, 1>(box) > 35.6 + 2000 / 111195.0);
  CHECK_FALSE(CandidateBox(*ParseGeoQuery("disjoint", "Point", "[1,2]", ""), box));
}
