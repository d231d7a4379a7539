// HostProbe: what else the machine was doing during a run, from /proc — the load average, CPU
// steal (a virtual machine's host giving the CPU to someone else) and the CPU that processes
// other than citybed used. A busy machine makes latencies and the generator's lag worse than
// the broker alone would; the summary and the manifest record it, and the report warns.
#pragma once

#include <nlohmann/json.hpp>

namespace citybed::app {

class HostProbe {
 public:
  HostProbe();  // the first sample
  // Since construction: {"cores", "load_avg_1m", "steal_share", "others_share",
  // "citybed_share", "warning" (when busy)}. Shares are of the machine's total CPU time.
  nlohmann::json Describe() const;

 private:
  struct Sample {
    double total = 0, idle = 0, steal = 0;  // jiffies, all CPUs
    double self = 0;                        // this process, jiffies
  };
  static Sample Take();
  Sample first_;
};

}  // namespace citybed::app
