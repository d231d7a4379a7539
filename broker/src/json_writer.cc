#include "citybed/broker/json_writer.h"

#include <charconv>
#include <cmath>

namespace citybed::broker {

void AppendJsonValue(std::string& out, const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::null: out += "null"; break;
    case boost::json::kind::bool_: out += v.get_bool() ? "true" : "false"; break;
    case boost::json::kind::int64: {
      char buf[24];
      auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v.get_int64());
      out.append(buf, ptr);
      break;
    }
    case boost::json::kind::uint64: {
      char buf[24];
      auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v.get_uint64());
      out.append(buf, ptr);
      break;
    }
    case boost::json::kind::double_: AppendJsonNumber(out, v.get_double()); break;
    case boost::json::kind::string: AppendJsonString(out, v.get_string()); break;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonValue(out, e);
      }
      out.push_back(']');
      break;
    }
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& kv : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(out, kv.key());
        out.push_back(':');
        AppendJsonValue(out, kv.value());
      }
      out.push_back('}');
      break;
    }
  }
}

void JsonWriter::Separator() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_.push_back(',');
    first_.back() = false;
  }
}

void JsonWriter::BeginObject() {
  Separator();
  out_.push_back('{');
  first_.push_back(true);
}

void JsonWriter::EndObject() {
  out_.push_back('}');
  first_.pop_back();
}

void JsonWriter::BeginArray() {
  Separator();
  out_.push_back('[');
  first_.push_back(true);
}

void JsonWriter::EndArray() {
  out_.push_back(']');
  first_.pop_back();
}

void JsonWriter::Key(std::string_view key) {
  Separator();
  AppendJsonString(out_, key);
  out_.push_back(':');
  after_key_ = true;
}

void JsonWriter::String(std::string_view s) {
  Separator();
  AppendJsonString(out_, s);
}

void JsonWriter::Number(double v) {
  Separator();
  AppendJsonNumber(out_, v);
}

void JsonWriter::Int(int64_t v) {
  Separator();
  char buf[24];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, ptr);
}

void JsonWriter::Bool(bool v) {
  Separator();
  out_ += v ? "true" : "false";
}

void JsonWriter::Null() {
  Separator();
  out_ += "null";
}

void JsonWriter::Value(const boost::json::value& v) {
  Separator();
  AppendJsonValue(out_, v);
}

void JsonWriter::Raw(std::string_view json) {
  Separator();
  out_.append(json);
}

}  // namespace citybed::broker
