#include "citybed/common/units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>

namespace citybed {
namespace {

struct Unit {
  std::string_view name;
  double factor;
};

constexpr Unit kDurationUnits[] = {
    {"ns", 1.0},       {"us", 1e3},        {"\xC2\xB5s", 1e3},  {"ms", 1e6},
    {"s", 1e9},        {"m", 60e9},        {"min", 60e9},       {"h", 3600e9},
    {"d", 86400e9},
};

constexpr Unit kSizeUnits[] = {
    {"", 1.0},          {"B", 1.0},           {"k", 1024.0},        {"K", 1024.0},
    {"KB", 1e3},        {"MB", 1e6},          {"GB", 1e9},          {"KiB", 1024.0},
    {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"kB", 1e3},
};

// Reads a non-negative decimal number at the front of `s`; advances `s` past it.
bool ReadNumber(std::string_view& s, double& out) {
  size_t n = 0;
  bool digits = false, dot = false;
  while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || (s[n] == '.' && !dot))) {
    if (s[n] == '.') dot = true; else digits = true;
    ++n;
  }
  if (!digits) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, out);
  if (ec != std::errc() || ptr != s.data() + n) return false;
  s.remove_prefix(n);
  return true;
}

std::string_view ReadUnit(std::string_view& s) {
  size_t n = 0;
  while (n < s.size() && !std::isdigit(static_cast<unsigned char>(s[n])) && s[n] != '.' &&
         s[n] != ' ') {
    ++n;
  }
  std::string_view unit = s.substr(0, n);
  s.remove_prefix(n);
  return unit;
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

Expected<int64_t> ParseDurationNs(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (s.empty()) return Unexpected(Error::InvalidArgument("empty duration"));
  if (s == "0") return int64_t{0};
  if (s.front() == '-') {
    return Unexpected(Error::InvalidArgument("duration " + Quote(text) + " must not be negative"));
  }
  double total = 0;
  while (!s.empty()) {
    double number = 0;
    if (!ReadNumber(s, number)) {
      return Unexpected(Error::InvalidArgument("duration " + Quote(text) +
                                               ": expected a number, e.g. \"250ms\" or \"1h30m\""));
    }
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    std::string_view unit = ReadUnit(s);
    if (unit.empty()) {
      return Unexpected(Error::InvalidArgument(
          "duration " + Quote(text) + ": number without a unit (use ns, us, ms, s, m, h or d)"));
    }
    const Unit* found = nullptr;
    for (const Unit& u : kDurationUnits) {
      if (u.name == unit) found = &u;
    }
    if (found == nullptr) {
      return Unexpected(Error::InvalidArgument("duration " + Quote(text) + ": unknown unit " +
                                               Quote(unit) + " (use ns, us, ms, s, m, h or d)"));
    }
    total += number * found->factor;
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  }
  if (total >= static_cast<double>(std::numeric_limits<int64_t>::max())) {
    return Unexpected(Error::InvalidArgument("duration " + Quote(text) + " is too long"));
  }
  return static_cast<int64_t>(std::llround(total));
}

Expected<uint64_t> ParseSize(std::string_view text) {
  std::string_view s = text;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  double number = 0;
  if (!ReadNumber(s, number)) {
    return Unexpected(Error::InvalidArgument("size " + Quote(text) +
                                             ": expected a number, e.g. \"1MiB\" or \"65536\""));
  }
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  std::string_view unit = s;
  for (const Unit& u : kSizeUnits) {
    if (u.name == unit) {
      double bytes = number * u.factor;
      if (bytes >= 1.8e19) return Unexpected(Error::InvalidArgument("size " + Quote(text) + " is too large"));
      return static_cast<uint64_t>(std::llround(bytes));
    }
  }
  return Unexpected(Error::InvalidArgument("size " + Quote(text) + ": unknown unit " + Quote(unit) +
                                           " (use B, KiB, MiB, GiB, KB, MB or GB)"));
}

std::string FormatDurationNs(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  double v = std::fabs(static_cast<double>(ns));
  struct Step {
    double factor;
    const char* name;
  };
  static constexpr Step kSteps[] = {{86400e9, "d"}, {3600e9, "h"}, {60e9, "m"}, {1e9, "s"},
                                    {1e6, "ms"},    {1e3, "us"},   {1.0, "ns"}};
  for (const Step& step : kSteps) {
    if (v >= step.factor) {
      double x = v / step.factor;
      char buf[48];
      if (std::fabs(x - std::round(x)) < 1e-9) {
        std::snprintf(buf, sizeof buf, "%s%.0f%s", sign.c_str(), x, step.name);
      } else {
        std::snprintf(buf, sizeof buf, "%s%.3g%s", sign.c_str(), x, step.name);
      }
      return buf;
    }
  }
  return sign + std::to_string(static_cast<int64_t>(v)) + "ns";
}

std::string FormatSize(uint64_t bytes) {
  char buf[48];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else if (bytes < 1024ull * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  } else if (bytes < 1024ull * 1024 * 1024) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / 1048576.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / 1073741824.0);
  }
  return buf;
}

}  // namespace citybed
