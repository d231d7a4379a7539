// CPU time of threads and of this process, from the kernel's per-thread clocks: what a run
// reports as the embedded broker's CPU, and what the executor reports as its own cost.
#pragma once

#include <thread>

namespace citybed {

// CPU seconds `t` has used so far; 0 if it is not running.
double ThreadCpuSeconds(std::thread& t);
// CPU seconds the calling thread has used so far.
double ThisThreadCpuSeconds();
// CPU seconds (user + system) this process has used so far.
double ProcessCpuSeconds();

}  // namespace citybed
