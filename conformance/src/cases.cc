#include "citybed/conformance/cases.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "citybed/common/file.h"
#include "citybed/common/strings.h"

namespace citybed::conformance {

using nlohmann::json;

namespace {

struct Checker {
  std::string label;
  std::vector<std::string>& errors;
  void Error(const std::string& ptr, const std::string& message) { errors.push_back(label + "#" + ptr + ": " + message); }
  void Keys(const json& obj, const std::string& ptr, const std::vector<std::string>& allowed) {
    for (auto it = obj.begin(); it != obj.end(); ++it) {
      if (std::find(allowed.begin(), allowed.end(), it.key()) != allowed.end()) continue;
      std::string message = "unknown member \"" + it.key() + "\"";
      const std::string hint = ClosestMatch(it.key(), allowed);
      if (!hint.empty()) message += " (did you mean \"" + hint + "\"?)";
      Error(ptr + "/" + it.key(), message);
    }
  }
  bool String(const json& obj, const std::string& ptr, const char* key, bool required) {
    if (!obj.contains(key)) {
      if (required) Error(ptr + "/" + key, "is required");
      return false;
    }
    if (!obj[key].is_string() || obj[key].get_ref<const std::string&>().empty()) {
      Error(ptr + "/" + key, "must be a non-empty string");
      return false;
    }
    return true;
  }
  void Request(const json& r, const std::string& ptr) {
    if (!r.is_object()) return Error(ptr, "must be an object");
    Keys(r, ptr, {"method", "path", "headers", "body", "rawBody", "rawBodyRepeat"});
    String(r, ptr, "method", true);
    if (String(r, ptr, "path", true) && r["path"].get_ref<const std::string&>()[0] != '/') Error(ptr + "/path", "must start with /");
    if (r.contains("headers")) {
      if (!r["headers"].is_object()) Error(ptr + "/headers", "must be an object of strings");
      else {
        for (auto h = r["headers"].begin(); h != r["headers"].end(); ++h) {
          if (!h->is_string()) Error(ptr + "/headers/" + h.key(), "must be a string");
        }
      }
    }
    const int bodies = r.contains("body") + r.contains("rawBody") + r.contains("rawBodyRepeat");
    if (bodies > 1) Error(ptr, "give one of body, rawBody and rawBodyRepeat");
    if (r.contains("rawBody") && !r["rawBody"].is_string()) Error(ptr + "/rawBody", "must be a string");
    if (r.contains("rawBodyRepeat")) {
      const json& rep = r["rawBodyRepeat"];
      if (!rep.is_object() || !rep.contains("text") || !rep["text"].is_string() || !rep.contains("bytes") ||
          !rep["bytes"].is_number_unsigned() || rep["bytes"].get<uint64_t>() > (64u << 20)) {
        Error(ptr + "/rawBodyRepeat", "must be {\"text\": string, \"bytes\": n} with n up to 64 MiB");
      }
    }
  }
  void Expect(const json& e, const std::string& ptr, bool wait) {
    if (!e.is_object()) return Error(ptr, "must be an object");
    std::vector<std::string> allowed = {"status", "headers", "contentType", "json", "includes", "pointers",
                                        "text", "problem", "orionError", "length"};
    if (wait) allowed = {"count", "json", "includes", "pointers", "length"};
    Keys(e, ptr, allowed);
    if (e.contains("status")) {
      const json& s = e["status"];
      const bool ok = s.is_number_integer() || (s.is_array() && !s.empty() && std::all_of(s.begin(), s.end(), [](const json& x) {
                                                  return x.is_number_integer();
                                                }));
      if (!ok) Error(ptr + "/status", "must be a status code or an array of them");
    }
    if (e.contains("headers") && !e["headers"].is_object()) Error(ptr + "/headers", "must be an object");
    if (e.contains("pointers")) {
      if (!e["pointers"].is_object()) Error(ptr + "/pointers", "must be an object of JSON pointers");
      else {
        for (auto it = e["pointers"].begin(); it != e["pointers"].end(); ++it) {
          if (!it.key().empty() && it.key()[0] != '/') Error(ptr + "/pointers/" + it.key(), "must be a JSON pointer (\"/a/0\")");
        }
      }
    }
    for (const char* key : {"problem", "orionError"}) {
      if (e.contains(key) && !e[key].is_string()) Error(ptr + "/" + key, "must be an error type name");
    }
  }
  void Step(const json& s, const std::string& ptr) {
    if (!s.is_object()) return Error(ptr, "must be an object");
    const int kinds = s.contains("request") + s.contains("wait") + s.contains("sleep");
    if (kinds != 1) return Error(ptr, "must have exactly one of request, wait and sleep");
    if (s.contains("request")) {
      Keys(s, ptr, {"request", "expect", "capture", "description"});
      Request(s["request"], ptr + "/request");
      if (s.contains("expect")) Expect(s["expect"], ptr + "/expect", false);
      if (s.contains("capture")) {
        if (!s["capture"].is_object()) Error(ptr + "/capture", "must be an object");
        else {
          for (auto c = s["capture"].begin(); c != s["capture"].end(); ++c) {
            const std::string cp = ptr + "/capture/" + c.key();
            if (!c->is_object() || (c->contains("header") == c->contains("json"))) {
              Error(cp, "must be {\"header\": name} or {\"json\": pointer}, optionally with \"regex\"");
            }
          }
        }
      }
    } else if (s.contains("wait")) {
      Keys(s, ptr, {"wait", "expect", "description"});
      const json& w = s["wait"];
      if (!w.is_object()) return Error(ptr + "/wait", "must be an object");
      Keys(w, ptr + "/wait", {"notifications", "path", "within"});
      if (!w.contains("notifications") || !w["notifications"].is_number_unsigned()) Error(ptr + "/wait/notifications", "must be a count");
      if (!w.contains("within") || !w["within"].is_string()) Error(ptr + "/wait/within", "must be a duration like \"5s\"");
      if (s.contains("expect")) Expect(s["expect"], ptr + "/expect", true);
    } else {
      Keys(s, ptr, {"sleep", "description"});
      if (!s["sleep"].is_string()) Error(ptr + "/sleep", "must be a duration like \"1500ms\"");
    }
  }
};

}  // namespace

void CheckCaseFile(const json& doc, const std::string& label, const std::string& suite, const std::string& feature,
                   std::vector<std::string>& errors) {
  Checker c{label, errors};
  if (!doc.is_object()) return c.Error("", "must be an object with suite, feature, title and cases");
  c.Keys(doc, "", {"suite", "feature", "title", "description", "reference", "cases"});
  if (c.String(doc, "", "suite", true) && doc["suite"] != suite) c.Error("/suite", "must be \"" + suite + "\" (the folder)");
  if (c.String(doc, "", "feature", true) && doc["feature"] != feature) c.Error("/feature", "must be \"" + feature + "\" (the file name)");
  c.String(doc, "", "title", true);
  if (!doc.contains("cases") || !doc["cases"].is_array() || doc["cases"].empty()) return c.Error("/cases", "must be a non-empty array");
  std::set<std::string> ids;
  for (size_t i = 0; i < doc["cases"].size(); ++i) {
    const json& k = doc["cases"][i];
    const std::string ptr = "/cases/" + std::to_string(i);
    if (!k.is_object()) {
      c.Error(ptr, "must be an object");
      continue;
    }
    c.Keys(k, ptr, {"id", "clause", "title", "description", "steps", "cleanup", "quirks"});
    if (c.String(k, ptr, "id", true) && !ids.insert(k["id"].get<std::string>()).second) {
      c.Error(ptr + "/id", "\"" + k["id"].get<std::string>() + "\" is used twice in this file");
    }
    c.String(k, ptr, "clause", true);
    c.String(k, ptr, "title", true);
    if (!k.contains("steps") || !k["steps"].is_array() || k["steps"].empty()) {
      c.Error(ptr + "/steps", "must be a non-empty array");
    } else {
      for (size_t s = 0; s < k["steps"].size(); ++s) c.Step(k["steps"][s], ptr + "/steps/" + std::to_string(s));
    }
    if (k.contains("cleanup")) {
      if (!k["cleanup"].is_array()) c.Error(ptr + "/cleanup", "must be an array of requests");
      else {
        for (size_t s = 0; s < k["cleanup"].size(); ++s) c.Request(k["cleanup"][s], ptr + "/cleanup/" + std::to_string(s));
      }
    }
    if (k.contains("quirks") && !k["quirks"].is_array()) c.Error(ptr + "/quirks", "must be an array");
  }
}

Expected<Suite, std::vector<std::string>> LoadSuite(const std::string& dir, const std::string& suite) {
  namespace fs = std::filesystem;
  std::vector<std::string> errors;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Unexpected(std::vector<std::string>{dir + ": not a folder of conformance cases"});
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) return Unexpected(std::vector<std::string>{dir + ": no case files (*.json)"});
  Suite out;
  out.name = suite;
  for (const fs::path& f : files) {
    auto text = ReadFile(f.string());
    if (!text) {
      errors.push_back(f.string() + ": " + text.error().message);
      continue;
    }
    json doc = json::parse(*text, nullptr, false);
    if (doc.is_discarded()) {
      errors.push_back(f.string() + ": not valid JSON");
      continue;
    }
    const std::string feature = f.stem().string();
    const size_t before = errors.size();
    CheckCaseFile(doc, f.string(), suite, feature, errors);
    if (errors.size() != before) continue;
    for (const json& k : doc["cases"]) {
      Case c;
      c.suite = suite;
      c.feature = feature;
      c.id = k["id"];
      c.clause = k["clause"];
      c.title = k["title"];
      c.description = k.value("description", "");
      c.steps = k["steps"];
      c.cleanup = k.value("cleanup", json::array());
      c.quirks = k.value("quirks", json::array());
      c.file = f.string();
      out.cases.push_back(std::move(c));
    }
  }
  if (!errors.empty()) return Unexpected(std::move(errors));
  return out;
}

}  // namespace citybed::conformance
