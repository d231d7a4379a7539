#include "citybed/broker/query.h"

#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>

#include "citybed/common/strings.h"
#include "query_internal.h"

namespace citybed::broker {
namespace json = boost::json;

namespace query_detail {

bool ReadLiteral(std::string raw, QValue& v) {
  if (raw == "true" || raw == "false") {
    v.kind = QValue::Kind::kBool;
    v.boolean = raw == "true";
    return true;
  }
  char* end = nullptr;
  const double d = std::strtod(raw.c_str(), &end);
  if (end == raw.c_str() + raw.size() && std::isfinite(d)) {
    v.kind = QValue::Kind::kNumber;
    v.number = d;
    return true;
  }
  v.kind = QValue::Kind::kString;
  v.text = std::move(raw);
  return false;
}

size_t MatchOperator(std::string_view rest, std::span<const OpToken> table, QTerm::Op& op) {
  for (const OpToken& o : table) {
    if (rest.starts_with(o.tok)) {
      op = o.op;
      return o.tok.size();
    }
  }
  return 0;
}

}  // namespace query_detail

namespace {

using query_detail::kMaxQueryLength;
using query_detail::ReadLiteral;
constexpr int kMaxNesting = 32;

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Expected<QNode, Problem> ParseAll() {
    auto node = ParseOr(0);
    if (!node) return node;
    if (pos_ != s_.size()) return Fail("unexpected \"" + std::string(s_.substr(pos_, 10)) + "\"");
    return node;
  }

 private:
  Problem Error(const std::string& what) const {
    // CIM 009, 5.7.2.4 and 5.8.1.4: a query that is not syntactically valid is BadRequestData.
    return MakeProblem(ErrorType::kBadRequestData,
                       "invalid q at position " + std::to_string(pos_) + ": " + what + " (in \"" + std::string(s_) + "\")");
  }
  Unexpected<Problem> Fail(const std::string& what) const { return Unexpected(Error(what)); }

  bool Peek(std::string_view tok) const { return s_.substr(pos_, tok.size()) == tok; }

  Expected<QNode, Problem> ParseOr(int depth) {
    auto first = ParseAnd(depth);
    if (!first) return first;
    if (pos_ >= s_.size() || s_[pos_] != '|') return first;
    QNode node;
    node.kind = QNode::Kind::kOr;
    node.children.push_back(std::move(*first));
    while (pos_ < s_.size() && s_[pos_] == '|') {
      ++pos_;
      auto next = ParseAnd(depth);
      if (!next) return next;
      node.children.push_back(std::move(*next));
    }
    return node;
  }

  Expected<QNode, Problem> ParseAnd(int depth) {
    auto first = ParsePrimary(depth);
    if (!first) return first;
    if (pos_ >= s_.size() || s_[pos_] != ';') return first;
    QNode node;
    node.kind = QNode::Kind::kAnd;
    node.children.push_back(std::move(*first));
    while (pos_ < s_.size() && s_[pos_] == ';') {
      ++pos_;
      auto next = ParsePrimary(depth);
      if (!next) return next;
      node.children.push_back(std::move(*next));
    }
    return node;
  }

  Expected<QNode, Problem> ParsePrimary(int depth) {
    if (depth > kMaxNesting) return Fail("parentheses nested too deeply");
    if (pos_ < s_.size() && s_[pos_] == '(') {
      ++pos_;
      auto inner = ParseOr(depth + 1);
      if (!inner) return inner;
      if (pos_ >= s_.size() || s_[pos_] != ')') return Fail("missing \")\"");
      ++pos_;
      return inner;
    }
    auto term = ParseTerm();
    if (!term) return Unexpected(std::move(term).error());
    QNode node;
    node.term = std::move(*term);
    return node;
  }

  static bool NameChar(char c) {
    return !(c == '.' || c == '[' || c == ']' || c == '=' || c == '!' || c == '<' || c == '>' || c == '~' ||
             c == ';' || c == '|' || c == '(' || c == ')' || c == '"' || c == ',' || c == '\'' ||
             static_cast<unsigned char>(c) <= 0x20);
  }

