#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "citybed/common/expected.h"

using citybed::Error;
using citybed::ErrorCode;
using citybed::Expected;
using citybed::Unexpected;

namespace {
Expected<int> Half(int x) {
  if (x % 2 != 0) return Unexpected(Error::InvalidArgument(std::to_string(x) + " is odd"));
  return x / 2;
}
}  // namespace

TEST_CASE("Expected holds a value or an error", "[common]") {
  auto ok = Half(8);
  REQUIRE(ok.has_value());
  CHECK(*ok == 4);
  auto bad = Half(7);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  CHECK(bad.error().message == "7 is odd");
  CHECK(bad.value_or(-1) == -1);
}

TEST_CASE("Expected moves move-only values out", "[common]") {
  Expected<std::unique_ptr<int>> p = std::make_unique<int>(3);
  REQUIRE(p);
  std::unique_ptr<int> q = std::move(p).value();
  CHECK(*q == 3);
}

TEST_CASE("Expected<void> reports success or an error", "[common]") {
  Expected<void> ok;
  CHECK(ok.has_value());
  Expected<void> bad = Unexpected(Error::Io("disk full"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message == "disk full");
}
