// The one table of operation classes: a request's class follows from its method and target, for
// NGSI-LD and NGSI-v2 alike; names round-trip.
#include <catch2/catch.hpp>

#include "citybed/common/op_class.h"

using namespace citybed;

TEST_CASE("Requests are classed by method and target, NGSI-LD and NGSI-v2 alike", "[common][op_class]") {
  struct Case {
    const char* method;
    const char* target;
    OpClass cls;
  };
  const Case cases[] = {
      {"POST", "/ngsi-ld/v1/entities", OpClass::kUpsert},
      {"PATCH", "/ngsi-ld/v1/entities/urn:a/attrs", OpClass::kUpsert},
      {"POST", "/ngsi-ld/v1/entities/urn:a/attrs", OpClass::kUpsert},
      {"PUT", "/ngsi-ld/v1/entities/urn:a", OpClass::kUpsert},
      {"DELETE", "/ngsi-ld/v1/entities/urn:a", OpClass::kUpsert},
      {"POST", "/ngsi-ld/v1/entityOperations/upsert?options=update", OpClass::kBatchUpsert},
      {"POST", "/ngsi-ld/v1/entityOperations/delete", OpClass::kBatchUpsert},
      {"POST", "/ngsi-ld/v1/entityOperations/query", OpClass::kQuery},
      {"GET", "/ngsi-ld/v1/entities/urn:a", OpClass::kGet},
      {"GET", "/ngsi-ld/v1/entities/urn:a?attrs=x", OpClass::kGet},
      {"GET", "/ngsi-ld/v1/entities?type=T&q=x%3E1", OpClass::kQuery},
      {"GET", "/ngsi-ld/v1/entities?type=T&georel=near%3BmaxDistance%3D%3D100&geometry=Point", OpClass::kGeoQuery},
      {"GET", "/ngsi-ld/v1/entities?type=T&q=georel%3Dx", OpClass::kQuery},  // "georel=" inside a value is no geo-query
      {"POST", "/ngsi-ld/v1/subscriptions", OpClass::kSubscription},
      {"DELETE", "/ngsi-ld/v1/subscriptions/urn:s", OpClass::kSubscription},
      {"POST", "/ngsi-ld/v1/csourceRegistrations", OpClass::kOther},
      {"GET", "/ngsi-ld/v1/types", OpClass::kOther},
      {"POST", "/v2/entities?options=upsert", OpClass::kUpsert},
      {"PATCH", "/v2/entities/a/attrs", OpClass::kUpsert},
      {"POST", "/v2/op/update", OpClass::kBatchUpsert},
      {"POST", "/v2/op/query", OpClass::kQuery},
      {"GET", "/v2/entities/a", OpClass::kGet},
      {"GET", "/v2/entities/a/attrs", OpClass::kGet},
      {"GET", "/v2/entities?type=T&georel=near;maxDistance:100&geometry=point&coords=35,139", OpClass::kGeoQuery},
      {"GET", "/v2/entities?type=T", OpClass::kQuery},
      {"POST", "/v2/subscriptions", OpClass::kSubscription},
      {"GET", "/version", OpClass::kOther},
      {"GET", "/metrics", OpClass::kOther},
      {"GET", "/ngsi-ld/v1/", OpClass::kOther},
  };
  for (const Case& c : cases) {
    INFO(c.method << " " << c.target);
    CHECK(ClassifyRequest(c.method, c.target) == c.cls);
  }
}

TEST_CASE("A whole request is classed by its request line", "[common][op_class]") {
  CHECK(ClassifyWire("GET /ngsi-ld/v1/entities/urn:x HTTP/1.1\r\nHost: h\r\n\r\n") == OpClass::kGet);
  CHECK(ClassifyWire("POST /v2/op/update HTTP/1.1\r\n\r\n{}") == OpClass::kBatchUpsert);
  CHECK(ClassifyWire("garbage") == OpClass::kOther);
  CHECK(ClassifyWire("") == OpClass::kOther);
}

TEST_CASE("Class names round-trip and unknown names are refused", "[common][op_class]") {
  for (size_t i = 0; i < kOpClasses; ++i) {
    const auto c = static_cast<OpClass>(i);
    CHECK(OpClassFromName(OpClassName(c)) == c);
  }
  CHECK(OpClassName(OpClass::kBatchUpsert) == "batch-upsert");
  CHECK(!OpClassFromName("upserts").has_value());
}
