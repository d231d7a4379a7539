#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <map>

#include "citybed/broker/context.h"

using namespace citybed;
using namespace citybed::broker;
namespace json = boost::json;

namespace {
// A resolver whose "network" is a map of URL -> document, counting fetches.
struct FakeWeb {
  std::map<std::string, std::string> docs;
  int fetches = 0;
  ContextResolver Resolver() {
    ContextResolverOptions o;
    o.fetcher = [this](const std::string& url) -> Expected<std::string> {
      ++fetches;
      auto it = docs.find(url);
      if (it == docs.end()) return Unexpected(Error::Unavailable("connection refused"));
      return it->second;
    };
    return ContextResolver(o);
  }
};
}  // namespace

TEST_CASE("The core context expands NGSI-LD terms and unknown words to the default vocabulary", "[broker]") {
  ContextResolver r;
  const Context& core = *r.Core();
  CHECK(core.Expand("location") == "https://uri.etsi.org/ngsi-ld/location");
  CHECK(core.Expand("temperature") == "https://uri.etsi.org/ngsi-ld/default-context/temperature");
  CHECK(core.Expand("https://example.org/x") == "https://example.org/x");
  CHECK(core.Expand("urn:ngsi-ld:foo") == "urn:ngsi-ld:foo");
  CHECK(core.Expand("ngsi-ld:foo") == "https://uri.etsi.org/ngsi-ld/foo");
  CHECK(core.Compact("https://uri.etsi.org/ngsi-ld/default-context/temperature") == "temperature");
  CHECK(core.Compact("https://uri.etsi.org/ngsi-ld/location") == "location");
  CHECK(core.Compact("https://example.org/x") == "https://example.org/x");
  CHECK(core.is_core());
  CHECK(core.link_url() == kCoreContextUrl);
}

TEST_CASE("Inline contexts define terms and prefixes, and the core context cannot be overridden", "[broker]") {
  ContextResolver r;
  auto ctx = r.FromJson(json::parse(R"({
    "sdm": "https://smartdatamodels.org/",
    "AirQualityObserved": "sdm:dataModel.Environment/AirQualityObserved",
    "no2": {"@id": "sdm:dataModel.Environment/no2", "@type": "@id"},
    "location": "https://example.org/not-the-core-location"
  })"));
  REQUIRE(ctx);
  const Context& c = **ctx;
  CHECK(c.Expand("AirQualityObserved") == "https://smartdatamodels.org/dataModel.Environment/AirQualityObserved");
  CHECK(c.Expand("no2") == "https://smartdatamodels.org/dataModel.Environment/no2");
  CHECK(c.Expand("sdm:other") == "https://smartdatamodels.org/other");
  CHECK(c.Expand("location") == "https://uri.etsi.org/ngsi-ld/location");  // core wins
  CHECK(c.Compact("https://smartdatamodels.org/dataModel.Environment/no2") == "no2");
  CHECK(c.Compact("https://smartdatamodels.org/unlisted") == "sdm:unlisted");
  CHECK(c.Expand("pm10") == "https://uri.etsi.org/ngsi-ld/default-context/pm10");
}

TEST_CASE("Remote contexts are fetched once, nested, and cached", "[broker]") {
  FakeWeb web;
  web.docs["http://ctx.test/a.jsonld"] =
      R"({"@context": ["http://ctx.test/b.jsonld", {"speed": "https://vocab.test/speed"}]})";
  web.docs["http://ctx.test/b.jsonld"] = R"({"@context": {"Vehicle": "https://vocab.test/Vehicle"}})";
  ContextResolver r = web.Resolver();
  auto a = r.FromUrl("http://ctx.test/a.jsonld");
  REQUIRE(a);
  CHECK((*a)->Expand("speed") == "https://vocab.test/speed");
  CHECK((*a)->Expand("Vehicle") == "https://vocab.test/Vehicle");
  CHECK((*a)->link_url() == "http://ctx.test/a.jsonld");
  CHECK(web.fetches == 2);
  auto again = r.FromUrl("http://ctx.test/a.jsonld");
  REQUIRE(again);
  CHECK(again->get() == a->get());
  CHECK(web.fetches == 2);
  // The core context URL is never fetched.
  auto core = r.FromUrl(std::string(kCoreContextUrl));
  REQUIRE(core);
  CHECK((*core)->is_core());
  CHECK(web.fetches == 2);
}

TEST_CASE("Unreachable or invalid remote contexts give LdContextNotAvailable", "[broker]") {
  FakeWeb web;
  web.docs["http://ctx.test/not-a-context"] = R"({"hello": "world"})";
  web.docs["http://ctx.test/not-json"] = "<html>";
  ContextResolver r = web.Resolver();
  for (const char* url : {"http://ctx.test/missing", "http://ctx.test/not-a-context", "http://ctx.test/not-json"}) {
    auto c = r.FromUrl(url);
    REQUIRE_FALSE(c);
    CHECK(c.error().type == ErrorType::kLdContextNotAvailable);
    CHECK(c.error().HttpStatus() == 503);
    CHECK_THAT(c.error().detail, Catch::Contains(url));
  }
  auto bad = r.FromJson(json::parse("42"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().type == ErrorType::kBadRequestData);
}

TEST_CASE("A remote context that cannot be fetched again is served from the copy fetched before", "[broker]") {
  FakeWeb web;
  web.docs["https://city.example/a.jsonld"] = R"({"@context": {"speed": "https://city.example/speed"}})";
  web.docs["https://city.example/b.jsonld"] = R"({"@context": {"flow": "https://city.example/flow"}})";
  ContextResolverOptions o;
  o.cache_ttl = std::chrono::seconds(0);  // every use is past the documents' time to live
  o.max_cached_contexts = 1;              // and compiled contexts are evicted at once
  o.fetcher = [&web](const std::string& url) -> Expected<std::string> {
    ++web.fetches;
    auto it = web.docs.find(url);
    if (it == web.docs.end()) return Unexpected(Error::Unavailable("connection refused"));
    return it->second;
  };
  ContextResolver r(o);
  REQUIRE(r.FromUrl("https://city.example/a.jsonld"));
  REQUIRE(r.FromUrl("https://city.example/b.jsonld"));  // evicts a's compiled form
  CHECK(web.fetches == 2);
  web.docs.clear();  // the site goes offline
  auto again = r.FromUrl("https://city.example/a.jsonld");
  CHECK(web.fetches == 3);  // it was tried
  REQUIRE(again);
  CHECK((*again)->Expand("speed") == "https://city.example/speed");
  // A context never fetched has no copy to fall back on.
  auto never = r.FromUrl("https://city.example/other.jsonld");
  REQUIRE(!never);
  CHECK(never.error().type == ErrorType::kLdContextNotAvailable);
}
