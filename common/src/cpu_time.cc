#include "citybed/common/cpu_time.h"

#include <pthread.h>
#include <time.h>

namespace citybed {

namespace {
double ClockSeconds(clockid_t id) {
  timespec ts{};
  if (clock_gettime(id, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
}  // namespace

double ThreadCpuSeconds(std::thread& t) {
  if (!t.joinable()) return 0;
  clockid_t id;
  if (pthread_getcpuclockid(t.native_handle(), &id) != 0) return 0;
  return ClockSeconds(id);
}

double ThisThreadCpuSeconds() { return ClockSeconds(CLOCK_THREAD_CPUTIME_ID); }
double ProcessCpuSeconds() { return ClockSeconds(CLOCK_PROCESS_CPUTIME_ID); }

}  // namespace citybed
