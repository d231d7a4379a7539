#include "broker_probe.h"

#include <sys/utsname.h>

#include <fstream>
#include <thread>

#include "citybed/common/http_fetch.h"

namespace citybed::app {

std::string Machine() {
  std::string model;
  std::ifstream cpu("/proc/cpuinfo");
  for (std::string line; std::getline(cpu, line);) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  utsname u{};
  uname(&u);
  return model + ", " + std::to_string(std::thread::hardware_concurrency()) + " cores, " + u.sysname + " " + u.release;
}


Snapshot ParseSnapshot(const std::string& body) {
  Snapshot s;
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.contains("service") || !j["service"].contains("classes")) return s;
  s.known = true;
  s.serving_cpu = j["cpu_seconds"].value("serving", 0.0);
  s.notifier_cpu = j["cpu_seconds"].value("notifier", 0.0);
  s.entities = j.value("entities", uint64_t{0});
  s.changes = j.value("entity_changes", uint64_t{0});
  s.triggered = j.value("notifications_triggered", uint64_t{0});
  s.sent = j.value("notifications_sent", uint64_t{0});
  s.classes = j["service"]["classes"];
  s.upper = j["service"]["bucket_upper_seconds"];
  return s;
}

Snapshot Read(Client& client) {
  const HttpOutcome o = client.Get("/metrics?format=json");
  return o.ok() ? ParseSnapshot(o.body) : Snapshot{};
}

Snapshot ReadBlocking(const std::string& url) {
  Snapshot s;
  FetchRequest req;
  req.url = url + "/metrics?format=json";
  auto r = Fetch(req);
  if (!r || r->status != 200) return s;
  return ParseSnapshot(r->body);
}

double CpuMean(const Snapshot& a, const Snapshot& b, OpClass c) {
  const double n = b.Count(c, "cpu") - a.Count(c, "cpu");
  return n > 0 ? (b.Sum(c, "cpu") - a.Sum(c, "cpu")) / n : 0.0;
}

std::vector<std::pair<double, uint64_t>> HistogramDelta(const Snapshot& a, const Snapshot& b, OpClass c, const char* clock) {
  const std::string name(OpClassName(c));
  std::map<int, int64_t> counts;
  auto add = [&](const Snapshot& s, int sign) {
    if (!s.classes.contains(name)) return;
    for (const auto& bucket : s.classes[name][clock]["buckets"]) {
      counts[bucket[0].get<int>()] += sign * bucket[1].get<int64_t>();
    }
  };
  add(b, 1);
  add(a, -1);
  const nlohmann::json& upper = b.upper;
  std::vector<std::pair<double, uint64_t>> out;
  for (const auto& [i, n] : counts) {
    if (n <= 0 || static_cast<size_t>(i) >= upper.size()) continue;
    const double hi = upper[static_cast<size_t>(i)].is_number() ? upper[static_cast<size_t>(i)].get<double>()
                                                                 : upper[static_cast<size_t>(i) - 1].get<double>() * 2;
    out.emplace_back(hi, static_cast<uint64_t>(n));
  }
  return out;
}


}  // namespace citybed::app
