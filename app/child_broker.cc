#include "child_broker.h"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace citybed::app {

Expected<std::unique_ptr<ChildBroker>> ChildBroker::Start(int threads, int cpu, int reserved) {
  std::unique_ptr<ChildBroker> b(new ChildBroker());
  b->cpu_ = cpu;
  b->log_ = "/tmp/citybed-child-broker-" + std::to_string(getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + ".log";
  // Everything the child needs is made before fork: between fork and exec it only calls
  // async-signal-safe functions (this process may have other threads).
  const std::string threads_arg = std::to_string(threads);
  std::vector<const char*> argv = {"citybed", "broker", "--port", "0", "--threads", threads_arg.c_str(),
                                   "--log-level", "info", "--notification-queue", "1000000", nullptr};
  const int log = open(b->log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log < 0) return Unexpected(Error::Io("cannot create " + b->log_));
  cpu_set_t one;
  CPU_ZERO(&one);
  if (cpu >= 0) CPU_SET(cpu, &one);
  const pid_t pid = fork();
  if (pid < 0) {
    close(log);
    return Unexpected(Error::Internal("cannot start the broker process: fork failed"));
  }
  if (pid == 0) {
    if (cpu >= 0) sched_setaffinity(0, sizeof one, &one);
    dup2(log, STDERR_FILENO);
    dup2(log, STDOUT_FILENO);
    execv("/proc/self/exe", const_cast<char* const*>(argv.data()));
    _exit(127);
  }
  close(log);
  b->pid_ = pid;
  if (cpu >= 0) {
    // The calling thread (and the threads it starts from now on) on every other CPU.
    cpu_set_t set;
    CPU_ZERO(&set);
    const int n = static_cast<int>(std::thread::hardware_concurrency());
    for (int i = 0; i < n; ++i) {
      if (i != cpu && i >= reserved) CPU_SET(i, &set);
    }
    if (CPU_COUNT(&set) > 0) sched_setaffinity(0, sizeof set, &set);
  }
  // Its URL, from the line it logs once listening.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(b->log_);
    std::stringstream text;
    text << in.rdbuf();
    const std::string s = text.str();
    if (const size_t at = s.find("listening on "); at != std::string::npos) {
      const size_t end = s.find_first_of(" \n", at + 13);
      if (end != std::string::npos) {
        b->url_ = s.substr(at + 13, end - at - 13);
        return b;
      }
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      b->pid_ = -1;
      return Unexpected(Error::Internal("the broker process exited at start: " + s.substr(0, 500)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling a child's start-up, not synchronising a test
  }
  return Unexpected(Error::Timeout("the broker process did not start listening within 10 s"));
}

ChildBroker::~ChildBroker() {
  if (pid_ > 0) {
    kill(pid_, SIGINT);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  if (!log_.empty()) std::remove(log_.c_str());
  if (cpu_ >= 0) {
    // This process may use every CPU again.
    cpu_set_t set;
    CPU_ZERO(&set);
    const int n = static_cast<int>(std::thread::hardware_concurrency());
    for (int i = 0; i < n; ++i) CPU_SET(i, &set);
    sched_setaffinity(0, sizeof set, &set);
  }
}

}  // namespace citybed::app
