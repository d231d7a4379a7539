// The files of a run folder (results/runs/<UTC stamp>-<scenario>/ or --out DIR):
//   manifest.json   how the run was produced: scenario copy and SHA-256, seed, citybed version
//                   and commit, broker URL and its /version, machine (cores, memory, OS)
//   summary.json    validity, requests, latency percentiles per operation/region/domain,
//                   notifications, generator health, SLO verdicts
//   timeseries.csv  one row per interval
//   report.html     a self-contained page (no network needed) with charts and tables
// Each file is written atomically (write, flush, rename): an interrupted run never leaves a
// half-written file, only missing ones.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/models/emulation.h"
#include "citybed/models/scenario.h"
#include "citybed/results/recorder.h"

namespace citybed::results {

struct RunInfo {
  const models::Scenario* scenario = nullptr;
  const models::EmulationResult* result = nullptr;
  std::string broker_url;
  bool broker_embedded = false;
  std::string started_utc;
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
};

struct SloVerdict {
  nlohmann::json objectives = nlohmann::json::array();
  bool pass = true;
  bool any = false;
};

SloVerdict EvaluateSlo(const models::SloSpec& slo, const Recorder& recorder);
nlohmann::json BuildManifest(const RunInfo& info);
nlohmann::json BuildSummary(const Recorder& recorder, const RunInfo& info, const SloVerdict& slo);
std::string BuildTimeseriesCsv(const Recorder& recorder);
std::string BuildReportHtml(const nlohmann::json& summary, const nlohmann::json& manifest, const Recorder& recorder);

// The default folder name: "<UTC yyyymmddThhmmssZ>-<scenario name>".
std::string RunFolderName(const std::string& scenario_name);
// Creates `dir` (and parents) and writes the four files; returns the paths written.
Expected<std::vector<std::string>> WriteRunFolder(const std::string& dir, const nlohmann::json& manifest,
                                                  const nlohmann::json& summary, const std::string& csv,
                                                  const std::string& html);

}  // namespace citybed::results
