// manifest.json: how a run was produced — citybed's version and commit, the command line, the
// scenario (copy and SHA-256), the effective settings, the broker and its /version, and the
// machine.
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>

#include "citybed/common/sha256.h"
#include "citybed/common/strings.h"
#include "citybed/common/version.h"
#include "citybed/results/run_output.h"

namespace citybed::results {

using nlohmann::json;

namespace {

std::string ReadFirstLineWith(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (StartsWith(line, prefix)) return line.substr(prefix.size());
  }
  return "";
}

}  // namespace

json MachineDescription() {
  json m;
  m["cores"] = sysconf(_SC_NPROCESSORS_ONLN);
  const std::string mem = ReadFirstLineWith("/proc/meminfo", "MemTotal:");
  m["memory_kib"] = mem.empty() ? 0 : std::stoll(std::string(Trim(mem)));
  std::string os = ReadFirstLineWith("/etc/os-release", "PRETTY_NAME=");
  if (os.size() >= 2 && os.front() == '"') os = os.substr(1, os.size() - 2);
  m["os"] = os;
  utsname u{};
  if (uname(&u) == 0) {
    m["kernel"] = std::string(u.release);
    m["arch"] = std::string(u.machine);
  }
  m["cpu"] = Trim(ReadFirstLineWith("/proc/cpuinfo", "model name\t:"));
  return m;
}


json BuildManifest(const RunInfo& info) {
  const models::Scenario& s = *info.scenario;
  json m;
  m["citybed"] = {{"version", std::string(Version())}, {"commit", std::string(GitCommit())}};
  m["command"] = info.command_line;
  m["started_utc"] = info.started_utc;
  m["scenario"] = {{"name", s.name}, {"file", s.path}, {"sha256", Sha256Hex(s.text)}, {"seed", s.seed}, {"document", s.json}};
  m["mode"] = info.model.is_null() ? "emulation" : "model";
  if (!info.model.is_null()) m["model"] = info.model;
  m["started_unix_us"] = info.started_unix_us;
  m["effective"] = {{"duration_s", s.duration.seconds()},
                    {"warmup_s", s.warmup.seconds()},
                    {"interval_s", s.outputs.interval.seconds()},
                    {"speed", s.speed},
                    {"seed", s.seed},
                    {"connections", s.broker.connections},
                    {"timeout_s", s.broker.timeout.seconds()}};
  json broker = {{"url", info.broker_url}, {"embedded", info.broker_embedded}};
  // A federation's external sites: by site, the URLs the run used.
  if (info.federation && !info.federation->spec().external.empty()) {
    json ext = json::object();
    for (const auto& [site, e] : info.federation->spec().external) ext[site] = {{"url", e.url}, {"ngsi_ld", e.ld_url}};
    broker["external_sites"] = ext;
  }
  if (info.result && !info.result->broker_version.empty()) {
    broker["version"] = json::parse(info.result->broker_version, nullptr, false);
    if (broker["version"].is_discarded()) broker["version"] = info.result->broker_version;
  }
  if (!info.instances.is_null()) broker["instances"] = info.instances;
  m["broker"] = broker;
  m["machine"] = MachineDescription();
  m["host"] = info.host;
  return m;
}

}  // namespace citybed::results
