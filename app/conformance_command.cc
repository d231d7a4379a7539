// `citybed conformance`: runs citybed's conformance cases (conformance/<api>/*.json) against a
// broker by URL — or against the embedded broker — and writes the console table,
// conformance.json, junit.xml and conformance.html (docs/interoperability.md).
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

#include "citybed/broker/broker.h"
#include "citybed/common/file.h"
#include "citybed/common/log.h"
#include "citybed/common/units.h"
#include "citybed/common/url.h"
#include "citybed/conformance/runner.h"
#include "commands.h"
#include "exit_codes.h"

namespace citybed::app {
namespace {

struct ConformanceOptions {
  std::string broker = "embedded";
  std::string api = "ngsi-ld";
  std::string cases;  // default: the shipped folder for the API
  std::string only;
  double threshold = 1.0;
  std::string out;
  int jobs = 4;
  std::string receiver_host = "127.0.0.1";
  std::string timeout = "10s";
  std::string token_env;  // the environment variable holding an access key, "" : none
  bool verbose = false;
  bool list = false;
};

int RunConformance(const ConformanceOptions& o) {
  SetLogLevel(LogLevel::kWarn);
  const std::string dir = o.cases.empty() ? std::string(CITYBED_CONFORMANCE_DIR) + "/" + o.api : o.cases;
  auto suite = conformance::LoadSuite(dir, o.api);
  if (!suite) {
    for (const std::string& e : suite.error()) std::fprintf(stderr, "%s\n", e.c_str());
    std::fprintf(stderr, "citybed conformance: %zu mistake%s in the case files; nothing was run\n", suite.error().size(),
                 suite.error().size() == 1 ? "" : "s");
    return kExitUsage;
  }
  std::vector<const conformance::Case*> selected;
  try {
    const std::regex only(o.only.empty() ? ".*" : o.only);
    for (const conformance::Case& c : suite->cases) {
      if (o.only.empty() || std::regex_search(c.name(), only) || std::regex_search(c.clause, only)) selected.push_back(&c);
    }
  } catch (const std::regex_error& e) {
    std::fprintf(stderr, "citybed conformance: --only: not a regular expression: %s\n", e.what());
    return kExitUsage;
  }
  if (o.list) {
    for (const conformance::Case* c : selected) std::printf("%-60s [%s] %s\n", c->name().c_str(), c->clause.c_str(), c->title.c_str());
    return kExitOk;
  }
  if (selected.empty()) {
    std::fprintf(stderr, "citybed conformance: --only \"%s\" selects no case\n", o.only.c_str());
    return kExitUsage;
  }
  auto timeout = ParseDurationNs(o.timeout);
  if (!timeout || *timeout <= 0) {
    std::fprintf(stderr, "citybed conformance: --timeout: %s\n", timeout ? "must be longer than 0" : timeout.error().message.c_str());
    return kExitUsage;
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (!o.token_env.empty()) {
    const char* token = std::getenv(o.token_env.c_str());
    if (token == nullptr || *token == '\0' || std::string_view(token).find_first_of("\r\n") != std::string_view::npos) {
      std::fprintf(stderr, "citybed conformance: --token-env %s: not set (or holds a line break); set it to the broker's access key\n",
                   o.token_env.c_str());
      return kExitUsage;
    }
    headers.push_back({"Authorization", std::string("Bearer ") + token});
  }
  std::unique_ptr<broker::Broker> embedded;
  std::string url = o.broker;
  if (url == "embedded") {
    broker::BrokerOptions bo;
    bo.server.port = 0;
    bo.server.threads = 2;
    embedded = std::make_unique<broker::Broker>(bo);
    if (auto ok = embedded->Start(); !ok) {
      std::fprintf(stderr, "citybed conformance: cannot start the embedded broker: %s\n", ok.error().message.c_str());
      return kExitRuntimeError;
    }
    url = embedded->url();
  } else if (auto u = ParseHttpUrl(url); !u || u->scheme != "http") {
    std::fprintf(stderr, "citybed conformance: --broker must be \"embedded\" or an http:// URL\n");
    return kExitUsage;
  }
  std::fprintf(stderr, "citybed conformance: %zu %s cases against %s%s, %d at a time\n", selected.size(), o.api.c_str(),
               url.c_str(), embedded ? " (embedded)" : "", o.jobs);
  conformance::RunnerOptions ro;
  ro.broker_url = url;
  ro.receiver_host = o.receiver_host;
  ro.jobs = o.jobs;
  ro.timeout = std::chrono::milliseconds(*timeout / 1000000);
  ro.headers = headers;
  size_t done = 0;
  ro.on_result = [&](const conformance::CaseResult& r) {
    ++done;
    if (o.verbose || r.outcome != conformance::Outcome::kPass) {
      std::fprintf(stderr, "[%zu/%zu] %-11s %s\n", done, selected.size(), std::string(conformance::OutcomeName(r.outcome)).c_str(),
                   r.c->name().c_str());
    }
  };
  auto report = conformance::RunCases(selected, o.api, ro);
  if (!report) {
    std::fprintf(stderr, "citybed conformance: %s\n", report.error().message.c_str());
    if (embedded) embedded->Stop();
    return kExitInvalidRun;
  }
  if (embedded) embedded->Stop();
  std::fputs(conformance::ConsoleSummary(*report, false).c_str(), stdout);
  if (!o.out.empty()) {
    const std::pair<std::string, std::string> files[] = {{"conformance.json", conformance::ReportJson(*report).dump(2) + "\n"},
                                                         {"junit.xml", conformance::JUnitXml(*report)},
                                                         {"conformance.html", conformance::HtmlMatrix(*report)}};
    std::error_code ec;
    std::filesystem::create_directories(o.out, ec);
    for (const auto& [name, content] : files) {
      if (auto ok = WriteFileAtomic(o.out + "/" + name, content); !ok) {
        std::fprintf(stderr, "citybed conformance: cannot write %s: %s\n", name.c_str(), ok.error().message.c_str());
        return kExitRuntimeError;
      }
    }
    std::printf("results: %s (conformance.json, junit.xml, conformance.html)\n", o.out.c_str());
  }
  return report->pass_rate() + 1e-12 >= o.threshold ? kExitOk : kExitSloFailed;
}

}  // namespace

void RegisterConformance(CLI::App& app, Action& action) {
  auto o = std::make_shared<ConformanceOptions>();
  CLI::App* cmd = app.add_subcommand("conformance", "Run the NGSI-LD or NGSI-v2 conformance cases against a broker");
  cmd->add_option("--broker", o->broker, "\"embedded\" or the http:// URL of the broker to check")->capture_default_str();
  cmd->add_option("--api", o->api, "ngsi-ld or ngsi-v2")->check(CLI::IsMember({"ngsi-ld", "ngsi-v2"}))->capture_default_str();
  cmd->add_option("--cases", o->cases, "Folder of case files (default: the shipped conformance/<api>)");
  cmd->add_option("--only", o->only, "Run the cases whose feature/id or clause matches this regular expression");
  cmd->add_option("--threshold", o->threshold, "Exit 0 when this share of the supported cases pass, else 1")
      ->check(Between(0, 1))->capture_default_str();
  cmd->add_option("--out", o->out, "Write conformance.json, junit.xml and conformance.html here");
  cmd->add_option("--jobs", o->jobs, "Cases run at once")->check(Between(1, 64))->capture_default_str();
  cmd->add_option("--receiver-host", o->receiver_host, "Address the broker can reach citybed's notification receiver at")
      ->capture_default_str();
  cmd->add_option("--timeout", o->timeout, "Time allowed for each request")->capture_default_str();
  cmd->add_option("--token-env", o->token_env,
                  "Environment variable holding the access key every request carries (Authorization: Bearer), for a "
                  "broker behind keys or an API gateway");
  cmd->add_flag("--verbose", o->verbose, "List every case as it finishes, passing ones too");
  cmd->add_flag("--list", o->list, "List the selected cases and exit");
  cmd->callback([o, &action] { action = [o] { return RunConformance(*o); }; });
}

}  // namespace citybed::app
