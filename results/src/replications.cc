#include "citybed/results/replications.h"

#include <cmath>
#include <map>
#include <string>

#include "citybed/sim/random.h"
#include "citybed/sim/stats.h"

namespace citybed::results {

uint64_t ReplicationSeed(uint64_t seed, uint64_t r) {
  if (r == 0) return seed;
  // Non-negative as a signed 64-bit number (the CLI's --seed).
  return sim::RngStreams(seed).Stream("replication", r).Next() >> 1;
}

namespace {

void Flatten(const nlohmann::json& j, const std::string& at, std::map<std::string, double>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      std::string key;
      for (char c : k) key += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
      Flatten(v, at + "/" + key, out);
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) Flatten(j[i], at + "/" + std::to_string(i), out);
  } else if (j.is_number()) {
    out[at] = j.get<double>();
  }
}

}  // namespace

nlohmann::json AggregateSummaries(const std::vector<nlohmann::json>& summaries) {
  nlohmann::json out = nlohmann::json::object();
  out["replications"] = summaries.size();
  nlohmann::json figures = nlohmann::json::object();
  if (summaries.empty()) {
    out["figures"] = figures;
    out["omitted"] = 0;
    return out;
  }
  std::vector<std::map<std::string, double>> flat(summaries.size());
  for (size_t i = 0; i < summaries.size(); ++i) Flatten(summaries[i], "", flat[i]);
  uint64_t omitted = 0;
  for (const auto& [path, first] : flat[0]) {
    std::vector<double> values{first};
    bool everywhere = true;
    for (size_t i = 1; i < flat.size() && everywhere; ++i) {
      auto it = flat[i].find(path);
      if (it == flat[i].end()) {
        everywhere = false;
      } else {
        values.push_back(it->second);
      }
    }
    if (!everywhere) {
      ++omitted;
      continue;
    }
    const sim::ConfidenceInterval ci = sim::MeanConfidenceInterval(values, 0.95);
    nlohmann::json f = {{"mean", ci.mean}, {"n", values.size()}, {"values", values}};
    f["ci95"] = values.size() > 1 && std::isfinite(ci.half_width) ? nlohmann::json(ci.half_width) : nlohmann::json();
    figures[path] = f;
  }
  for (size_t i = 1; i < flat.size(); ++i) {
    for (const auto& [path, v] : flat[i]) {
      if (!flat[0].count(path)) ++omitted;
    }
  }
  out["figures"] = figures;
  out["omitted"] = omitted;
  return out;
}

}  // namespace citybed::results
