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

TEST_CASE("ParseRfc3339Micros reads date-times with fractions and zones", "[common]") {
  CHECK(*ParseRfc3339Micros("1970-01-01T00:00:00Z") == 0);
  CHECK(*ParseRfc3339Micros("2024-05-01T12:00:00Z") == 1714564800LL * 1000000);
  CHECK(*ParseRfc3339Micros("2024-05-01T12:00:00.25Z") == 1714564800LL * 1000000 + 250000);
  CHECK(*ParseRfc3339Micros("2024-05-01T21:00:00+09:00") == 1714564800LL * 1000000);
  CHECK(*ParseRfc3339Micros("2024-05-01T12:00:00") == 1714564800LL * 1000000);  // no zone: UTC
  CHECK(*ParseRfc3339Micros("1969-12-31T23:59:59.5Z") == -500000);
  CHECK_FALSE(ParseRfc3339Micros("2024-02-30T10:00:00Z"));
  CHECK_FALSE(ParseRfc3339Micros("2023-02-29T10:00:00Z"));
  CHECK(ParseRfc3339Micros("2024-02-29T10:00:00Z"));
  CHECK_FALSE(ParseRfc3339Micros("2024-05-01"));
  CHECK_FALSE(ParseRfc3339Micros("2024-05-01T12:00:00Q"));
  CHECK_FALSE(ParseRfc3339Micros("yesterday"));
}

TEST_CASE("FormatRfc3339Micros round-trips and keeps the shortest fraction", "[common]") {
  for (const char* s : {"2024-05-01T12:00:00Z", "2024-05-01T12:00:00.250Z", "2024-05-01T12:00:00.000001Z",
                        "1999-12-31T23:59:59.999Z", "2100-03-01T00:00:00Z", "1960-06-15T08:30:00.5Z"}) {
    auto us = ParseRfc3339Micros(s);
    REQUIRE(us);
    std::string back = FormatRfc3339Micros(*us);
    if (std::string(s) == "1960-06-15T08:30:00.5Z") {
      CHECK(back == "1960-06-15T08:30:00.500Z");
    } else {
      CHECK(back == s);
    }
  }
}

#include "citybed/common/sha256.h"

TEST_CASE("Sha256Hex matches the FIPS 180-4 test vectors", "[common]") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(Sha256Hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
