// The files of a run folder (results/runs/<UTC stamp>-<scenario>/ or --out DIR), each built by
// its own writer and documented field by field in docs/results.md:
//   manifest.json                 how the run was produced (summary.cc: BuildManifest in manifest.cc)
//   summary.json                  what was measured and whether it counts (summary.cc)
//   timeseries.csv                one row per interval (timeseries.cc), described by
//   timeseries.csv-metadata.json  a W3C CSVW sidecar: columns, units, histogram resolution
//   report.html                   a self-contained page with charts and tables (report.cc, charts.cc)
// Each file is written atomically (write, flush, rename): an interrupted run never leaves a
// half-written file, only missing ones.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/models/emulation.h"
#include "citybed/models/scenario.h"
#include "citybed/results/recorder.h"

namespace citybed::results {

inline constexpr const char* kSummarySchema = "citybed-summary/1";

struct RunInfo {
  const models::Scenario* scenario = nullptr;
  const models::EmulationResult* result = nullptr;
  const models::Federation* federation = nullptr;  // the World's, when the scenario federates
  std::string broker_url;
  bool broker_embedded = false;
  std::string started_utc;
  int64_t started_unix_us = 0;
  std::string command_line;
  uint64_t sources = 0, users = 0;
  std::map<std::string, uint64_t> sources_by_domain;
  std::map<std::string, uint64_t> sources_by_region;
  std::map<std::string, uint64_t> sources_by_type;
  // Entities the run wrote: sources that reported at least once (each source is one entity).
  uint64_t entities = 0;
  std::map<std::string, uint64_t> entities_by_domain;
  std::map<std::string, uint64_t> entities_by_region;
  std::map<std::string, uint64_t> entities_by_type;
  // The machine during the run (issue: a busy host shows): load average and steal share.
  nlohmann::json host = nlohmann::json::object();
  // Resources of the broker when known (embedded): CPU seconds, peak RSS.
  nlohmann::json broker_resources = nlohmann::json::object();
  // Model mode (models/model_run.h): the calibration it served by — file, sha256, confidence,
  // instances, its domain of validity and whether the run stayed inside it; null in emulation.
  nlohmann::json model;
  // Instances of one broker (broker.instances > 1): their URLs (emulation), the placement, the
  // instance of each region and each instance's share of the mean demand; null for one broker.
  nlohmann::json instances;
};

// The measurement window: intended send times in [from, to). `to` is where the run's clock
// stopped (the scenario's duration, or earlier for an interrupted run).
struct Window {
  sim::Time from, to, planned_to;
  double speed = 1;
  bool measured() const { return to > from; }
  double simulated_s() const { return measured() ? (to - from).ns() / 1e9 : 0.0; }
  double wall_s() const { return simulated_s() / speed; }
};
Window WindowOf(const models::Scenario& s, const models::EmulationResult& r);

// Whether the generator kept up well enough for the run to measure the broker (the rule of
// GeneratorSpec): the bound, the rule it came from, the measured lag and its share.
struct GeneratorVerdict {
  bool valid = true;
  sim::Duration bound;
  std::string rule;           // how the bound was chosen, in words
  sim::Duration measured;     // executor lag at the scenario's percentile
  double percentile = 99;
  std::optional<double> share_of_tightest_slo;  // measured / tightest latency SLO bound
  std::string reason;         // why not valid
};
GeneratorVerdict JudgeGenerator(const models::Scenario& s, const models::EmulationResult& r, const Recorder& rec);

struct SloVerdict {
  nlohmann::json objectives = nlohmann::json::array();
  bool pass = true;         // no objective failed
  bool judged = true;       // every objective had enough samples
  bool any = false;
};
// The fewest samples a percentile p is judged on: ceil(1 / (1 - p/100)), e.g. 100 for p99.
uint64_t SamplesNeeded(double percentile);
SloVerdict EvaluateSlo(const models::SloSpec& slo, const Recorder& recorder);

// The machine: cores, memory, OS, kernel, architecture, CPU model (manifests record it).
nlohmann::json MachineDescription();
nlohmann::json BuildManifest(const RunInfo& info);
nlohmann::json BuildSummary(const Recorder& recorder, const RunInfo& info, const SloVerdict& slo,
                            const GeneratorVerdict& generator);
std::string BuildTimeseriesCsv(const Recorder& recorder, const RunInfo& info);
nlohmann::json BuildTimeseriesMetadata(const Recorder& recorder);
std::string BuildReportHtml(const nlohmann::json& summary, const nlohmann::json& manifest, const Recorder& recorder);

// {"p50", "p90", "p99", "p999", "max", "mean" (ms), "count"} of a histogram of nanoseconds.
nlohmann::json LatencyJson(const sim::LatencyHistogram& h);

// The default folder name: "<UTC yyyymmddThhmmssZ>-<scenario name>".
std::string RunFolderName(const std::string& scenario_name);
// Checks, before a run, that `dir` can take the results: creatable and writable, and not
// already holding a run (unless `force`). Creates it.
Expected<void> PrepareRunFolder(const std::string& dir, bool force);
struct RunFiles {
  nlohmann::json manifest, summary, csv_metadata;
  std::string csv, html;  // html empty: no report
};
// Writes the files into `dir`; returns the paths written.
Expected<std::vector<std::string>> WriteRunFolder(const std::string& dir, const RunFiles& files);

}  // namespace citybed::results
