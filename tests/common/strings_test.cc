#include <catch2/catch.hpp>

#include "citybed/common/strings.h"

using namespace citybed;

TEST_CASE("EditDistance counts single-character edits", "[common]") {
  CHECK(EditDistance("", "") == 0);
  CHECK(EditDistance("kitten", "sitting") == 3);
  CHECK(EditDistance("duration", "duraton") == 1);
  CHECK(EditDistance("abc", "") == 3);
  CHECK(EditDistance("spede", "speed") == 1);  // a transposition is one edit
}

TEST_CASE("ClosestMatch suggests a near candidate and nothing for a far one", "[common]") {
  std::vector<std::string> keys = {"duration", "warmup", "speed", "seed", "regions"};
  CHECK(ClosestMatch("duraton", keys) == "duration");
  CHECK(ClosestMatch("regoins", keys) == "regions");
  CHECK(ClosestMatch("spede", keys) == "speed");
  CHECK(ClosestMatch("colour", keys).empty());
}

TEST_CASE("Split, Trim and Join round-trip", "[common]") {
  auto parts = Split("a,b,,c", ',');
  REQUIRE(parts.size() == 4);
  CHECK(parts[2].empty());
  CHECK(Trim("  x y \t") == "x y");
  CHECK(Join({"a", "b", "c"}, ", ") == "a, b, c");
}

TEST_CASE("FormatRfc3339 writes UTC with milliseconds", "[common]") {
  CHECK(FormatRfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(FormatRfc3339(1714564800.25) == "2024-05-01T12:00:00.250Z");
  CHECK(FormatRfc3339(1714564800.9996) == "2024-05-01T12:00:01.000Z");
}
