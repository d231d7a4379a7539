// Expectations of conformance cases (conformance/README.md), checked against what a broker
// answered. Pure functions: the first mismatch comes back as a sentence naming where it is
// ("body /0/id: expected \"a\", got \"b\""), or "" when everything holds.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "citybed/common/http_fetch.h"

namespace citybed::conformance {

// What one request got back.
struct Observed {
  int status = 0;
  std::vector<HttpField> headers;
  std::string body;
};

// Checks an "expect" object of a request step.
std::string CheckResponse(const nlohmann::json& expect, const Observed& r);
// Checks an "expect" object of a wait step against the received notifications, as the JSON
// array [{"path", "headers" (lower-case names), "body"}].
std::string CheckNotifications(const nlohmann::json& expect, const nlohmann::json& received);

// `expected` (a value with matchers inside) against `actual`. `includes`: objects need only the
// expected members, arrays only their elements in any order; otherwise exact. `where` names the
// position in messages.
std::string MatchValue(const nlohmann::json& expected, const nlohmann::json* actual, bool includes,
                       const std::string& where);

// The statuses an expectation accepts (empty: any).
std::vector<int> ExpectedStatuses(const nlohmann::json& expect);

}  // namespace citybed::conformance
