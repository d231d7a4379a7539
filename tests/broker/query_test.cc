#include <catch2/catch.hpp>

#include "citybed/broker/query.h"
#include "test_util.h"

using namespace citybed::broker;

namespace {

struct Fixture {
  Interner names;
  ContextResolver contexts;
  Entity entity;
  Fixture() {
    auto body = boost::json::parse(R"({
      "id": "urn:ngsi-ld:Room:1", "type": "Room",
      "temperature": {"type": "Property", "value": 23.5, "observedAt": "2024-05-01T12:00:00Z", "unitCode": "CEL",
                      "accuracy": {"type": "Property", "value": 0.5}},
      "name": {"type": "Property", "value": "Hall 7"},
      "status": {"type": "Property", "value": ["open", "heated"]},
      "address": {"type": "Property", "value": {"city": "Osaka", "zip": "530-0001"}},
      "open": {"type": "Property", "value": true},
      "inBuilding": {"type": "Relationship", "object": "urn:ngsi-ld:Building:B"},
      "lastService": {"type": "Property", "value": "2024-03-01T00:00:00Z"}
    })");
    Codec codec{names, *contexts.Core()};
    entity = *ParseEntity(body.as_object(), codec, 0);
  }
  bool Q(const std::string& q) {
    auto parsed = Query::Parse(q);
    REQUIRE(parsed);
    parsed->Bind(*contexts.Core(), names);
    return parsed->Matches(entity);
  }
};

}  // namespace

TEST_CASE("q compares numbers, strings, booleans and relationships", "[broker]") {
  Fixture f;
  CHECK(f.Q("temperature>20"));
  CHECK_FALSE(f.Q("temperature>30"));
  CHECK(f.Q("temperature>=23.5"));
  CHECK(f.Q("temperature<=23.5"));
  CHECK_FALSE(f.Q("temperature<23.5"));
  CHECK(f.Q("temperature==23.5"));
  CHECK(f.Q("temperature!=20"));
  CHECK(f.Q("name==\"Hall 7\""));
  CHECK_FALSE(f.Q("name==\"Hall 8\""));
  CHECK(f.Q("open==true"));
  CHECK_FALSE(f.Q("open==false"));
  CHECK(f.Q("inBuilding==urn:ngsi-ld:Building:B"));
  CHECK(f.Q("inBuilding==\"urn:ngsi-ld:Building:B\""));
  CHECK_FALSE(f.Q("inBuilding==urn:ngsi-ld:Building:C"));
}

TEST_CASE("q supports ranges, value lists, patterns, AND, OR and parentheses", "[broker]") {
  Fixture f;
  CHECK(f.Q("temperature==20..25"));
  CHECK_FALSE(f.Q("temperature==24..25"));
  CHECK(f.Q("temperature!=24..25"));
  CHECK(f.Q("temperature==1,2,23.5"));
  CHECK_FALSE(f.Q("temperature==1,2,3"));
  CHECK(f.Q("name~=Hall.*"));
  CHECK(f.Q("name!~=^Room"));
  CHECK(f.Q("temperature>20;open==true"));
  CHECK_FALSE(f.Q("temperature>20;open==false"));
  CHECK(f.Q("temperature>30|open==true"));
  CHECK(f.Q("(temperature>30|open==true);name==\"Hall 7\""));
  CHECK_FALSE(f.Q("(temperature>30|open==false);name==\"Hall 7\""));
  CHECK(f.Q("temperature>30|(open==true;name~=Hall)"));
}

TEST_CASE("q reads sub-attributes, members of JSON values, metadata and existence", "[broker]") {
  Fixture f;
  CHECK(f.Q("temperature.accuracy<1"));
  CHECK_FALSE(f.Q("temperature.accuracy>1"));
  CHECK(f.Q("address[city]==\"Osaka\""));
  CHECK_FALSE(f.Q("address[city]==\"Kyoto\""));
  CHECK(f.Q("temperature.observedAt>2024-01-01T00:00:00Z"));
  CHECK_FALSE(f.Q("temperature.observedAt>2024-06-01T00:00:00Z"));
  CHECK(f.Q("temperature.unitCode==\"CEL\""));
  CHECK(f.Q("lastService<2024-04-01T00:00:00Z"));
  CHECK(f.Q("temperature"));
  CHECK_FALSE(f.Q("humidity"));
  CHECK(f.Q("status==\"heated\""));  // any element of an array value
  CHECK_FALSE(f.Q("status==\"closed\""));
  CHECK_FALSE(f.Q("humidity>1"));
}

TEST_CASE("q rejects malformed expressions with the position of the mistake", "[broker]") {
  for (const char* bad : {"", "temperature>", ">5", "temperature>>5", "(temperature>5", "temperature>5)",
                          "temperature==\"open", "name~=(", "a[", "temperature>5;", "temperature=5"}) {
    INFO(bad);
    auto q = Query::Parse(bad);
    REQUIRE_FALSE(q);
    CHECK(q.error().type == ErrorType::kBadRequestData);  // CIM 009 V1.9.1, 5.7.2.4
  }
  auto q = Query::Parse("temperature>5;;x");
  REQUIRE_FALSE(q);
  CHECK_THAT(q.error().detail, Catch::Contains("position 14"));
  CHECK(Query::Parse(std::string(5000, 'a')).error().type == ErrorType::kTooComplexQuery);
}

