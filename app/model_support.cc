#include "model_support.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "citybed/common/http_fetch.h"

namespace citybed::app {

void BrokerPartCollector::OnRequest(const models::RequestRecord& r) {
  if (r.intended < from) return;
  if (!r.ok()) {
    ++failed;
    return;
  }
  const auto k = static_cast<size_t>(r.op);
  ++ok[k];
  const int64_t part = std::max<int64_t>(0, (r.latency - r.network).ns());
  broker[k].Record(part);
  all.Record(part);
}

double MeanOffered(const models::World& world, sim::Duration duration, sim::Duration from) {
  const int steps = 240;
  const double span = static_cast<double>((duration - from).ns());
  double sum = 0;
  for (int i = 0; i <= steps; ++i) {
    const double w = (i == 0 || i == steps) ? 0.5 : 1.0;
    sum += w * world.OfferedAt(from.ns() + static_cast<int64_t>(span * i / steps)).total();
  }
  return sum / steps;
}

bool ScaleToRate(models::Scenario& s, double rate, sim::Duration window) {
  double speed = 1;
  // The mean over the run depends on the run's length, which depends on the speed: iterate.
  for (int it = 0; it < 4; ++it) {
    s.duration = window * speed;
    auto w = models::World::Build(s);
    if (!w) return false;
    const double offered = MeanOffered(**w, s.duration);
    if (offered <= 0) return false;
    speed = rate / offered;
  }
  s.speed = speed;
  s.duration = window * speed;
  s.warmup = s.duration / 10;
  return true;
}

double BrokerCpuSeconds(const std::string& url) {
  FetchRequest req;
  req.url = url + "/metrics?format=json";
  req.timeout = std::chrono::milliseconds(5000);
  auto r = Fetch(req);
  if (!r || r->status != 200) return -1;
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.contains("cpu_seconds") || !j["cpu_seconds"].is_object()) return -1;
  double cpu = 0;
  for (const auto& [k, v] : j["cpu_seconds"].items()) cpu += v.get<double>();
  return cpu;
}

}  // namespace citybed::app
