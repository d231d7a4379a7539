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
  // Only a snapshot of the expected shape counts (another broker may answer anything here).
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("service") || !j["service"].is_object()) return {};
  const nlohmann::json& service = j["service"];
  if (!service.contains("classes") || !service["classes"].is_object() || !service.contains("bucket_upper_seconds") ||
      !service["bucket_upper_seconds"].is_array()) {
    return {};
  }
  for (const auto& [name, c] : service["classes"].items()) {
    if (!c.is_object() || !c.contains("count") || !c["count"].is_number()) return {};
    for (const char* clock : {"wall", "cpu", "read"}) {
      if (!c.contains(clock) || !c[clock].is_object() || !c[clock].contains("buckets") ||
          !c[clock]["buckets"].is_array() || !c[clock].contains("sum") || !c[clock]["sum"].is_number() ||
          !c[clock].contains("count") || !c[clock]["count"].is_number()) {
        return {};
      }
      for (const auto& b : c[clock]["buckets"]) {
        if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer() || !b[1].is_number_integer()) return {};
      }
    }
  }
  auto number = [](const nlohmann::json& o, const char* key) {
    return o.is_object() && o.contains(key) && o[key].is_number() ? o[key].get<double>() : 0.0;
  };
  Snapshot s;
  s.known = true;
  const nlohmann::json cpu = j.contains("cpu_seconds") ? j["cpu_seconds"] : nlohmann::json();
  s.serving_cpu = number(cpu, "serving");
  s.notifier_cpu = number(cpu, "notifier");
  s.forwarder_cpu = number(cpu, "forwarder");
  s.entities = static_cast<uint64_t>(number(j, "entities"));
  s.changes = static_cast<uint64_t>(number(j, "entity_changes"));
  s.triggered = static_cast<uint64_t>(number(j, "notifications_triggered"));
  s.sent = static_cast<uint64_t>(number(j, "notifications_sent"));
  s.classes = service["classes"];
  s.upper = service["bucket_upper_seconds"];
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
    if (n <= 0 || i < 0 || static_cast<size_t>(i) >= upper.size()) continue;
    const auto k = static_cast<size_t>(i);
    double hi = 0;
    if (upper[k].is_number()) {
      hi = upper[k].get<double>();
    } else if (k > 0 && upper[k - 1].is_number()) {
      hi = upper[k - 1].get<double>() * 2;  // the open last bucket: as wide as its lower bound
    }
    if (hi > 0) out.emplace_back(hi, static_cast<uint64_t>(n));
  }
  return out;
}

}  // namespace citybed::app
