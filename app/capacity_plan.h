// What `citybed capacity` (capacity_command.cc) does around the search: its options, the probes'
// scenario, the output folder (resumable), the scenario's demand (its window, its day's peak, a
// disaster day's peak), and the conclusion: headroom, the planner's translation into instances,
// the exit code, the files and the terminal summary.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/models/scenario.h"

namespace citybed::app {

struct CapacityOptions {
  std::string file, model, out, instances = "1", disaster, duration, command_line;
  // The instance counts emulated around the model's answer ("": every K of `instances` for which
  // this machine has a CPU per broker instance and one more for citybed).
  std::string emulation_instances;
  std::string settle = "auto";  // the warm-up that fills the broker: auto, none or a duration
  std::vector<std::string> slo;
  int64_t seed = -1;
  double headroom = 0.3, planned = 1, target = 0.7, precision = 0.02;
  int rollout_regions = 100;
  int connections = 0;  // > 0: the client's connections per broker (broker.connections) in the probes
  int min_reps = 3, max_reps = 8;
  bool no_emulation = false, force = false, quiet = false;
};

// "1", "1..4", "1,2,4" → {1}, {1,2,3,4}, {1,2,4}.
Expected<std::vector<int>> ParseInstanceList(const std::string& text);

// --slo items → the scenario's "slo" object: "upsert:p99=100ms" → latency.upsert.p99 = "100ms";
// "error-rate=1%" or "error-rate=0.01" → error_rate 0.01.
Expected<nlohmann::json> ParseSloOptions(const std::vector<std::string>& items);

// The scenario the probes run: the file's JSON with --slo, --duration, the settling warm-up, an
// output interval of about a fiftieth of the window, no per-probe HTML report, and generated
// regions' CSV path made absolute. Settling (--settle auto): a broker starts empty, and a
// source's first report creates its entity, so the probes start earlier by the time in which
// 99 % of the sources report once (a periodic source within its period and half its jitter, a
// Poisson one within 4.6 mean gaps; at most 6 h), counted as warm-up: the measured window keeps
// its clock time and finds the city's entities in place. `settled` receives what was added.
Expected<nlohmann::json> DeriveProbeScenario(const CapacityOptions& o, const models::Scenario& original, nlohmann::json& settled);

// Creates `out`, or resumes a search there: search.json records what determines the probes'
// results (the probe scenario's hash, the calibration, the seed); a folder holding another search
// or anything else is refused unless o.force (then emptied).
Expected<void> PrepareCapacityFolder(const std::string& out, const CapacityOptions& o, const std::string& scenario_sha256);

// The demand, per simulated second at speed 1: "reference_rps" (the mean over the probes'
// window), "window_peak_rps", "day_peak_rps" and its local time (24 h from the start, 5-minute
// steps, the scenario's own events left out), "disaster" (the peak with the disaster day's events),
// "regions", "population".
Expected<nlohmann::json> MeasureDemand(const CapacityOptions& o, const nlohmann::json& probe_scenario,
                                       const models::Scenario& scenario);

// Fills report["headline"], ["planner"], ["verdict"]; returns the exit code: 0 the planned load
// fits with the headroom, 1 it does not, 3 no valid measurement.
int Conclude(const CapacityOptions& o, nlohmann::json& report);

// capacity.json and report.html, each written atomically.
Expected<void> WriteCapacityFiles(const std::string& out, const nlohmann::json& report);
void PrintConclusion(const nlohmann::json& report, const std::string& out);

}  // namespace citybed::app
