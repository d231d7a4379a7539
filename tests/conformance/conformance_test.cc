// The conformance runner's own logic: expectations and matchers, placeholders, case-file checks,
// and the shipped case files themselves (they must load without a mistake).
#include <catch2/catch.hpp>

#include "citybed/conformance/cases.h"
#include "citybed/conformance/match.h"
#include "citybed/conformance/runner.h"

using namespace citybed;
using namespace citybed::conformance;
using nlohmann::json;

namespace {
Observed Answer(int status, std::string body, std::vector<HttpField> headers = {{"Content-Type", "application/json"}}) {
  return Observed{status, std::move(headers), std::move(body)};
}
}  // namespace

TEST_CASE("Conformance: status, headers and content type are checked", "[conformance]") {
  const Observed r = Answer(201, "", {{"Location", "/ngsi-ld/v1/entities/urn:x:1"}, {"Content-Type", "application/json; charset=utf-8"}});
  CHECK(CheckResponse(json::parse(R"({"status": 201})"), r).empty());
  CHECK(CheckResponse(json::parse(R"({"status": [200, 201]})"), r).empty());
  CHECK_THAT(CheckResponse(json::parse(R"({"status": 204})"), r), Catch::Contains("expected 204, got 201"));
  CHECK(CheckResponse(json::parse(R"({"headers": {"location": {"$regex": "urn:x:1$"}}})"), r).empty());
  CHECK_THAT(CheckResponse(json::parse(R"({"headers": {"Link": {"$any": true}}})"), r), Catch::Contains("header Link"));
  CHECK(CheckResponse(json::parse(R"({"headers": {"Link": {"$absent": true}}})"), r).empty());
  CHECK(CheckResponse(json::parse(R"({"contentType": "application/json"})"), r).empty());
}

TEST_CASE("Conformance: json is exact, includes is a subset in any order", "[conformance]") {
  const Observed r = Answer(200, R"([{"id": "a", "v": 1, "x": true}, {"id": "b", "v": 2.0}])");
  CHECK(CheckResponse(json::parse(R"({"includes": [{"id": "b", "v": 2}, {"id": "a"}]})"), r).empty());
  CHECK_FALSE(CheckResponse(json::parse(R"({"includes": [{"id": "c"}]})"), r).empty());
  CHECK_FALSE(CheckResponse(json::parse(R"({"includes": [{"id": "a"}, {"id": "a"}]})"), r).empty());  // distinct elements
  CHECK_FALSE(CheckResponse(json::parse(R"({"json": [{"id": "a"}, {"id": "b"}]})"), r).empty());    // exact: extra members
  CHECK(CheckResponse(json::parse(R"({"json": [{"id": "a", "v": 1, "x": true}, {"id": "b", "v": 2}]})"), r).empty());
  CHECK(CheckResponse(json::parse(R"({"length": 2})"), r).empty());
  CHECK(CheckResponse(json::parse(R"({"pointers": {"/1/id": "b", "/0/x": {"$type": "boolean"}, "/2": {"$absent": true}}})"), r).empty());
  CHECK_THAT(CheckResponse(json::parse(R"({"pointers": {"/0/id": "z"}})"), r), Catch::Contains("body /0/id"));
}

TEST_CASE("Conformance: every matcher holds and fails as documented", "[conformance]") {
  auto ok = [](const char* expected, const char* actual) {
    const json a = json::parse(actual);
    return MatchValue(json::parse(expected), &a, false, "v").empty();
  };
  CHECK(ok(R"({"$regex": "^ab"})", R"("abc")"));
  CHECK_FALSE(ok(R"({"$regex": "^b"})", R"("abc")"));
  CHECK(ok(R"({"$type": "integer"})", "3"));
  CHECK(ok(R"({"$type": "number"})", "3.5"));
  CHECK_FALSE(ok(R"({"$type": "integer"})", "3.5"));
  CHECK(ok(R"({"$oneOf": [1, "x"]})", R"("x")"));
  CHECK(ok(R"({"$length": 3})", "[1, 2, 3]"));
  CHECK(ok(R"({"$contains": "bc"})", R"("abcd")"));
  CHECK(ok(R"({"$contains": {"a": 1}})", R"([{"a": 1, "b": 2}])"));
  CHECK(ok(R"({"$approx": 10, "$tol": 0.5})", "10.4"));
  CHECK_FALSE(ok(R"({"$approx": 10, "$tol": 0.5})", "10.6"));
  CHECK(ok(R"({"$not": 5})", "4"));
  CHECK(ok(R"({"$dateTime": true})", R"("2026-11-30T04:05:06.789Z")"));
  CHECK_FALSE(ok(R"({"$dateTime": true})", R"("yesterday")"));
  CHECK(ok(R"({"a": {"$absent": true}, "b": 1})", R"({"b": 1})"));
  CHECK_FALSE(ok(R"({"$bogus": 1})", "1"));  // a typo in a case fails loudly
}

