// FifoStation: c identical servers in front of one first-come-first-served queue, on an Engine.
// The building block of queueing models (the M/M/c checks of the engine, the calibrated
// broker model of capacity planning). A job brings its own service time; when it leaves, its
// callback receives the time it waited in queue and its total time in the station.
// Unbounded queue unless `capacity` is set: a job that finds `capacity` jobs waiting is
// rejected at once (callback with rejected = true). Not thread-safe; lives with its Engine.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>

#include "citybed/sim/engine.h"
#include "citybed/sim/time.h"

namespace citybed::sim {

class FifoStation {
 public:
  struct Outcome {
    Duration waited;   // arrival -> start of service
    Duration sojourn;  // arrival -> departure
    bool rejected = false;
  };
  using Done = std::function<void(const Outcome&)>;

  FifoStation(Engine& engine, int servers, size_t capacity = std::numeric_limits<size_t>::max());

  void Submit(Duration service_time, Done done);

  int servers() const { return servers_; }
  int busy() const { return busy_; }
  size_t queued() const { return queue_.size(); }
  uint64_t completed() const { return completed_; }
  uint64_t rejected() const { return rejected_; }
  // Time-average number of busy servers divided by servers, since construction.
  double Utilization() const;
  // Busy server-seconds since construction (the integral of busy servers over time).
  double BusySeconds() const;

 private:
  struct Job {
    Time arrived;
    Duration service;
    Done done;
  };
  void Start(Job job);
  void AccumulateBusy();

  Engine& engine_;
  int servers_;
  size_t capacity_;
  int busy_ = 0;
  std::deque<Job> queue_;
  uint64_t completed_ = 0, rejected_ = 0;
  Time last_change_;
  double busy_area_ = 0;  // integral of busy_ over time, server-seconds
};

}  // namespace citybed::sim
