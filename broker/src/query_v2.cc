// Orion's simple query language (NGSI-v2 q and mq) parsed into the tree query.cc evaluates.
#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>

#include "citybed/broker/query.h"
#include "citybed/common/strings.h"
#include "query_internal.h"

namespace citybed::broker {

namespace {

using query_detail::kMaxQueryLength;
using query_detail::ReadLiteral;

// The NGSI-v2 Simple Query Language (Orion's q and mq).
class V2Parser {
 public:
  V2Parser(std::string_view s, bool metadata) : s_(s), metadata_(metadata) {}

  Expected<QNode, Problem> ParseAll() {
    QNode all;
    all.kind = QNode::Kind::kAnd;
    while (true) {
      auto t = ParseStatement();
      if (!t) return Unexpected(std::move(t).error());
      QNode n;
      n.term = std::move(*t);
      all.children.push_back(std::move(n));
      if (pos_ >= s_.size()) break;
      if (s_[pos_] != ';') return Fail("expected \";\" between statements");
      ++pos_;
      if (pos_ >= s_.size()) break;  // a trailing ';' is tolerated, as Orion does
    }
    if (all.children.size() == 1) return std::move(all.children[0]);
    return all;
  }

 private:
  Unexpected<Problem> Fail(const std::string& what) const {
    return Unexpected(MakeProblem(ErrorType::kBadRequestData, std::string(metadata_ ? "invalid mq" : "invalid q") +
                                                                  " at position " + std::to_string(pos_) + ": " + what +
                                                                  " (in \"" + std::string(s_) + "\")"));
  }
  bool Peek(std::string_view tok) const { return s_.substr(pos_, tok.size()) == tok; }

  Expected<std::string, Problem> Quoted() {
    const char quote = s_[pos_++];
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != quote) ++pos_;
    if (pos_ >= s_.size()) return Fail("unterminated quoted text");
    std::string out(s_.substr(start, pos_ - start));
    ++pos_;
    return out;
  }

  Expected<QTerm, Problem> ParseStatement() {
    QTerm t;
    t.v2 = true;
    bool negated = false;
    if (pos_ < s_.size() && s_[pos_] == '!') {
      negated = true;
      ++pos_;
    }
    // Path: names separated by '.', each possibly quoted with ' to hold dots.
    std::vector<std::string> names;
    while (true) {
      if (pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"')) {
        auto q = Quoted();
        if (!q) return Unexpected(std::move(q).error());
        names.push_back(std::move(*q));
      } else {
        const size_t start = pos_;
        while (pos_ < s_.size() && std::string_view(".=!<>~:;,'\"").find(s_[pos_]) == std::string_view::npos &&
               static_cast<unsigned char>(s_[pos_]) > 0x20) {
          ++pos_;
        }
        if (pos_ == start) return Fail("expected an attribute name");
        names.emplace_back(s_.substr(start, pos_ - start));
      }
      if (pos_ < s_.size() && s_[pos_] == '.') {
        ++pos_;
        continue;
      }
      break;
    }
    if (metadata_ && names.size() < 2) return Fail("mq needs attribute.metadata");
    t.path.push_back(names[0]);
    size_t first_key = 1;
    if (metadata_) {
      t.path.push_back(names[1]);
      first_key = 2;
    }
    for (size_t i = first_key; i < names.size(); ++i) t.keys.push_back(names[i]);
    if (pos_ >= s_.size() || s_[pos_] == ';') {
      t.op = negated ? QTerm::Op::kNotExists : QTerm::Op::kExists;
      return t;
    }
    if (negated) return Fail("\"!\" only negates an attribute name (!attr)");
    static constexpr query_detail::OpToken kOps[] = {
        {"==", QTerm::Op::kEq}, {"!=", QTerm::Op::kNe}, {">=", QTerm::Op::kGe}, {"<=", QTerm::Op::kLe},
        {"~=", QTerm::Op::kMatch}, {">", QTerm::Op::kGt}, {"<", QTerm::Op::kLt},  {":", QTerm::Op::kEq}};
    const size_t op_len = query_detail::MatchOperator(s_.substr(pos_), kOps, t.op);
    pos_ += op_len;
    const bool found = op_len > 0;
    if (!found) return Fail("expected an operator (==, :, !=, >, >=, <, <=, ~=)");
    if (t.op == QTerm::Op::kMatch) {
      std::string pattern;
      if (pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"')) {
        auto q = Quoted();
        if (!q) return Unexpected(std::move(q).error());
        pattern = std::move(*q);
      } else {
        const size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] != ';') ++pos_;
        pattern = std::string(s_.substr(start, pos_ - start));
      }
      if (pattern.empty()) return Fail("expected a pattern");
      if (pattern.size() > 256) return Fail("pattern longer than 256 characters");
      auto re = Pattern::Compile(pattern);
      if (!re) return Fail("invalid pattern \"" + pattern + "\": " + re.error());
      t.regex = *re;
      return t;
    }
    auto v = Value();
    if (!v) return Unexpected(std::move(v).error());
    t.values.push_back(std::move(*v));
    if (Peek("..")) {
      if (t.op != QTerm::Op::kEq && t.op != QTerm::Op::kNe) return Fail("a range a..b needs == or !=");
      pos_ += 2;
      auto hi = Value();
      if (!hi) return Unexpected(std::move(hi).error());
      t.values.push_back(std::move(*hi));
      t.is_range = true;
    } else if (pos_ < s_.size() && s_[pos_] == ',') {
      if (t.op != QTerm::Op::kEq && t.op != QTerm::Op::kNe) return Fail("a list a,b needs == or !=");
      while (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        auto next = Value();
        if (!next) return Unexpected(std::move(next).error());
        t.values.push_back(std::move(*next));
      }
    }
    if (pos_ < s_.size() && s_[pos_] != ';') return Fail("unexpected \"" + std::string(s_.substr(pos_, 10)) + "\"");
    return t;
  }

  Expected<QValue, Problem> Value() {
    QValue v;
    if (pos_ < s_.size() && (s_[pos_] == '\'' || s_[pos_] == '"')) {
      auto q = Quoted();
      if (!q) return Unexpected(std::move(q).error());
      v.kind = QValue::Kind::kString;
      v.text = std::move(*q);
      v.quoted = true;
      return v;
    }
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ';' && s_[pos_] != ',' && !Peek("..")) ++pos_;
    if (pos_ == start) return Fail("expected a value");
    std::string raw(s_.substr(start, pos_ - start));
    if (ReadLiteral(raw, v)) return v;
    if (auto t = ParseIso8601Micros(v.text)) v.time = *t;
    return v;
  }

  std::string_view s_;
  bool metadata_;
  size_t pos_ = 0;
};

}  // namespace

Expected<Query, Problem> Query::ParseV2(std::string_view q, bool metadata) {
  if (q.empty()) return Unexpected(MakeProblem(ErrorType::kBadRequestData, metadata ? "empty mq" : "empty q"));
  if (q.size() > kMaxQueryLength) {
    return Unexpected(MakeProblem(ErrorType::kTooComplexQuery, "q is longer than 4096 characters"));
  }
  auto root = V2Parser(q, metadata).ParseAll();
  if (!root) return Unexpected(std::move(root).error());
  Query query;
  query.root_ = std::move(*root);
  query.text_ = std::string(q);
  return query;
}

}  // namespace citybed::broker
