// Parsing and printing of the human units that scenario files and flags use.
//   durations: "250ms", "5s", "15m", "24h", "1d", "1.5s", "1h30m", "100us", "500ns", "0"
//   sizes:     "1MiB", "512KiB", "64KB", "1048576", "1 GiB"
// Errors say what was wrong and what is accepted. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "citybed/common/expected.h"

namespace citybed {

// Parses a non-negative duration into nanoseconds. Several terms may follow each other
// ("1h30m"); each term is a decimal number and a unit: ns, us (or µs), ms, s, m (minutes), h, d.
// A bare "0" is allowed; any other number needs a unit.
Expected<int64_t> ParseDurationNs(std::string_view text);

// Parses a byte size: a number and an optional unit B, KB/MB/GB (powers of 1000) or
// KiB/MiB/GiB (powers of 1024); "k"/"K" alone means KiB.
Expected<uint64_t> ParseSize(std::string_view text);

// Formats nanoseconds with the largest unit that keeps the number readable: "250ms", "1.5s",
// "2h", "3d 4h". Exact for whole units; otherwise up to three decimals.
std::string FormatDurationNs(int64_t ns);

// Formats a byte count: "512 B", "1.5 KiB", "2.0 MiB".
std::string FormatSize(uint64_t bytes);

}  // namespace citybed
