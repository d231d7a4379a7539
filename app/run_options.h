// The options of `citybed run`, shared by the single run (run_command.cc) and the replications
// (replications.cc).
#pragma once

#include <cstdint>
#include <string>

namespace citybed::app {

struct RunOptions {
  std::string file;
  std::string broker;
  std::string notify_host = "127.0.0.1";
  std::string out;
  std::string duration;
  double speed = 0;
  int64_t seed = -1;
  bool quiet = false;
  bool force = false;
  std::string log_level = "warn";
  std::string model;      // model mode: the calibration file
  int instances = 0;      // broker instances (0: the scenario's broker.instances)
  std::string placement;  // "round-robin" or "balanced" ("": the scenario's broker.placement)
  int replications = 1;   // independent runs under named seed streams (replications.cc)
  bool request_log = false;  // requests.csv and notifications.csv: every sample (results/request_log.h)
};

// Runs o.replications runs of o.file as child processes (in parallel on the machine's cores in
// model mode, one after the other in emulation), each into <out>/rep-<r>, then writes
// <out>/replications.json: every summary figure's mean and 95 % interval across them.
int RunReplications(const RunOptions& o);

}  // namespace citybed::app
