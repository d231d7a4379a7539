// Scenario: what a run simulates, read from a JSON file (docs/scenarios.md documents every
// field; scenarios/schema.json is the JSON Schema of the same format).
//
// LoadScenario validates everything before anything runs and reports *all* mistakes at once,
// each with the JSON pointer of the offending value: type errors, values out of range,
// unknown keys (with a "did you mean" hint) and dangling references (a link to an unknown
// node, a source in an unknown region). A Scenario that loaded is internally consistent.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "citybed/common/expected.h"
#include "citybed/sim/network.h"
#include "citybed/sim/time.h"

namespace citybed::models {

struct ScenarioError {
  std::string pointer;  // "/regions/3/population"
  std::string message;  // "must be > 0 (got -2)"
};

// An arrival process: when a source reports or a user acts.
struct ArrivalSpec {
  enum class Process { kPeriodic, kPoisson };
  Process process = Process::kPeriodic;
  sim::Duration period = sim::Duration::Seconds(10);  // periodic: mean spacing
  sim::Duration jitter;                               // periodic: each gap varies by ±jitter/2
  double rate = 0;                                    // poisson: events per second
  std::string profile;                                // diurnal profile name ("" = flat)
  double Mean() const { return process == Process::kPoisson ? 1.0 / rate : period.seconds(); }
};

struct RegionSpec {
  std::string id;
  std::string name;
  double lat = 0, lon = 0;
  double population = 0;
  double radius_km = 0;  // 0: derived from the population (3,000 inhabitants per km²)
  int stage = 0;         // rollout wave (0 = the first super cities)
};

struct AccessSpec {
  std::string node;  // the gateway this region attaches to
  std::optional<sim::Duration> latency;
  double bandwidth_bps = 1e9;
  double loss = 0;
};

struct NodeSpec {
  std::string id;
  std::optional<double> lat, lon;
};

struct LinkSpec {
  std::string from, to;
  std::optional<sim::Duration> latency;
  double bandwidth_bps = 10e9;
  double loss = 0;
};

struct NetworkSpec {
  std::vector<NodeSpec> nodes;
  std::vector<LinkSpec> links;
  std::string broker_node;
  AccessSpec default_access;
  std::map<std::string, AccessSpec> access;  // by region id
  sim::RetransmitPolicy retransmit;
};

struct SourceSpec {
  std::string kind;                  // a model of the source catalog (models/sources.h)
  std::vector<std::string> regions;  // empty: every region
  int64_t count = 0;                 // per region, or ...
  double per_10k = 0;                // ... per 10,000 inhabitants
  ArrivalSpec arrival;
};

struct RequestSpec {
  enum class Op { kGet, kQuery, kGeoQuery, kSubscribe, kCount };
  Op op = Op::kGet;
  double weight = 1;
  std::string entity_type;       // NGSI-LD type (short name) the request is about
  std::string q;                 // query / subscription filter
  double max_distance_m = 1000;  // geo-query radius
  int limit = 20;
  bool count = false;
  std::vector<std::string> watched;  // subscription watchedAttributes
};

struct UserSpec {
  std::string kind;  // label: dashboard, app, resident, analyst, ...
  std::vector<std::string> regions;
  int64_t count = 0;
  double per_10k = 0;
  ArrivalSpec arrival;  // how often each user acts (subscriptions are made once, at start)
  std::vector<RequestSpec> requests;
};

struct SloObjective {
  std::string operation;  // an operation name, "all", or "notification"
  double percentile = 99;
  sim::Duration bound;
};

struct SloSpec {
  std::vector<SloObjective> latency;
  std::optional<double> error_rate;  // max fraction of failed requests
};

struct BrokerSpec {
  std::string url = "embedded";  // or http://host:port
  std::string tenancy = "single";  // "single" or "per-region"
  std::string tenant;              // single tenancy: the NGSILD-Tenant ("" = default tenant)
  int connections = 32;
  sim::Duration timeout = sim::Duration::Seconds(10);
  int threads = 1;  // embedded broker threads
};

struct OutputSpec {
  std::string dir = "results/runs";
  sim::Duration interval = sim::Duration::Seconds(1);
  bool report = true;
};

struct GeneratorSpec {
  sim::Duration lag_bound = sim::Duration::Milliseconds(50);
  double lag_percentile = 99;
};

struct Scenario {
  std::string name;
  std::string description;
  uint64_t seed = 1;
  sim::Duration duration = sim::Duration::Seconds(60);
  sim::Duration warmup;
  double speed = 1;
  int64_t start_unix_us = 0;  // wall-clock date of simulated time 0 (observedAt values)
  double utc_offset_hours = 0;  // the zone the start date was written in: local time of day
  BrokerSpec broker;
  std::vector<RegionSpec> regions;
  NetworkSpec network;
  std::vector<SourceSpec> sources;
  std::vector<UserSpec> users;
  SloSpec slo;
  OutputSpec outputs;
  GeneratorSpec generator;

  nlohmann::json json;  // the document as read
  std::string text;     // the file's bytes (hashed into the manifest)
  std::string path;

  int RegionIndex(const std::string& id) const;
};

std::string_view OpName(RequestSpec::Op op);

// Reads and validates a scenario file.
Expected<Scenario, std::vector<ScenarioError>> LoadScenario(const std::string& path);
// Validates scenario text; `label` names it in errors.
Expected<Scenario, std::vector<ScenarioError>> ParseScenario(const std::string& text, const std::string& label);
// "FILE#/pointer: message" lines, one per error.
std::string FormatErrors(const std::string& file, const std::vector<ScenarioError>& errors);

}  // namespace citybed::models
