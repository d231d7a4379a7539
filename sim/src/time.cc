#include "citybed/sim/time.h"

#include "citybed/common/units.h"

namespace citybed::sim {

Expected<Duration> Duration::Parse(std::string_view text) {
  auto ns = ParseDurationNs(text);
  if (!ns) return Unexpected(std::move(ns).error());
  return Duration::Nanoseconds(*ns);
}

std::string Duration::ToString() const { return FormatDurationNs(ns_); }

std::string Time::ToString() const { return "t=" + FormatDurationNs(ns_); }

}  // namespace citybed::sim
