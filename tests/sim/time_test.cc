#include <catch2/catch.hpp>
#include <type_traits>

#include "citybed/sim/time.h"

using namespace citybed::sim;
using namespace std::chrono_literals;

TEST_CASE("Time and Duration are distinct types with the right arithmetic", "[sim]") {
  Time t = Time() + 1500ms;
  CHECK(t.ns() == 1'500'000'000);
  Duration d = t - Time();
  CHECK(d == Duration::Seconds(1.5));
  CHECK((t + 250ms).ns() == 1'750'000'000);
  CHECK((2 * Duration::Milliseconds(3)).ns() == 6'000'000);
  CHECK(Duration::Seconds(1) / Duration::Milliseconds(250) == Approx(4.0));
  static_assert(!std::is_convertible_v<Time, Duration>);
  static_assert(!std::is_convertible_v<Duration, Time>);
  // Time + Time must not compile:
  static_assert(!std::is_invocable_v<std::plus<>, Time, Time>);
  static_assert(std::is_invocable_v<std::plus<>, Time, Duration>);
}

TEST_CASE("Duration::Parse reads human durations and rejects bad ones", "[sim]") {
  CHECK(*Duration::Parse("250ms") == 250ms);
  CHECK(*Duration::Parse("1d") == Duration::Hours(24));
  auto bad = Duration::Parse("ten seconds");
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message, Catch::Contains("ten seconds"));
}

TEST_CASE("AddSaturating does not overflow", "[sim]") {
  CHECK(AddSaturating(Time::FromNs(5), Duration::Max()) == Time::Max());
  CHECK(AddSaturating(Time::FromNs(5), Duration::Nanoseconds(5)) == Time::FromNs(10));
}