  Expected<QTerm, Problem> ParseTerm() {
    QTerm t;
    // A full IRI ("https://example.org/temp") is one name even though it has dots.
    if (s_.find("://", pos_) != std::string_view::npos) {
      size_t end = pos_;
      while (end < s_.size() && std::string_view("=!<>~;|()[").find(s_[end]) == std::string_view::npos) ++end;
      std::string_view candidate = s_.substr(pos_, end - pos_);
      if (candidate.find("://") != std::string_view::npos) {
        t.path.emplace_back(candidate);
        pos_ = end;
      }
    }
    if (t.path.empty()) {
      while (true) {
        const size_t name_start = pos_;
        while (pos_ < s_.size() && NameChar(s_[pos_])) ++pos_;
        if (pos_ == name_start) return Fail("expected an attribute name");
        t.path.emplace_back(s_.substr(name_start, pos_ - name_start));
        if (pos_ < s_.size() && s_[pos_] == '.') {
          ++pos_;
          continue;
        }
        break;
      }
    }
    while (pos_ < s_.size() && s_[pos_] == '[') {
      ++pos_;
      const size_t key_start = pos_;
      while (pos_ < s_.size() && s_[pos_] != ']') ++pos_;
      if (pos_ >= s_.size() || pos_ == key_start) return Fail("expected a key and \"]\"");
      for (std::string_view k : Split(s_.substr(key_start, pos_ - key_start), '.')) t.keys.emplace_back(k);
      ++pos_;
    }
    // Operator.
    static constexpr query_detail::OpToken kOps[] = {
        {"==", QTerm::Op::kEq}, {"!=", QTerm::Op::kNe},       {">=", QTerm::Op::kGe}, {"<=", QTerm::Op::kLe},
        {"!~=", QTerm::Op::kNotMatch}, {"~=", QTerm::Op::kMatch}, {">", QTerm::Op::kGt},  {"<", QTerm::Op::kLt}};
    const size_t op_len = query_detail::MatchOperator(s_.substr(pos_), kOps, t.op);
    pos_ += op_len;
    const bool found = op_len > 0;
    if (!found) {
      if (pos_ < s_.size() && s_[pos_] != ';' && s_[pos_] != '|' && s_[pos_] != ')') {
        return Fail("expected an operator (==, !=, >, >=, <, <=, ~=, !~=)");
      }
      t.op = QTerm::Op::kExists;
      return t;
    }
    if (t.op == QTerm::Op::kMatch || t.op == QTerm::Op::kNotMatch) {
      auto pattern = ReadRaw();
      if (!pattern) return Unexpected(std::move(pattern).error());
      if (pattern->size() > 256) return Fail("pattern longer than 256 characters");
      auto re = Pattern::Compile(*pattern);
      if (!re) return Fail("invalid pattern \"" + *pattern + "\": " + re.error());
      t.regex = *re;
      return t;
    }
    auto v = ParseValue();
    if (!v) return Unexpected(std::move(v).error());
    t.values.push_back(std::move(*v));
    if (t.op == QTerm::Op::kEq || t.op == QTerm::Op::kNe) {
      if (Peek("..")) {
        pos_ += 2;
        auto hi = ParseValue();
        if (!hi) return Unexpected(std::move(hi).error());
        t.values.push_back(std::move(*hi));
        t.is_range = true;
      } else {
        while (pos_ < s_.size() && s_[pos_] == ',') {
          ++pos_;
          auto next = ParseValue();
          if (!next) return Unexpected(std::move(next).error());
          t.values.push_back(std::move(*next));
        }
      }
    }
    return t;
  }

  // A pattern: a quoted string, or raw text up to ';', '|' or ')'.
  Expected<std::string, Problem> ReadRaw() {
    if (pos_ < s_.size() && (s_[pos_] == '"' || s_[pos_] == '\'')) return ReadQuoted();
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ';' && s_[pos_] != '|' && s_[pos_] != ')') ++pos_;
    if (pos_ == start) return Fail("expected a pattern");
    return std::string(s_.substr(start, pos_ - start));
  }

  Expected<std::string, Problem> ReadQuoted() {
    const char quote = s_[pos_++];
    std::string out;
    while (pos_ < s_.size() && s_[pos_] != quote) {
      if (s_[pos_] == '\\' && pos_ + 1 < s_.size()) ++pos_;
      out.push_back(s_[pos_++]);
    }
    if (pos_ >= s_.size()) return Fail("unterminated string");
    ++pos_;
    return out;
  }

