// What the two query-language parsers share (query.cc: NGSI-LD; query_v2.cc: NGSI-v2).
#pragma once

#include <cstddef>
#include <string>

#include "citybed/broker/query.h"

namespace citybed::broker::query_detail {

inline constexpr size_t kMaxQueryLength = 4096;

// An unquoted literal: true/false and finite numbers are typed (returns true, v is complete);
// anything else becomes v's text (returns false; the caller may read a date-time from it).
bool ReadLiteral(std::string raw, QValue& v);

}  // namespace citybed::broker::query_detail
