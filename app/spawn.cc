#include "spawn.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "exit_codes.h"

namespace citybed::app {

pid_t SpawnCitybed(const ChildJob& job) {
  std::vector<std::string> args = job.args;
  args.insert(args.begin(), "citybed");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int fd = job.log.empty() ? -1 : open(job.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const pid_t pid = fork();
  if (pid == 0) {
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
    }
    execv("/proc/self/exe", argv.data());
    _exit(kExitRuntimeError);
  }
  if (fd >= 0) close(fd);
  return pid;
}

std::vector<int> RunChildren(const std::vector<ChildJob>& jobs, int parallel, const std::function<void(size_t, int)>& on_done) {
  std::vector<int> codes(jobs.size(), kExitRuntimeError);
  std::map<pid_t, size_t> running;
  size_t next = 0;
  parallel = std::max(1, parallel);
  while (next < jobs.size() || !running.empty()) {
    while (next < jobs.size() && static_cast<int>(running.size()) < parallel) {
      const pid_t pid = SpawnCitybed(jobs[next]);
      if (pid < 0) {
        if (on_done) on_done(next, kExitRuntimeError);
        ++next;
        continue;
      }
      running[pid] = next++;
    }
    if (running.empty()) continue;
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) break;
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const size_t i = it->second;
    running.erase(it);
    codes[i] = WIFEXITED(status) ? WEXITSTATUS(status) : kExitRuntimeError;
    if (on_done) on_done(i, codes[i]);
  }
  for (const auto& [pid, i] : running) waitpid(pid, nullptr, 0);  // none is left behind
  return codes;
}

}  // namespace citybed::app