TEST_CASE("Conformance: NGSI-LD problems and Orion errors are recognised", "[conformance]") {
  const Observed ld = Answer(400, R"({"type": "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "title": "Bad request data", "status": 400})");
  CHECK(CheckResponse(json::parse(R"({"status": 400, "problem": "BadRequestData"})"), ld).empty());
  CHECK_FALSE(CheckResponse(json::parse(R"({"problem": "InvalidRequest"})"), ld).empty());
  const Observed html = Answer(400, R"({"type": "https://uri.etsi.org/ngsi-ld/errors/BadRequestData", "title": "x"})",
                               {{"Content-Type", "text/html"}});
  CHECK_THAT(CheckResponse(json::parse(R"({"problem": "BadRequestData"})"), html), Catch::Contains("Content-Type"));
  const Observed v2 = Answer(404, R"({"error": "NotFound", "description": "The requested entity has not been found. Check type and id"})");
  CHECK(CheckResponse(json::parse(R"({"orionError": "NotFound"})"), v2).empty());
  CHECK_FALSE(CheckResponse(json::parse(R"({"orionError": "BadRequest"})"), v2).empty());
}

TEST_CASE("Conformance: placeholders are replaced in strings and keys, captures too", "[conformance]") {
  const std::map<std::string, std::string> vars = {{"uid", "t123"}, {"tenant", "cbt123"}, {"var:sub", "urn:s:1"}};
  CHECK(Substitute("urn:ngsi-ld:Room:{{uid}}-1", vars) == "urn:ngsi-ld:Room:t123-1");
  CHECK(Substitute("{{var:sub}}", vars) == "urn:s:1");
  CHECK(Substitute("{{unknown}}", vars) == "{{unknown}}");
  const std::string now = Substitute("{{now}}", vars), later = Substitute("{{now+1d}}", vars);
  CHECK(now.size() >= 20);
  CHECK(later > now);
  const json j = SubstituteAll(json::parse(R"({"T{{uid}}": ["{{tenant}}", 3]})"), vars);
  CHECK(j == json::parse(R"({"Tt123": ["cbt123", 3]})"));
}

TEST_CASE("Conformance: case files with mistakes are refused with their pointers", "[conformance]") {
  std::vector<std::string> errors;
  CheckCaseFile(json::parse(R"({"suite": "ngsi-ld", "feature": "f", "title": "t", "cases": [
      {"id": "a", "clause": "5.6.1", "title": "x", "steps": [{"request": {"method": "GET", "path": "/x"}, "expect": {"stauts": 200}}]},
      {"id": "a", "clause": "5.6.1", "title": "y", "steps": []}]})"),
                "f.json", "ngsi-ld", "f", errors);
  REQUIRE(errors.size() == 3);
  CHECK_THAT(errors[0], Catch::Contains("f.json#/cases/0/steps/0/expect/stauts: unknown member") && Catch::Contains("did you mean \"status\""));
  CHECK_THAT(errors[1], Catch::Contains("#/cases/1/id") && Catch::Contains("used twice"));
  CHECK_THAT(errors[2], Catch::Contains("#/cases/1/steps: must be a non-empty array"));
}

TEST_CASE("Conformance: the shipped case files load without a mistake, enough of them", "[conformance]") {
  for (const auto& [suite, at_least] : std::vector<std::pair<std::string, size_t>>{{"ngsi-ld", 150}, {"ngsi-v2", 100}}) {
    auto s = LoadSuite(std::string(CITYBED_CONFORMANCE_DIR) + "/" + suite, suite);
    if (!s) {
      for (const std::string& e : s.error()) UNSCOPED_INFO(e);
    }
    REQUIRE(s);
    CHECK(s->cases.size() >= at_least);
  }
}
