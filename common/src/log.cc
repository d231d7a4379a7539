#include "citybed/common/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace citybed {
namespace detail {
std::atomic<int> g_log_level{static_cast<int>(LogLevel::kInfo)};
}  // namespace detail

namespace {
std::mutex g_log_mutex;
}  // namespace

void SetLogLevel(LogLevel level) {
  detail::g_log_level.store(static_cast<int>(level), std::memory_order_relaxed);
}

LogLevel GetLogLevel() {
  return static_cast<LogLevel>(detail::g_log_level.load(std::memory_order_relaxed));
}

std::string_view ToString(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return "trace";
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "?";
}

Expected<LogLevel> ParseLogLevel(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(LogLevel::kOff); ++i) {
    if (ToString(static_cast<LogLevel>(i)) == name) return static_cast<LogLevel>(i);
  }
  if (name == "warning") return LogLevel::kWarn;
  return Unexpected(Error::InvalidArgument("unknown log level \"" + std::string(name) +
                                           "\" (use trace, debug, info, warn, error or off)"));
}

LogLine::~LogLine() {
  using namespace std::chrono;
  auto now = system_clock::now();
  std::time_t secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
  std::string text = out_.str();
  std::lock_guard<std::mutex> lock(g_log_mutex);
  std::fprintf(stderr, "%s.%03dZ %-5s %s\n", stamp, static_cast<int>(ms),
               std::string(ToString(level_)).c_str(), text.c_str());
}

}  // namespace citybed
