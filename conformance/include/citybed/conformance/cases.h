// Conformance cases: the data files of conformance/<suite>/*.json (format: conformance/README.md),
// loaded and checked before anything runs — every mistake of a case file is reported with its
// JSON pointer, as for scenarios, so a typo in an expectation cannot pass silently.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "citybed/common/expected.h"

namespace citybed::conformance {

struct Case {
  std::string suite;    // "ngsi-ld" or "ngsi-v2"
  std::string feature;  // the file name without .json
  std::string id;
  std::string clause;
  std::string title;
  std::string description;
  nlohmann::json steps;    // array of step objects, as written
  nlohmann::json cleanup;  // array of request objects
  nlohmann::json quirks;   // array of {broker, behaviour, reference}
  std::string file;
  std::string name() const { return feature + "/" + id; }
};

struct Suite {
  std::string name;
  std::vector<Case> cases;  // files in name order, cases in file order
};

// Loads every *.json of `dir` as cases of `suite`. Errors: "file#/pointer: message", all of them.
Expected<Suite, std::vector<std::string>> LoadSuite(const std::string& dir, const std::string& suite);
// Checks one file's document (exposed for tests); appends "label#/pointer: message" errors.
void CheckCaseFile(const nlohmann::json& doc, const std::string& label, const std::string& suite,
                   const std::string& feature, std::vector<std::string>& errors);

}  // namespace citybed::conformance
