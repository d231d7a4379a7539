// The NGSI-LD query language (ETSI GS CIM 009, 4.9): the `q` parameter of queries and
// subscriptions.
//
//   q        := term (op term)*             op: ';' (AND, binds tighter) | '|' (OR)
//   term     := '(' q ')' | path [comparison]
//   path     := name ('.' name)* ('[' key ']')*     a.b: sub-attribute b of attribute a;
//                                                    a[k]: member k of a's JSON value
//   comparison := ('==' | '!=') (value | value (',' value)+ | value '..' value)
//               | ('>' | '>=' | '<' | '<=') value | ('~=' | '!~=') regex
//   value    := number | "quoted string" | true | false | date-time | URI
//
// A path alone tests that the attribute exists. The last name of a path may be observedAt,
// unitCode, datasetId, createdAt or modifiedAt to compare that member. Values compare as
// numbers, as date-times when both sides are date-times, else as strings; an array value
// matches when any element does; a Relationship compares its object. Parsing reports the
// position of the first error. A parsed Query is immutable and thread-safe.
//
// Query::ParseV2 reads the NGSI-v2 Simple Query Language of Orion's q and mq parameters into the
// same tree: statements joined by ';' (AND), `attr` and `!attr` (exists, does not exist), the
// operators ==, : (same as ==), !=, >, >=, <, <=, ~=, lists a,b and ranges a..b; values are
// numbers, true/false, ISO 8601 dates, and strings, quoted with ' (or ") to keep commas, dots
// or a number-like text a string. In q, `a.b.c` is attribute a and the member b.c of its
// (structured) value; in mq, `a.m` is metadata m of attribute a (a sub-attribute in the store).
// A number compares only with numbers and a string only with strings (Orion's typing).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "citybed/broker/pattern.h"
#include "citybed/broker/context.h"
#include "citybed/broker/entity.h"
#include "citybed/broker/interner.h"
#include "citybed/broker/problem.h"
#include "citybed/common/expected.h"

namespace citybed::broker {

struct QValue {
  enum class Kind { kNumber, kString, kBool } kind = Kind::kString;
  double number = 0;
  std::string text;
  bool quoted = false;
  bool boolean = false;
  int64_t time = kNoTime;  // set when text is a date-time
};

struct QTerm {
  enum class Op { kExists, kNotExists, kEq, kNe, kGt, kGe, kLt, kLe, kMatch, kNotMatch };
  std::vector<std::string> path;     // attribute, then sub-attributes, as written
  std::vector<uint32_t> path_ids;    // expanded and interned (Bind)
  std::vector<std::string> keys;     // [key] members into the JSON value
  Op op = Op::kExists;
  std::vector<QValue> values;        // one, or a list for == / !=
  bool is_range = false;             // values[0]..values[1]
  PatternPtr regex;
  bool v2 = false;                   // NGSI-v2 typing: numbers match numbers only
};

struct QNode {
  enum class Kind { kTerm, kAnd, kOr } kind = Kind::kTerm;
  QTerm term;
  std::vector<QNode> children;
};

class Query {
 public:
  // Parses q; errors are InvalidRequest problems with the position.
  static Expected<Query, Problem> Parse(std::string_view q);
  // Parses NGSI-v2 q (metadata = false) or mq (metadata = true); errors are BadRequestData
  // problems with the position (the v2 API renders them as Orion's 400 BadRequest).
  static Expected<Query, Problem> ParseV2(std::string_view q, bool metadata);
  // Expands attribute names with the request's context. Must be called before Matches.
  // Resolves the names of the terms. `intern`: false for a query that only reads (names never
  // written match nothing and are not interned); true for a subscription's q, which later
  // writes may meet.
  void Bind(const Context& context, Interner& names, bool intern = true);
  bool Matches(const Entity& e) const;
  // Attribute names (expanded ids) the query reads; for subscriptions' change detection.
  std::vector<uint32_t> Attributes() const;
  const std::string& text() const { return text_; }

 private:
  QNode root_;
  std::string text_;
  const Interner* names_ = nullptr;
};

}  // namespace citybed::broker
