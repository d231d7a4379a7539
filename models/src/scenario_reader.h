// The scenario reader's tools (private to citybed_models): JSON-pointer helpers and Reader,
// which collects every mistake of a document with its pointer. scenario.cc reads the core
// sections with them; scenario_federation.cc the federation section.
#pragma once

#include <nlohmann/json.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/common/strings.h"
#include "citybed/common/units.h"
#include "citybed/models/scenario.h"

namespace citybed::models::detail {

using json = nlohmann::json;

inline std::string Escape(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

inline std::string At(const std::string& ptr, std::string_view key) { return ptr + "/" + Escape(key); }
inline std::string At(const std::string& ptr, size_t index) { return ptr + "/" + std::to_string(index); }

inline std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "a number";
  }
}

inline std::string Short(const json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return s;
}

inline std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

inline bool ValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (unsigned char c : s) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// Collects errors while reading a JSON document; every getter reports where it looked.
class Reader {
 public:
  std::vector<ScenarioError> errors;

  void Error(const std::string& ptr, std::string message) { errors.push_back({ptr, std::move(message)}); }

  bool IsObject(const json& v, const std::string& ptr) {
    if (v.is_object()) return true;
    Error(ptr, "must be an object (got " + TypeName(v) + ")");
    return false;
  }

  void Keys(const json& obj, const std::string& ptr, const std::vector<std::string>& allowed) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
      if (!it.key().empty() && it.key()[0] == '$') continue;  // "$comment", "$schema"
      std::string message = "unknown key \"" + it.key() + "\"";
      const std::string hint = ClosestMatch(it.key(), allowed);
      if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
      Error(At(ptr, it.key()), message);
    }
  }

  // Calls f(element, pointer) for every element of the array obj[key] that is an object, and
  // reports a value that is not an array and elements that are not objects. Absent: nothing.
  template <class F>
  void EachObject(const json& obj, const std::string& ptr, const char* key, F&& f) {
    const json* array = Get(obj, ptr, key, false);
    if (array == nullptr) return;
    const std::string at = At(ptr, key);
    if (!array->is_array()) {
      Error(at, "must be an array");
      return;
    }
    for (size_t i = 0; i < array->size(); ++i) {
      const std::string p = At(at, i);
      if (IsObject((*array)[i], p)) f((*array)[i], p);
    }
  }

  const json* Get(const json& obj, const std::string& ptr, const char* key, bool required) {
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) Error(At(ptr, key), "is required");
      return nullptr;
    }
    return &*it;
  }

  std::optional<std::string> Str(const json& obj, const std::string& ptr, const char* key, bool required = false) {
    const json* v = Get(obj, ptr, key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      Error(At(ptr, key), "must be a string (got " + TypeName(*v) + ")");
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  std::optional<double> Num(const json& obj, const std::string& ptr, const char* key, bool required, double min,
                            double max, bool min_exclusive = false) {
    const json* v = Get(obj, ptr, key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) {
      Error(At(ptr, key), "must be a number (got " + TypeName(*v) + ")");
      return std::nullopt;
    }
    const double x = v->get<double>();
    if (!std::isfinite(x) || (min_exclusive ? x <= min : x < min) || x > max) {
      std::string range = (min_exclusive ? "must be > " : "must be >= ") + Number(min);
      if (max < 1e300) range += " and <= " + Number(max);
      Error(At(ptr, key), range + " (got " + Short(*v) + ")");
      return std::nullopt;
    }
    return x;
  }

  std::optional<int64_t> Int(const json& obj, const std::string& ptr, const char* key, bool required, int64_t min,
                             int64_t max) {
    const json* v = Get(obj, ptr, key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer()) {
      Error(At(ptr, key), "must be an integer (got " + (v->is_number() ? Short(*v) : TypeName(*v)) + ")");
      return std::nullopt;
    }
    const int64_t x = v->get<int64_t>();
    if (x < min || x > max) {
      Error(At(ptr, key), "must be between " + std::to_string(min) + " and " + std::to_string(max) + " (got " +
                              std::to_string(x) + ")");
      return std::nullopt;
    }
    return x;
  }

  std::optional<bool> Bool(const json& obj, const std::string& ptr, const char* key) {
    const json* v = Get(obj, ptr, key, false);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) {
      Error(At(ptr, key), "must be true or false (got " + TypeName(*v) + ")");
      return std::nullopt;
    }
    return v->get<bool>();
  }

  std::optional<sim::Duration> Dur(const json& obj, const std::string& ptr, const char* key, bool required,
                                   bool positive) {
    const json* v = Get(obj, ptr, key, required);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) {
      Error(At(ptr, key), "must be a duration like \"250ms\", \"5s\" or \"15m\" (got " + TypeName(*v) + ")");
      return std::nullopt;
    }
    auto d = sim::Duration::Parse(v->get<std::string>());
    if (!d) {
      Error(At(ptr, key), d.error().message);
      return std::nullopt;
    }
    if (positive && d->ns() <= 0) {
      Error(At(ptr, key), "must be longer than 0");
      return std::nullopt;
    }
    return *d;
  }

  // "100Mbps", "10 Gbps", "1e9" (bits per second), or a number.
  std::optional<double> Bandwidth(const json& obj, const std::string& ptr, const char* key) {
    const json* v = Get(obj, ptr, key, false);
    if (v == nullptr) return std::nullopt;
    if (v->is_number()) {
      if (v->get<double>() > 0) return v->get<double>();
      Error(At(ptr, key), "must be > 0 bits per second");
      return std::nullopt;
    }
    if (!v->is_string()) {
      Error(At(ptr, key), "must be a bandwidth like \"100Mbps\" or \"10Gbps\" (got " + TypeName(*v) + ")");
      return std::nullopt;
    }
    const std::string s = v->get<std::string>();
    size_t pos = 0;
    double number = 0;
    try {
      number = std::stod(s, &pos);
    } catch (...) {
      pos = 0;
    }
    std::string unit(Trim(std::string_view(s).substr(pos)));
    static const std::map<std::string, double> kUnits = {{"", 1},        {"bps", 1},      {"kbps", 1e3},
                                                         {"Kbps", 1e3},  {"Mbps", 1e6},   {"Gbps", 1e9},
                                                         {"Tbps", 1e12}, {"kbit/s", 1e3}, {"Mbit/s", 1e6},
                                                         {"Gbit/s", 1e9}};
    auto u = kUnits.find(unit);
    if (pos == 0 || u == kUnits.end() || !(number > 0)) {
      Error(At(ptr, key), "\"" + s + "\" is not a bandwidth (use e.g. \"100Mbps\" or \"10Gbps\")");
      return std::nullopt;
    }
    return number * u->second;
  }

  // "1km", "500m", or a number of metres.
  std::optional<double> Distance(const json& obj, const std::string& ptr, const char* key) {
    const json* v = Get(obj, ptr, key, false);
    if (v == nullptr) return std::nullopt;
    if (v->is_number() && v->get<double>() > 0) return v->get<double>();
    if (v->is_string()) {
      const std::string s = v->get<std::string>();
      size_t pos = 0;
      double number = 0;
      try {
        number = std::stod(s, &pos);
      } catch (...) {
        pos = 0;
      }
      const std::string unit(Trim(std::string_view(s).substr(pos)));
      if (pos > 0 && number > 0 && (unit == "m" || unit == "km")) return unit == "km" ? number * 1000 : number;
    }
    Error(At(ptr, key), "must be a distance like \"500m\" or \"2km\" (got " + Short(*v) + ")");
    return std::nullopt;
  }
};

// Region ids of obj["regions"] ("*" or absent: none listed; unknown ids are errors).
std::vector<std::string> ReadRegionRefs(Reader& r, const json& obj, const std::string& ptr,
                                        const std::set<std::string>& regions);
// An offset ("4h30m") or the first local time of day ("14:00") at or after the start.
std::optional<sim::Duration> ReadTimeOfDay(Reader& r, const json& obj, const std::string& ptr, const char* key,
                                           const Scenario& s);

// The "federation" and "faults" sections (scenario_federation.cc); need the broker, regions
// and network read.
void ReadFederation(Reader& r, const json& doc, Scenario& s);
void ReadFaults(Reader& r, const json& doc, Scenario& s);

}  // namespace citybed::models::detail
