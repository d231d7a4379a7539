#include <catch2/catch.hpp>

#include "citybed/common/units.h"

using namespace citybed;

TEST_CASE("ParseDurationNs reads every unit of the scenario format", "[common]") {
  CHECK(*ParseDurationNs("250ms") == 250'000'000);
  CHECK(*ParseDurationNs("5s") == 5'000'000'000);
  CHECK(*ParseDurationNs("15m") == 900'000'000'000);
  CHECK(*ParseDurationNs("24h") == 86'400'000'000'000);
  CHECK(*ParseDurationNs("1d") == 86'400'000'000'000);
  CHECK(*ParseDurationNs("100us") == 100'000);
  CHECK(*ParseDurationNs("500ns") == 500);
  CHECK(*ParseDurationNs("1.5s") == 1'500'000'000);
  CHECK(*ParseDurationNs("1h30m") == 5'400'000'000'000);
  CHECK(*ParseDurationNs(" 2 s ") == 2'000'000'000);
  CHECK(*ParseDurationNs("0") == 0);
}

TEST_CASE("ParseDurationNs explains what is wrong", "[common]") {
  auto no_unit = ParseDurationNs("5");
  REQUIRE_FALSE(no_unit);
  CHECK_THAT(no_unit.error().message, Catch::Contains("without a unit"));
  auto bad_unit = ParseDurationNs("5 fortnights");
  REQUIRE_FALSE(bad_unit);
  CHECK_THAT(bad_unit.error().message, Catch::Contains("unknown unit \"fortnights\""));
  CHECK_FALSE(ParseDurationNs(""));
  CHECK_FALSE(ParseDurationNs("-5s"));
  CHECK_FALSE(ParseDurationNs("s"));
  CHECK_FALSE(ParseDurationNs("1..5s"));
  CHECK_FALSE(ParseDurationNs("99999999999d"));
}

TEST_CASE("ParseSize reads binary and decimal units", "[common]") {
  CHECK(*ParseSize("1MiB") == 1048576);
  CHECK(*ParseSize("512KiB") == 524288);
  CHECK(*ParseSize("64KB") == 64000);
  CHECK(*ParseSize("1048576") == 1048576);
  CHECK(*ParseSize("1 GiB") == 1073741824);
  CHECK(*ParseSize("4k") == 4096);
  CHECK_FALSE(ParseSize("1 parsec"));
  CHECK_FALSE(ParseSize("MiB"));
}

TEST_CASE("FormatDurationNs picks a readable unit", "[common]") {
  CHECK(FormatDurationNs(250'000'000) == "250ms");
  CHECK(FormatDurationNs(1'500'000'000) == "1.5s");
  CHECK(FormatDurationNs(7'200'000'000'000) == "2h");
  CHECK(FormatDurationNs(0) == "0s");
  CHECK(FormatDurationNs(-5'000'000'000) == "-5s");
  CHECK(FormatSize(1536) == "1.5 KiB");
}
