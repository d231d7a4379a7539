// Small string helpers shared by the CLI, scenario validation and the broker.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "citybed/common/expected.h"

namespace citybed {

// Edit distance with insert, delete, substitute and adjacent transposition, each cost 1
// (optimal string alignment). O(|a|·|b|) time, O(|b|) memory.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a plausible typo (distance at most
// a third of the word's length, at least 1), else an empty string. For "did you mean" hints.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

std::vector<std::string_view> Split(std::string_view s, char sep);
std::string_view Trim(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
// Percent-encodes everything but letters, digits, "-_.~" and the characters in `keep`.
std::string PercentEncode(std::string_view in, std::string_view keep = "");

// Formats the current UTC time as RFC 3339 with milliseconds, e.g. "2026-11-25T08:00:00.123Z".
std::string UtcNowRfc3339();
// Formats seconds since the Unix epoch (with fraction) as RFC 3339 UTC with milliseconds.
// ASCII lower case (header names, media types, tenant names).
std::string AsciiLower(std::string_view s);
// Case-insensitive ASCII equality.
bool EqualsAsciiNoCase(std::string_view a, std::string_view b);

// Nanoseconds as exact decimal seconds, without trailing zeros: "60", "60.5", "0.000000001".
std::string FormatSecondsExact(int64_t ns);
std::string FormatRfc3339(double unix_seconds);

// Microseconds since the Unix epoch, UTC.
int64_t UnixMicrosNow();
// Parses an ISO 8601 / RFC 3339 date-time: "2024-05-01T12:00:00Z", "...00.123456Z",
// "...00+09:00"; a missing zone means UTC. Returns microseconds since the Unix epoch.
Expected<int64_t> ParseRfc3339Micros(std::string_view text);
// Parses the ISO 8601 forms NGSI-v2 accepts for DateTime: a date ("2017-06-17"), a date-time
// with or without seconds and fraction, with "Z", "+hh", "+hhmm", "+hh:mm" or no zone (UTC).
Expected<int64_t> ParseIso8601Micros(std::string_view text);
// Formats microseconds since the epoch as RFC 3339 UTC: whole seconds as "...:00Z", whole
// milliseconds as "...:00.123Z", otherwise "...:00.123456Z". Round-trips ParseRfc3339Micros.
std::string FormatRfc3339Micros(int64_t micros);
// Appends the same text to `out` without a temporary string.
void AppendRfc3339Micros(std::string& out, int64_t micros);
// Days since 1970-01-01 of a proleptic Gregorian date, and back (valid for years 1..9999).
int64_t DaysFromCivil(int y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int& y, unsigned& m, unsigned& d);

}  // namespace citybed
