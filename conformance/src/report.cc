// The outputs of a conformance run: a console table, conformance.json, JUnit XML for CI
// systems, and a self-contained HTML matrix by specification clause.
#include <algorithm>
#include <cstdio>
#include <map>
#include <sstream>

#include "citybed/conformance/runner.h"

namespace citybed::conformance {

using nlohmann::json;

namespace {

std::string Xml(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // XML 1.0 forbids most control characters: drop them.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') continue;
        out.push_back(c);
    }
  }
  return out;
}

std::string Pct(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", x * 100);
  return buf;
}

struct Tally {
  size_t pass = 0, fail = 0, unsupported = 0, error = 0;
  void Add(Outcome o) {
    switch (o) {
      case Outcome::kPass: ++pass; break;
      case Outcome::kFail: ++fail; break;
      case Outcome::kUnsupported: ++unsupported; break;
      case Outcome::kError: ++error; break;
    }
  }
  size_t total() const { return pass + fail + unsupported + error; }
};

// The leading clause number of a case ("5.6.1, 6.4.3.1" -> "5.6.1"; "orion-api: ..." kept).
std::string MainClause(const std::string& clause) {
  const size_t comma = clause.find(',');
  return clause.substr(0, comma);
}

}  // namespace

std::string ConsoleSummary(const RunReport& report, bool verbose) {
  std::map<std::string, Tally> by_feature;
  Tally all;
  for (const CaseResult& r : report.results) {
    by_feature[r.c->feature].Add(r.outcome);
    all.Add(r.outcome);
  }
  std::ostringstream o;
  char line[256];
  std::snprintf(line, sizeof line, "%-28s %6s %6s %6s %12s %6s\n", "feature", "cases", "pass", "fail", "unsupported", "error");
  o << line;
  for (const auto& [feature, t] : by_feature) {
    std::snprintf(line, sizeof line, "%-28s %6zu %6zu %6zu %12zu %6zu\n", feature.c_str(), t.total(), t.pass, t.fail,
                  t.unsupported, t.error);
    o << line;
  }
  std::snprintf(line, sizeof line, "%-28s %6zu %6zu %6zu %12zu %6zu\n", "all", all.total(), all.pass, all.fail,
                all.unsupported, all.error);
  o << line;
  for (const CaseResult& r : report.results) {
    if (r.outcome == Outcome::kPass && !verbose) continue;
    o << "  " << OutcomeName(r.outcome) << " " << r.c->name() << " [" << r.c->clause << "]";
    if (r.step >= 0) o << " step " << r.step;
    if (!r.detail.empty()) o << ": " << r.detail;
    o << "\n";
  }
  o << report.suite << " conformance of " << report.broker_url << ": " << all.pass << " of " << all.pass + all.fail
    << " supported cases pass (" << Pct(report.pass_rate()) << "); " << all.unsupported << " unsupported, " << all.error
    << " could not run\n";
  return o.str();
}

json ReportJson(const RunReport& report) {
  json cases = json::array();
  for (const CaseResult& r : report.results) {
    json c = {{"name", r.c->name()}, {"feature", r.c->feature}, {"id", r.c->id}, {"clause", r.c->clause},
              {"title", r.c->title}, {"outcome", std::string(OutcomeName(r.outcome))}, {"seconds", r.seconds}};
    if (r.step >= 0) c["step"] = r.step;
    if (!r.detail.empty()) c["detail"] = r.detail;
    if (!r.notes.empty()) c["notes"] = r.notes;
    if (!r.c->quirks.empty()) c["quirks"] = r.c->quirks;
    cases.push_back(c);
  }
  return {{"schema", "citybed-conformance/1"},
          {"suite", report.suite},
          {"broker", report.broker_url},
          {"broker_version", report.broker_version},
          {"started_utc", report.started_utc},
          {"summary",
           {{"cases", report.results.size()},
            {"pass", report.count(Outcome::kPass)},
            {"fail", report.count(Outcome::kFail)},
            {"unsupported", report.count(Outcome::kUnsupported)},
            {"error", report.count(Outcome::kError)},
            {"pass_rate_of_supported", report.pass_rate()}}},
          {"cases", cases}};
}

