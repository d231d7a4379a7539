// Child runs of this executable: `citybed run …` replications and capacity probes. The argument
// vector is built before fork; between fork and exec the child only calls async-signal-safe
// functions (this process may have other threads).
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace citybed::app {

struct ChildJob {
  std::vector<std::string> args;  // without the program name: {"run", "scenario.json", …}
  std::string log;                // stdout and stderr of the child
};

// Starts one job; the pid, or -1 when fork failed.
pid_t SpawnCitybed(const ChildJob& job);

// Runs `jobs`, at most `parallel` at a time; each job's exit code (kExitRuntimeError when it
// could not start or was killed by a signal), in the jobs' order. `on_done(i, code)` is called
// as each ends. Waits for every child it started, also when a start fails.
std::vector<int> RunChildren(const std::vector<ChildJob>& jobs, int parallel,
                             const std::function<void(size_t, int)>& on_done = {});

}  // namespace citybed::app
