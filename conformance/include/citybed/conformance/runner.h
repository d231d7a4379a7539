// The conformance runner: runs cases against a broker by URL and records each one's outcome —
// pass, fail (the first mismatch), unsupported (the broker answered 501 where the case expected
// something else: it says it lacks the feature) or error (the case could not run).
//
// Every case is isolated: its ids, tenant and notification path come from a token unique to the
// run of that case ({{uid}}), its cleanup always runs, and cases run in parallel in any order.
// Notifications reach a receiver inside the runner (an HTTP listener on its own thread) under
// /c/<uid>/..., so each case sees only its own.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/conformance/cases.h"

namespace citybed::conformance {

enum class Outcome { kPass, kFail, kUnsupported, kError };
std::string_view OutcomeName(Outcome o);  // "pass", "fail", "unsupported", "error"

struct CaseResult {
  const Case* c = nullptr;
  Outcome outcome = Outcome::kPass;
  int step = -1;          // the step that decided a non-pass outcome
  std::string detail;     // the first mismatch, or why it could not run
  double seconds = 0;
  std::vector<std::string> notes;  // observations (e.g. the media type of error bodies)
};

struct RunnerOptions {
  std::string broker_url;                   // http://host:port[/prefix]
  std::string receiver_host = "127.0.0.1";  // where the broker can reach the runner's receiver
  int jobs = 4;                             // cases run at once
  std::chrono::milliseconds timeout{10000};  // per request
  // Headers every request carries (an access key) unless the case's request sets the same one.
  std::vector<std::pair<std::string, std::string>> headers;
  std::function<void(const CaseResult&)> on_result;  // after each case (any thread, serialized)
};

struct RunReport {
  std::string suite, broker_url, started_utc;
  std::string broker_version;  // GET /version, when the broker answers it
  std::vector<CaseResult> results;  // in the order of the cases given
  size_t count(Outcome o) const;
  // pass / (pass + fail): the share of the features the broker supports that it gets right.
  double pass_rate() const;
};

// Reachability first (an error when the broker cannot be reached at all), then every case.
Expected<RunReport> RunCases(const std::vector<const Case*>& cases, const std::string& suite, const RunnerOptions& options);

// The text of `s` with {{uid}}, {{tenant}}, {{notify}}, {{now}}, {{now±D}} and {{var:NAME}}
// replaced (exposed for tests).
std::string Substitute(const std::string& s, const std::map<std::string, std::string>& vars);
nlohmann::json SubstituteAll(const nlohmann::json& v, const std::map<std::string, std::string>& vars);

// Outputs of a run.
std::string ConsoleSummary(const RunReport& report, bool verbose);
nlohmann::json ReportJson(const RunReport& report);
std::string JUnitXml(const RunReport& report);
std::string HtmlMatrix(const RunReport& report);

}  // namespace citybed::conformance