  Expected<QValue, Problem> ParseValue() {
    QValue v;
    if (pos_ < s_.size() && (s_[pos_] == '"' || s_[pos_] == '\'')) {
      auto text = ReadQuoted();
      if (!text) return Unexpected(std::move(text).error());
      v.kind = QValue::Kind::kString;
      v.text = std::move(*text);
    } else {
      if (pos_ < s_.size() && std::string_view("=<>!~(").find(s_[pos_]) != std::string_view::npos) {
        return Fail("expected a value, found \"" + std::string(1, s_[pos_]) + "\"");
      }
      const size_t start = pos_;
      while (pos_ < s_.size() && s_[pos_] != ';' && s_[pos_] != '|' && s_[pos_] != ')' && s_[pos_] != ',' &&
             !Peek("..")) {
        ++pos_;
      }
      // A date-time contains no "..", but a number range "1..5" needs the split above; a
      // URI value may contain ".." only if quoted.
      if (pos_ == start) return Fail("expected a value");
      std::string raw(s_.substr(start, pos_ - start));
      if (ReadLiteral(raw, v)) return v;
    }
    if (auto t = ParseRfc3339Micros(v.text)) v.time = *t;
    return v;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool AsNumber(const json::value& v, double& out) {
  if (v.is_double()) out = v.get_double();
  else if (v.is_int64()) out = static_cast<double>(v.get_int64());
  else if (v.is_uint64()) out = static_cast<double>(v.get_uint64());
  else return false;
  return true;
}

// Three-way comparison of a JSON scalar with a q value; false when they are not comparable.
bool Compare(const json::value& a, const QValue& b, int& cmp, bool v2) {
  double x;
  if (b.kind == QValue::Kind::kNumber && AsNumber(a, x)) {
    cmp = x < b.number ? -1 : (x > b.number ? 1 : 0);
    return true;
  }
  if (b.kind == QValue::Kind::kBool && a.is_bool()) {
    cmp = a.get_bool() == b.boolean ? 0 : (a.get_bool() ? 1 : -1);
    return true;
  }
  if (a.is_string()) {
    const std::string_view s = a.get_string();
    if (b.kind == QValue::Kind::kString) {
      if (b.time != kNoTime) {
        if (auto t = v2 ? ParseIso8601Micros(s) : ParseRfc3339Micros(s)) {
          cmp = *t < b.time ? -1 : (*t > b.time ? 1 : 0);
          return true;
        }
      }
      const int c = s.compare(b.text);
      cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
      return true;
    }
    if (b.kind == QValue::Kind::kNumber && !v2) {  // "2" (unquoted) against a string value "2"
      char* end = nullptr;
      const std::string tmp(s);
      const double d = std::strtod(tmp.c_str(), &end);
      if (end == tmp.c_str() + tmp.size() && !tmp.empty()) {
        cmp = d < b.number ? -1 : (d > b.number ? 1 : 0);
        return true;
      }
    }
  }
  return false;
}

bool ScalarMatches(const json::value& raw, const QTerm& t) {
  // A typed JSON-LD literal {"@type": "DateTime", "@value": "..."} compares as its value.
  const json::value* at_value = raw.is_object() ? raw.get_object().if_contains("@value") : nullptr;
  const json::value& v = at_value != nullptr ? *at_value : raw;
  int c = 0;
  switch (t.op) {
    case QTerm::Op::kExists: return true;
    case QTerm::Op::kNotExists: return false;
    case QTerm::Op::kEq:
    case QTerm::Op::kNe: {
      bool eq = false;
      if (t.is_range) {
        int lo, hi;
        eq = Compare(v, t.values[0], lo, t.v2) && Compare(v, t.values[1], hi, t.v2) && lo >= 0 && hi <= 0;
      } else {
        for (const QValue& q : t.values) {
          if (Compare(v, q, c, t.v2) && c == 0) eq = true;
        }
      }
      return t.op == QTerm::Op::kEq ? eq : !eq;
    }
    case QTerm::Op::kGt: return Compare(v, t.values[0], c, t.v2) && c > 0;
    case QTerm::Op::kGe: return Compare(v, t.values[0], c, t.v2) && c >= 0;
    case QTerm::Op::kLt: return Compare(v, t.values[0], c, t.v2) && c < 0;
    case QTerm::Op::kLe: return Compare(v, t.values[0], c, t.v2) && c <= 0;
    case QTerm::Op::kMatch:
    case QTerm::Op::kNotMatch: {
      const bool m = v.is_string() && t.regex->Search(v.get_string());
      return t.op == QTerm::Op::kMatch ? m : !m;
    }
  }
  return false;
}

bool ValueMatches(const json::value& v, const QTerm& t) {
  if (v.is_array()) {
    if (t.op == QTerm::Op::kNe || t.op == QTerm::Op::kNotMatch) {
      for (const auto& e : v.get_array()) {
        if (!ScalarMatches(e, t)) return false;
      }
      return true;
    }
    for (const auto& e : v.get_array()) {
      if (ScalarMatches(e, t)) return true;
    }
    return false;
  }
  return ScalarMatches(v, t);
}

const json::value* Member(const json::value* v, const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    if (v == nullptr || !v->is_object()) return nullptr;
    v = v->get_object().if_contains(k);
  }
  return v;
}

bool TermMatchesAttribute(const Attribute& top, const QTerm& t, const Interner& names) {
  const Attribute* a = &top;
  // Walk sub-attributes; a trailing system member name compares that member.
  for (size_t i = 1; i < t.path_ids.size(); ++i) {
    const std::string& name = t.path[i];
    if (i + 1 == t.path.size() && (name == "observedAt" || name == "createdAt" || name == "modifiedAt")) {
      const int64_t ts = name == "observedAt" ? a->observed_at : (name == "createdAt" ? a->created_at : a->modified_at);
      if (ts == kNoTime) return false;
      if (t.op == QTerm::Op::kExists) return true;
      return ValueMatches(json::value(FormatRfc3339Micros(ts)), t);
    }
    if (i + 1 == t.path.size() && (name == "unitCode" || name == "datasetId")) {
      const uint32_t id = name == "unitCode" ? a->unit_code : a->dataset_id;
      if (id == 0) return false;
      if (t.op == QTerm::Op::kExists) return true;
      return ValueMatches(json::value(names.Name(id)), t);
    }
    a = a->FindSub(t.path_ids[i]);
    if (a == nullptr) return false;
  }
  if (t.op == QTerm::Op::kExists && t.keys.empty()) return true;
  const json::value* v = Member(&a->value, t.keys);
  if (v == nullptr) return false;
  if (t.op == QTerm::Op::kExists) return true;
  return ValueMatches(*v, t);
}

bool TermMatches(const Entity& e, const QTerm& t, const Interner& names) {
  if (t.path_ids.empty()) return false;
  if (t.op == QTerm::Op::kNotExists) {
    QTerm exists = t;
    exists.op = QTerm::Op::kExists;
    return !TermMatches(e, exists, names);
  }
  for (const Attribute& a : e.attrs) {  // any instance of a multi-attribute may match
    if (a.name == t.path_ids[0] && TermMatchesAttribute(a, t, names)) return true;
  }
  return false;
}

bool NodeMatches(const Entity& e, const QNode& n, const Interner& names) {
  switch (n.kind) {
    case QNode::Kind::kTerm: return TermMatches(e, n.term, names);
    case QNode::Kind::kAnd:
      for (const QNode& c : n.children) {
        if (!NodeMatches(e, c, names)) return false;
      }
      return true;
    case QNode::Kind::kOr:
      for (const QNode& c : n.children) {
        if (NodeMatches(e, c, names)) return true;
      }
      return false;
  }
  return false;
}

void BindNode(QNode& n, const Context& ctx, Interner& names, bool intern) {
  if (n.kind == QNode::Kind::kTerm) {
    n.term.path_ids.clear();
    for (const std::string& p : n.term.path) {
      n.term.path_ids.push_back(intern ? ctx.ExpandToId(p, names) : ctx.FindId(p, names));
    }
    return;
  }
  for (QNode& c : n.children) BindNode(c, ctx, names, intern);
}

void CollectAttributes(const QNode& n, std::vector<uint32_t>& out) {
  if (n.kind == QNode::Kind::kTerm) {
    if (!n.term.path_ids.empty()) out.push_back(n.term.path_ids[0]);
    return;
  }
  for (const QNode& c : n.children) CollectAttributes(c, out);
}

}  // namespace

Expected<Query, Problem> Query::Parse(std::string_view q) {
  if (q.empty()) return Unexpected(MakeProblem(ErrorType::kBadRequestData, "empty q"));
  if (q.size() > kMaxQueryLength) {
    return Unexpected(MakeProblem(ErrorType::kTooComplexQuery, "q is longer than 4096 characters"));
  }
  auto root = Parser(q).ParseAll();
  if (!root) return Unexpected(std::move(root).error());
  Query query;
  query.root_ = std::move(*root);
  query.text_ = std::string(q);
  return query;
}

void Query::Bind(const Context& context, Interner& names, bool intern) {
  BindNode(root_, context, names, intern);
  names_ = &names;
}

bool Query::Matches(const Entity& e) const { return names_ != nullptr && NodeMatches(e, root_, *names_); }

std::vector<uint32_t> Query::Attributes() const {
  std::vector<uint32_t> out;
  CollectAttributes(root_, out);
  return out;
}

}  // namespace citybed::broker
