// What the two query-language parsers share (query.cc: NGSI-LD; query_v2.cc: NGSI-v2).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "citybed/broker/query.h"

namespace citybed::broker::query_detail {

inline constexpr size_t kMaxQueryLength = 4096;

// An unquoted literal: true/false and finite numbers are typed (returns true, v is complete);
// anything else becomes v's text (returns false; the caller may read a date-time from it).
bool ReadLiteral(std::string raw, QValue& v);

// An operator token of a query language.
struct OpToken {
  std::string_view tok;
  QTerm::Op op;
};
// The length of the first token of `table` that `rest` starts with (its operator in `op`), or 0.
size_t MatchOperator(std::string_view rest, std::span<const OpToken> table, QTerm::Op& op);

}  // namespace citybed::broker::query_detail
