#include "citybed/broker/json_writer.h"

#include <charconv>
#include <cmath>

namespace citybed::broker {

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of characters that need no escape
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void AppendJsonNumber(std::string& out, double v) {
  if (!std::isfinite(v)) {  // JSON has no NaN/Inf
    out += "null";
    return;
  }
  char buf[32];
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0) {
    auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    out.append(buf, ptr);
    return;
  }
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ptr);
}

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
