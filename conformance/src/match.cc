#include "citybed/conformance/match.h"

#include <cmath>
#include <regex>

#include "citybed/common/strings.h"

namespace citybed::conformance {

using nlohmann::json;

namespace {

std::string Short(const json& v) {
  std::string s = v.dump();
  if (s.size() > 160) s = s.substr(0, 157) + "...";
  return s;
}

bool IsMatcher(const json& v) { return v.is_object() && !v.empty() && v.begin().key().rfind('$', 0) == 0; }

bool IsDateTime(const std::string& s) {
  static const std::regex re(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$)");
  return std::regex_match(s, re);
}

std::string TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::string: return "string";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return v.get<double>() == std::floor(v.get<double>()) ? "integer" : "number";
    default: return "?";
  }
}

// A matcher object against a value (actual may be null: absent).
std::string MatchMatcher(const json& m, const json* actual, bool includes, const std::string& where) {
  for (auto it = m.begin(); it != m.end(); ++it) {
    const std::string& op = it.key();
    const json& arg = it.value();
    if (op == "$absent") {
      if (arg == true && actual != nullptr) return where + ": expected absent, got " + Short(*actual);
      if (arg == false && actual == nullptr) return where + ": expected present, is absent";
      continue;
    }
    if (op == "$tol") continue;  // read by $approx
    if (actual == nullptr) return where + ": expected " + Short(m) + ", is absent";
    if (op == "$any") continue;
    if (op == "$regex") {
      if (!actual->is_string()) return where + ": expected a string matching /" + arg.get<std::string>() + "/, got " + Short(*actual);
      try {
        if (!std::regex_search(actual->get_ref<const std::string&>(), std::regex(arg.get<std::string>()))) {
          return where + ": expected a match of /" + arg.get<std::string>() + "/, got " + Short(*actual);
        }
      } catch (const std::regex_error&) {
        return where + ": the case's regex /" + arg.get<std::string>() + "/ is invalid";
      }
    } else if (op == "$type") {
      const std::string want = arg.get<std::string>(), got = TypeName(*actual);
      const bool ok = want == got || (want == "number" && got == "integer");
      if (!ok) return where + ": expected a " + want + ", got " + Short(*actual);
    } else if (op == "$oneOf") {
      bool any = false;
      for (const json& option : arg) any = any || MatchValue(option, actual, includes, where).empty();
      if (!any) return where + ": expected one of " + Short(arg) + ", got " + Short(*actual);
    } else if (op == "$length") {
      const size_t n = actual->is_string() ? actual->get_ref<const std::string&>().size()
                       : actual->is_array() ? actual->size()
                                            : SIZE_MAX;
      if (n != arg.get<size_t>()) return where + ": expected length " + arg.dump() + ", got " + Short(*actual);
    } else if (op == "$contains") {
      bool ok = false;
      if (actual->is_string() && arg.is_string()) ok = actual->get_ref<const std::string&>().find(arg.get<std::string>()) != std::string::npos;
      if (actual->is_array()) {
        for (const json& x : *actual) ok = ok || MatchValue(arg, &x, true, where).empty();
      }
      if (!ok) return where + ": expected to contain " + Short(arg) + ", got " + Short(*actual);
    } else if (op == "$approx") {
      const double tol = m.value("$tol", 1e-9);
      if (!actual->is_number() || std::fabs(actual->get<double>() - arg.get<double>()) > tol) {
        return where + ": expected " + arg.dump() + " ± " + json(tol).dump() + ", got " + Short(*actual);
      }
    } else if (op == "$not") {
      if (MatchValue(arg, actual, includes, where).empty()) return where + ": expected not " + Short(arg) + ", got " + Short(*actual);
    } else if (op == "$dateTime") {
      if (!actual->is_string() || !IsDateTime(actual->get_ref<const std::string&>())) {
        return where + ": expected a date-time, got " + Short(*actual);
      }
    } else {
      return where + ": the case uses an unknown matcher " + op;
    }
  }
  return "";
}

