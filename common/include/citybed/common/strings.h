// Small string helpers shared by the CLI, scenario validation and the broker.
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

// Formats the current UTC time as RFC 3339 with milliseconds, e.g. "2026-11-25T08:00:00.123Z".
std::string UtcNowRfc3339();
// Formats seconds since the Unix epoch (with fraction) as RFC 3339 UTC with milliseconds.
std::string FormatRfc3339(double unix_seconds);

}  // namespace citybed
