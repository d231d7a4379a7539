#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "citybed/broker/entity.h"
#include "test_util.h"

using namespace citybed::broker;
namespace json = boost::json;

namespace {
struct Fixture {
  Interner names;
  ContextResolver contexts;
  Codec codec{names, *contexts.Core()};
  citybed::Expected<Entity, Problem> Parse(const std::string& text) {
    return ParseEntity(json::parse(text).as_object(), codec, 1714564800000000);
  }
  std::string Render(const Entity& e, Format f, bool sys = false) {
    std::string out;
    JsonWriter w(out);
    RenderOptions o;
    o.format = f;
    o.sys_attrs = sys;
    RenderEntity(w, e, o, codec);
    return out;
  }
};
}  // namespace

TEST_CASE("A normalized entity round-trips through parse and render", "[broker]") {
  Fixture f;
  auto e = f.Parse(testing::kEntity400);
  REQUIRE(e);
  CHECK(e->id == "urn:ngsi-ld:AirQualityObserved:001");
  CHECK(e->attrs.size() == 4);
  const std::string out = f.Render(*e, Format::kNormalized);
  CHECK(json::parse(out) == json::parse(testing::kEntity400));
}

TEST_CASE("keyValues and concise renderings follow the specification", "[broker]") {
  Fixture f;
  auto e = f.Parse(testing::kEntity400);
  REQUIRE(e);
  auto kv = json::parse(f.Render(*e, Format::kKeyValues));
  CHECK(kv.at("no2") == json::value(22.5));
  CHECK(kv.at("refDevice") == json::value("urn:ngsi-ld:Device:7"));
  CHECK(kv.at("location").at("type") == json::value("Point"));
  auto concise = json::parse(f.Render(*e, Format::kConcise));
  CHECK(concise.at("pm10") == json::value(31.2));                                  // bare value
  CHECK(concise.at("no2").at("value") == json::value(22.5));                       // has metadata
  CHECK_FALSE(concise.at("no2").as_object().contains("type"));
  CHECK(concise.at("refDevice").at("object") == json::value("urn:ngsi-ld:Device:7"));
  CHECK(concise.at("location").at("type") == json::value("Point"));               // bare GeoJSON
  // Concise input reads back to the same entity.
  auto back = f.Parse(json::serialize(concise));
  REQUIRE(back);
  CHECK(json::parse(f.Render(*back, Format::kNormalized)) == json::parse(testing::kEntity400));
}

TEST_CASE("System attributes are rendered on request", "[broker]") {
  Fixture f;
  auto e = f.Parse(testing::kEntity400);
  REQUIRE(e);
  auto out = json::parse(f.Render(*e, Format::kNormalized, true));
  CHECK(out.at("createdAt") == json::value("2024-05-01T12:00:00Z"));
  CHECK(out.at("no2").at("modifiedAt") == json::value("2024-05-01T12:00:00Z"));
}

TEST_CASE("Multi-attributes keep their instances apart by datasetId", "[broker]") {
  Fixture f;
  auto e = f.Parse(R"({"id":"urn:x:1","type":"T","speed":[
      {"type":"Property","value":10,"datasetId":"urn:ngsi-ld:Dataset:gps"},
      {"type":"Property","value":12}]})");
  REQUIRE(e);
  CHECK(e->attrs.size() == 2);
  auto out = json::parse(f.Render(*e, Format::kNormalized));
  REQUIRE(out.at("speed").is_array());
  CHECK(out.at("speed").as_array().size() == 2);
  auto dup = f.Parse(R"({"id":"urn:x:1","type":"T","speed":[{"type":"Property","value":1},{"type":"Property","value":2}]})");
  REQUIRE_FALSE(dup);
  CHECK_THAT(dup.error().detail, Catch::Contains("same datasetId"));
}

TEST_CASE("Invalid entities are refused with BadRequestData and a reason", "[broker]") {
  Fixture f;
  const std::pair<const char*, const char*> cases[] = {
      {R"({"type":"T"})", "no id"},
      {R"({"id":"not a uri","type":"T"})", "URI"},
      {R"({"id":"urn:x:1"})", "no type"},
      {R"({"id":"urn:x:1","type":"T","a":{"type":"Property"}})", "\"value\""},
      {R"({"id":"urn:x:1","type":"T","a":{"type":"Property","value":null}})", "\"value\""},
      {R"({"id":"urn:x:1","type":"T","a":{"type":"Relationship","object":5}})", "URI"},
      {R"({"id":"urn:x:1","type":"T","a":{"type":"Wibble","value":1}})", "unknown type"},
      {R"({"id":"urn:x:1","type":"T","a":{"type":"Property","value":1,"observedAt":"yesterday"}})", "observedAt"},
      {R"({"id":"urn:x:1","type":"T","location":{"type":"GeoProperty","value":{"type":"Point","coordinates":[1]}}})", "position"},
      {R"({"id":"urn:x:1","type":"T","bad name":{"type":"Property","value":1}})", "invalid attribute name"},
      {R"({"id":"urn:x:1","type":"T","a":null})", "null"},
  };
  for (const auto& [text, why] : cases) {
    INFO(text);
    auto e = f.Parse(text);
    REQUIRE_FALSE(e);
    CHECK(e.error().type == ErrorType::kBadRequestData);
    CHECK_THAT(e.error().detail, Catch::Contains(why));
  }
}

TEST_CASE("Ids, names and JSON strings are checked and escaped", "[broker]") {
  CHECK(IsUri("urn:ngsi-ld:Vehicle:A4567"));
  CHECK(IsUri("https://example.org/a"));
  CHECK_FALSE(IsUri("Vehicle:"));
  CHECK_FALSE(IsUri("no-colon"));
  CHECK_FALSE(IsUri("urn:with space"));
  CHECK(IsValidName("temperature"));
  CHECK_FALSE(IsValidName("a=b"));
  CHECK_FALSE(IsValidName(""));
  std::string out;
  AppendJsonString(out, "a\"b\\c\n\x01");
  CHECK(out == R"("a\"b\\c\n\u0001")");
  out.clear();
  // Valid UTF-8 passes as it is; every byte of an invalid sequence becomes U+FFFD (issue 14:
  // a ProblemDetails echoing a URL's raw bytes was invalid JSON).
  AppendJsonString(out, "\xE6\x97\xA5\xF0\x9F\x9A\x8C");  // 日 and a bus, 3 and 4 bytes
  CHECK(out == "\"\xE6\x97\xA5\xF0\x9F\x9A\x8C\"");
  const std::pair<const char*, int> bad[] = {{"\xFF", 1},          {"\xC0\x80", 2} /* overlong */,
                                             {"\xED\xA0\x80", 3} /* surrogate */, {"\xF5\x80\x80\x80", 4},
                                             {"\xF4\x90\x80\x80", 4} /* above U+10FFFF */,
                                             {"\xE6\x97", 2} /* cut short */, {"\x80", 1}};
  for (const auto& [text, replaced] : bad) {
    out.clear();
    AppendJsonString(out, std::string("a") + text + "b");
    std::string expected = "\"a";
    for (int k = 0; k < replaced; ++k) expected += "\xEF\xBF\xBD";
    expected += "b\"";
    CHECK(out == expected);
    CHECK_NOTHROW(boost::json::parse(out));  // Boost.JSON refuses invalid UTF-8
  }
  out.clear();
  AppendJsonNumber(out, 22.5);
  AppendJsonNumber(out, 3.0);
  AppendJsonNumber(out, 0.1);
  CHECK(out == "22.530.1");
}
