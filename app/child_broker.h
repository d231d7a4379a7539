// ChildBroker: citybed's broker in a child process (`citybed broker`), optionally pinned to one
// CPU while this process keeps the others — how `calibrate` and `validate-model` measure the
// broker without the load generator taking its core (docs/capacity.md). Stopped (SIGINT, then
// SIGKILL after 5 s) when destroyed. Its log goes to a file in /tmp, removed when it stops.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "citybed/common/expected.h"

namespace citybed::app {

class ChildBroker {
 public:
  // `cpu` < 0: not pinned. When `cpu` >= 0, pins the calling thread (and threads it starts later)
  // to every other CPU, and to none below `reserved` (the CPUs of other child brokers), until
  // destroyed.
  static Expected<std::unique_ptr<ChildBroker>> Start(int threads, int cpu, int reserved = 0);
  ~ChildBroker();
  ChildBroker(const ChildBroker&) = delete;
  ChildBroker& operator=(const ChildBroker&) = delete;

  const std::string& url() const { return url_; }
  int cpu() const { return cpu_; }

 private:
  ChildBroker() = default;
  pid_t pid_ = -1;
  int cpu_ = -1;
  std::string url_, log_;
};

}  // namespace citybed::app
