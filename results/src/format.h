// Number conversions shared by the result writers (internal to results/).
#pragma once

#include <cmath>
#include <cstdint>

namespace citybed::results {

// Nanoseconds as milliseconds: exact (for charts and the CSV's fixed decimals) ...
inline double MsExact(int64_t ns) { return static_cast<double>(ns) / 1e6; }
// ... or rounded to the microsecond, so that summary.json prints short decimals.
inline double MsRounded(int64_t ns) { return std::round(static_cast<double>(ns) / 1e3) / 1e3; }

}  // namespace citybed::results