namespace {

// NGSI-v2 q and mq (Query::ParseV2) over one entity.
struct V2Fixture {
  Interner names;
  ContextResolver contexts;
  Entity entity;
  V2Fixture() {
    auto body = boost::json::parse(R"({
      "id": "urn:ngsi-v2:R1", "type": "Room",
      "a": {"type": "Property", "value": 1},
      "b": {"type": "Property", "value": 7, "unitCode": "CEL", "accuracy": {"type": "Property", "value": 0.5}},
      "s": {"type": "Property", "value": "1"},
      "t": {"type": "Property", "value": "x;y"},
      "w": {"type": "Property", "value": "abcd"},
      "z": {"type": "Property", "value": "zab"},
      "address": {"type": "Property", "value": {"city": "Osaka"}},
      "when": {"type": "Property", "value": {"@type": "DateTime", "@value": "2026-01-01T00:00:00Z"}}
    })");
    Codec codec{names, *contexts.Core()};
    entity = *ParseEntity(body.as_object(), codec, 0);
  }
  bool Q(const std::string& q, bool metadata = false) {
    auto parsed = Query::ParseV2(q, metadata);
    INFO(q);
    REQUIRE(parsed);
    parsed->Bind(*contexts.Core(), names);
    return parsed->Matches(entity);
  }
};

}  // namespace

TEST_CASE("v2 q: AND of statements, existence, lists, ranges, quoted strings and patterns",
          "[broker][ngsiv2]") {
  V2Fixture f;
  // ';' is AND.
  CHECK(f.Q("a==1;b>2"));
  CHECK_FALSE(f.Q("a==1;b>7"));
  CHECK_FALSE(f.Q("a==2;b>2"));
  CHECK(f.Q("a==1;b>2;"));  // a trailing ';' is tolerated
  // attr: exists; !attr: does not exist.
  CHECK(f.Q("a"));
  CHECK_FALSE(f.Q("c"));
  CHECK(f.Q("!c"));
  CHECK_FALSE(f.Q("!a"));
  CHECK(f.Q("a;!c"));
  // Lists and ranges (== and !=).
  CHECK(f.Q("a==1,2,3"));
  CHECK_FALSE(f.Q("b==1,2,3"));
  CHECK(f.Q("b!=1,2,3"));
  CHECK(f.Q("a==1..5"));
  CHECK_FALSE(f.Q("b==1..5"));
  CHECK(f.Q("b!=1..5"));
  CHECK(f.Q("b:7"));  // ':' is '=='
  CHECK(f.Q("b>=7;b<=7;b<8;b!=6"));
  // A quoted string keeps ';' (and ',' and '..') in the value.
  CHECK(f.Q("t=='x;y'"));
  CHECK(f.Q("t==\"x;y\""));
  CHECK_FALSE(f.Q("t=='x'"));
  CHECK_FALSE(f.Q("t==x;y"));  // t==x AND y exists
  CHECK(f.Q("t=='a,b','x;y'"));
  // Patterns.
  CHECK(f.Q("w~=^ab"));
  CHECK_FALSE(f.Q("z~=^ab"));
  CHECK(f.Q("z~=ab$"));
  // Members of a structured value, dates.
  CHECK(f.Q("address.city=='Osaka'"));
  CHECK_FALSE(f.Q("address.city=='Kyoto'"));
  CHECK(f.Q("when>2025-12-31T00:00:00Z"));
  CHECK_FALSE(f.Q("when<2025-12-31"));
}

TEST_CASE("v2 q: numbers match numbers and quoted text matches strings only (Orion's typing)", "[broker][ngsiv2]") {
  V2Fixture f;
  CHECK(f.Q("s=='1'"));      // the string "1"
  CHECK_FALSE(f.Q("a=='1'"));  // not the number 1
  CHECK(f.Q("a==1"));
  CHECK_FALSE(f.Q("s==1"));    // an unquoted number does not match the string "1"
  CHECK_FALSE(f.Q("s>0"));
  // NGSI-LD's q is laxer: an unquoted number matches a numeric string.
  auto ld = Query::Parse("s==1");
  REQUIRE(ld);
  ld->Bind(*f.contexts.Core(), f.names);
  CHECK(ld->Matches(f.entity));
}

TEST_CASE("v2 mq reads metadata (sub-attributes and the mapped unitCode)", "[broker][ngsiv2]") {
  V2Fixture f;
  CHECK(f.Q("b.accuracy<1", true));
  CHECK_FALSE(f.Q("b.accuracy>1", true));
  CHECK(f.Q("b.unitCode=='CEL'", true));
  CHECK(f.Q("b.accuracy", true));
  CHECK(f.Q("!a.accuracy", true));
  auto no_metadata = Query::ParseV2("b", true);
  REQUIRE_FALSE(no_metadata);
  CHECK(no_metadata.error().type == ErrorType::kBadRequestData);
}

TEST_CASE("v2 q rejects malformed expressions with the position of the mistake", "[broker][ngsiv2]") {
  for (const char* bad : {"", "a==", "==1", "a>", "a==1..", "a~=", "a=='x", "a==1;;b", "!a==1", "a>1,2", "a>1..2",
                          "a=1", "a~=("}) {
    INFO(bad);
    auto q = Query::ParseV2(bad, false);
    REQUIRE_FALSE(q);
    CHECK(q.error().type == ErrorType::kBadRequestData);
  }
  auto q = Query::ParseV2("a==1;b==", false);
  REQUIRE_FALSE(q);
  CHECK_THAT(q.error().detail, Catch::Contains("position 8"));
  CHECK(Query::ParseV2(std::string(5000, 'a'), false).error().type == ErrorType::kTooComplexQuery);
}