std::string JUnitXml(const RunReport& report) {
  std::map<std::string, std::vector<const CaseResult*>> by_feature;
  for (const CaseResult& r : report.results) by_feature[r.c->feature].push_back(&r);
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" << Xml(report.suite) << " conformance\" tests=\""
    << report.results.size() << "\" failures=\"" << report.count(Outcome::kFail) << "\" errors=\""
    << report.count(Outcome::kError) << "\" skipped=\"" << report.count(Outcome::kUnsupported) << "\">\n";
  for (const auto& [feature, results] : by_feature) {
    Tally t;
    double seconds = 0;
    for (const CaseResult* r : results) t.Add(r->outcome), seconds += r->seconds;
    o << "  <testsuite name=\"" << Xml(report.suite + "." + feature) << "\" tests=\"" << t.total() << "\" failures=\""
      << t.fail << "\" errors=\"" << t.error << "\" skipped=\"" << t.unsupported << "\" time=\"" << seconds << "\">\n";
    for (const CaseResult* r : results) {
      o << "    <testcase classname=\"" << Xml(report.suite + "." + feature) << "\" name=\"" << Xml(r->c->id + " [" + r->c->clause + "]")
        << "\" time=\"" << r->seconds << "\">";
      if (r->outcome == Outcome::kFail) o << "<failure message=\"" << Xml(r->detail) << "\">step " << r->step << ": " << Xml(r->detail) << "</failure>";
      if (r->outcome == Outcome::kError) o << "<error message=\"" << Xml(r->detail) << "\"/>";
      if (r->outcome == Outcome::kUnsupported) o << "<skipped message=\"unsupported: " << Xml(r->detail) << "\"/>";
      o << "</testcase>\n";
    }
    o << "  </testsuite>\n";
  }
  o << "</testsuites>\n";
  return o.str();
}

std::string HtmlMatrix(const RunReport& report) {
  std::map<std::string, std::vector<const CaseResult*>> by_clause;
  for (const CaseResult& r : report.results) by_clause[MainClause(r.c->clause)].push_back(&r);
  std::ostringstream o;
  o << "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" << Xml(report.suite)
    << " conformance</title><style>body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1100px;padding:0 12px;color:#222}"
       "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:3px 8px;text-align:left;vertical-align:top}"
       ".pass{background:#e8f5e9}.fail{background:#ffebee}.unsupported{background:#fff8e1}.error{background:#eceff1}"
       ".o{font-weight:600;white-space:nowrap}.d{color:#555;font-size:12px}.q{color:#6a1b9a;font-size:12px}"
       "</style></head><body>";
  o << "<h1>" << Xml(report.suite) << " conformance of " << Xml(report.broker_url) << "</h1>";
  o << "<p>Run " << Xml(report.started_utc) << ". <b>" << report.count(Outcome::kPass) << " of "
    << report.count(Outcome::kPass) + report.count(Outcome::kFail) << " supported cases pass (" << Pct(report.pass_rate())
    << ")</b>; " << report.count(Outcome::kUnsupported) << " unsupported (the broker answered 501), "
    << report.count(Outcome::kError) << " could not run. Broker: <code>" << Xml(report.broker_version.substr(0, 300))
    << "</code></p>";
  o << "<p class=\"d\">One row per case, grouped by the clause it checks. A failing case shows its first mismatch; where a "
       "well-known broker is documented to behave otherwise, its quirk is shown with the reference.</p>";
  o << "<table><tr><th>clause</th><th>case</th><th>outcome</th><th>detail</th></tr>";
  for (const auto& [clause, results] : by_clause) {
    bool first = true;
    for (const CaseResult* r : results) {
      const std::string cls(OutcomeName(r->outcome));
      o << "<tr class=\"" << cls << "\"><td>" << (first ? Xml(clause) : "") << "</td><td>" << Xml(r->c->name()) << "<br><span class=\"d\">"
        << Xml(r->c->title) << "</span></td><td class=\"o\">" << cls << "</td><td class=\"d\">" << Xml(r->detail);
      if (r->outcome != Outcome::kPass) {
        for (const json& q : r->c->quirks) {
          o << "<div class=\"q\">" << Xml(q.value("broker", "")) << ": " << Xml(q.value("behaviour", "")) << " (<a href=\""
            << Xml(q.value("reference", "")) << "\">reference</a>)</div>";
        }
      }
      o << "</td></tr>";
      first = false;
    }
  }
  o << "</table></body></html>\n";
  return o.str();
}

}  // namespace citybed::conformance
