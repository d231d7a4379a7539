// Leveled logging to stderr, one line per message, safe to call from any thread.
//   CITYBED_LOG(kInfo) << "listening on " << endpoint;
// A disabled level costs one relaxed atomic load; the message is not formatted. Logs are for
// people: results never come from parsing them.
#pragma once

#include <atomic>
#include <sstream>
#include <string_view>

#include "citybed/common/expected.h"

namespace citybed {

enum class LogLevel { kTrace = 0, kDebug, kInfo, kWarn, kError, kOff };

// The process-wide threshold (default kInfo). Messages below it are dropped.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
inline bool LogEnabled(LogLevel level);
Expected<LogLevel> ParseLogLevel(std::string_view name);  // trace|debug|info|warn|error|off
std::string_view ToString(LogLevel level);

namespace detail {
extern std::atomic<int> g_log_level;
}  // namespace detail

inline bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= detail::g_log_level.load(std::memory_order_relaxed);
}

// Collects one message and writes it, with a UTC timestamp and the level, when destroyed.
class LogLine {
 public:
  explicit LogLine(LogLevel level) : level_(level) {}
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  std::ostream& stream() { return out_; }

 private:
  LogLevel level_;
  std::ostringstream out_;
};

}  // namespace citybed

#define CITYBED_LOG(level)                                      \
  if (!::citybed::LogEnabled(::citybed::LogLevel::level)) {     \
  } else                                                        \
    ::citybed::LogLine(::citybed::LogLevel::level).stream()