// Every expected element included in a distinct actual element (backtracking; arrays are small).
bool IncludeAll(const json& expected, size_t k, const json& actual, std::vector<bool>& used, const std::string& where) {
  if (k == expected.size()) return true;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (used[i] || !MatchValue(expected[k], &actual[i], true, where).empty()) continue;
    used[i] = true;
    if (IncludeAll(expected, k + 1, actual, used, where)) return true;
    used[i] = false;
  }
  return false;
}

}  // namespace

std::string MatchValue(const json& expected, const json* actual, bool includes, const std::string& where) {
  if (IsMatcher(expected)) return MatchMatcher(expected, actual, includes, where);
  if (actual == nullptr) return where + ": expected " + Short(expected) + ", is absent";
  if (expected.is_object()) {
    if (!actual->is_object()) return where + ": expected an object, got " + Short(*actual);
    for (auto it = expected.begin(); it != expected.end(); ++it) {
      const auto found = actual->find(it.key());
      const json* member = found == actual->end() ? nullptr : &*found;
      if (std::string e = MatchValue(it.value(), member, includes, where + "/" + it.key()); !e.empty()) return e;
    }
    if (!includes) {
      for (auto it = actual->begin(); it != actual->end(); ++it) {
        if (!expected.contains(it.key())) return where + ": unexpected member \"" + it.key() + "\": " + Short(it.value());
      }
    }
    return "";
  }
  if (expected.is_array()) {
    if (!actual->is_array()) return where + ": expected an array, got " + Short(*actual);
    if (includes) {
      std::vector<bool> used(actual->size(), false);
      if (!IncludeAll(expected, 0, *actual, used, where)) {
        return where + ": expected to include " + Short(expected) + ", got " + Short(*actual);
      }
      return "";
    }
    if (expected.size() != actual->size()) {
      return where + ": expected " + std::to_string(expected.size()) + " elements, got " + std::to_string(actual->size()) + ": " + Short(*actual);
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      if (std::string e = MatchValue(expected[i], &(*actual)[i], includes, where + "/" + std::to_string(i)); !e.empty()) return e;
    }
    return "";
  }
  // Scalars: numbers compare by value (1 equals 1.0).
  if (expected.is_number() && actual->is_number()) {
    if (expected.get<double>() == actual->get<double>()) return "";
  } else if (expected == *actual) {
    return "";
  }
  return where + ": expected " + Short(expected) + ", got " + Short(*actual);
}

std::vector<int> ExpectedStatuses(const json& expect) {
  std::vector<int> out;
  if (!expect.is_object() || !expect.contains("status")) return out;
  const json& s = expect["status"];
  if (s.is_number_integer()) out.push_back(s.get<int>());
  else if (s.is_array()) for (const json& x : s) out.push_back(x.get<int>());
  return out;
}

