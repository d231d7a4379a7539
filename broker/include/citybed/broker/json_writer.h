// JsonWriter: appends compact JSON text to a std::string, with commas and escaping handled.
// Faster than building a DOM to serialize it: the broker renders every response with it.
//   JsonWriter w(out);
//   w.BeginObject(); w.Key("id"); w.String(id); w.Key("n"); w.Number(3); w.EndObject();
// Not thread-safe; the writer does not own the string. Nesting depth is unlimited.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/common/json_text.h"

namespace citybed::broker {

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  void Key(std::string_view key);
  void String(std::string_view s);
  void Number(double v);
  void Int(int64_t v);
  void Bool(bool v);
  void Null();
  void Value(const boost::json::value& v);
  // Inserts already-valid JSON text as one value.
  void Raw(std::string_view json);

  std::string& out() { return out_; }

 private:
  void Separator();
  std::string& out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

using citybed::AppendJsonNumber;  // common/json_text.h
using citybed::AppendJsonString;
// Serializes a Boost.JSON value compactly.
void AppendJsonValue(std::string& out, const boost::json::value& v);

}  // namespace citybed::broker