std::string CheckResponse(const json& expect, const Observed& r) {
  if (!expect.is_object()) return "";
  if (const auto statuses = ExpectedStatuses(expect); !statuses.empty()) {
    if (std::find(statuses.begin(), statuses.end(), r.status) == statuses.end()) {
      std::string want;
      for (int s : statuses) want += (want.empty() ? "" : " or ") + std::to_string(s);
      std::string body = r.body.size() > 200 ? r.body.substr(0, 197) + "..." : r.body;
      return "status: expected " + want + ", got " + std::to_string(r.status) + (body.empty() ? "" : " with " + body);
    }
  }
  auto header = [&r](const std::string& name) -> std::optional<std::string> {
    bool found = false;
    std::string joined;
    for (const HttpField& f : r.headers) {
      if (AsciiLower(f.name) != AsciiLower(name)) continue;
      joined += (found ? ", " : "") + f.value;
      found = true;
    }
    return found ? std::optional<std::string>(joined) : std::nullopt;
  };
  if (expect.contains("headers")) {
    for (auto it = expect["headers"].begin(); it != expect["headers"].end(); ++it) {
      const auto value = header(it.key());
      const json actual = value ? json(*value) : json();
      if (std::string e = MatchValue(it.value(), value ? &actual : nullptr, false, "header " + it.key()); !e.empty()) return e;
    }
  }
  const std::string content_type = [&] {
    std::string ct = header("Content-Type").value_or("");
    ct = ct.substr(0, ct.find(';'));
    return AsciiLower(std::string(Trim(ct)));
  }();
  if (expect.contains("contentType")) {
    const json actual = content_type;
    if (std::string e = MatchValue(expect["contentType"], content_type.empty() ? nullptr : &actual, false, "Content-Type");
        !e.empty()) {
      return e;
    }
  }
  if (expect.contains("text")) {
    const json actual = r.body;
    if (std::string e = MatchValue(expect["text"], &actual, false, "body"); !e.empty()) return e;
  }
  const bool wants_json = expect.contains("json") || expect.contains("includes") || expect.contains("pointers") ||
                          expect.contains("problem") || expect.contains("orionError") || expect.contains("length");
  if (!wants_json) return "";
  const json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded()) {
    return "body: expected JSON, got " + (r.body.empty() ? std::string("nothing") : "\"" + r.body.substr(0, 120) + "\"");
  }
  if (expect.contains("problem")) {
    if (content_type != "application/json" && content_type != "application/problem+json") {
      return "Content-Type: an NGSI-LD error must be application/json (or application/problem+json), got \"" + content_type + "\"";
    }
    const json want = "https://uri.etsi.org/ngsi-ld/errors/" + expect["problem"].get<std::string>();
    if (!body.is_object() || !body.contains("type") || body["type"] != want) {
      return "body /type: expected " + want.dump() + ", got " + (body.is_object() && body.contains("type") ? Short(body["type"]) : Short(body));
    }
    if (!body.contains("title") || !body["title"].is_string()) return "body /title: a ProblemDetails needs a string title";
    if (body.contains("status") && r.status != 0 && body["status"] != r.status) {
      return "body /status: " + body["status"].dump() + " differs from the HTTP status " + std::to_string(r.status);
    }
  }
  if (expect.contains("orionError")) {
    if (!body.is_object() || !body.contains("error") || body["error"] != expect["orionError"]) {
      return "body /error: expected " + expect["orionError"].dump() + ", got " + Short(body);
    }
    if (!body.contains("description") || !body["description"].is_string()) return "body /description: expected a string";
  }
  if (expect.contains("length")) {
    if (!body.is_array() || body.size() != expect["length"].get<size_t>()) {
      return "body: expected an array of " + expect["length"].dump() + ", got " + Short(body);
    }
  }
  if (expect.contains("json")) {
    if (std::string e = MatchValue(expect["json"], &body, false, "body"); !e.empty()) return e;
  }
  if (expect.contains("includes")) {
    if (std::string e = MatchValue(expect["includes"], &body, true, "body"); !e.empty()) return e;
  }
  if (expect.contains("pointers")) {
    for (auto it = expect["pointers"].begin(); it != expect["pointers"].end(); ++it) {
      const json* target = nullptr;
      try {
        const json::json_pointer ptr(it.key());
        if (body.contains(ptr)) target = &body.at(ptr);
      } catch (const std::exception&) {
        target = nullptr;
      }
      if (std::string e = MatchValue(it.value(), target, false, "body " + it.key()); !e.empty()) return e;
    }
  }
  return "";
}

std::string CheckNotifications(const json& expect, const json& received) {
  if (!expect.is_object()) return "";
  if (expect.contains("count")) {
    const json n = received.size();
    if (std::string e = MatchValue(expect["count"], &n, false, "notifications received"); !e.empty()) return e;
  }
  if (expect.contains("length") && received.size() != expect["length"].get<size_t>()) {
    return "notifications: expected " + expect["length"].dump() + ", received " + std::to_string(received.size());
  }
  if (expect.contains("json")) {
    if (std::string e = MatchValue(expect["json"], &received, false, "notifications"); !e.empty()) return e;
  }
  if (expect.contains("includes")) {
    if (std::string e = MatchValue(expect["includes"], &received, true, "notifications"); !e.empty()) return e;
  }
  if (expect.contains("pointers")) {
    for (auto it = expect["pointers"].begin(); it != expect["pointers"].end(); ++it) {
      const json* target = nullptr;
      try {
        const json::json_pointer ptr(it.key());
        if (received.contains(ptr)) target = &received.at(ptr);
      } catch (const std::exception&) {
        target = nullptr;
      }
      if (std::string e = MatchValue(it.value(), target, false, "notifications " + it.key()); !e.empty()) return e;
    }
  }
  return "";
}

}  // namespace citybed::conformance
