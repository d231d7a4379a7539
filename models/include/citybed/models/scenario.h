// Scenario: what a run simulates, read from a JSON file (docs/scenarios.md documents every
// field; scenarios/schema/scenario.schema.json is the JSON Schema of the same format).
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

// Recurring bursts: for `length` out of every `every` (starting at `offset`), the rate is
// multiplied by `factor` (e.g. a shop's lunchtime rush, a sensor's hourly upload).
struct BurstSpec {
  sim::Duration every;
  sim::Duration length;
  sim::Duration offset;
  double factor = 1;
  bool Active(int64_t t_ns) const {
    if (every.ns() <= 0) return false;
    const int64_t phase = ((t_ns - offset.ns()) % every.ns() + every.ns()) % every.ns();
    return phase < length.ns();
  }
};

// An arrival process: when a source reports or a user acts.
struct ArrivalSpec {
  enum class Process { kPeriodic, kPoisson };
  Process process = Process::kPeriodic;
  sim::Duration period = sim::Duration::Seconds(10);  // periodic: mean spacing
  sim::Duration jitter;                               // periodic: each gap varies by ±jitter/2
  double rate = 0;                                    // poisson: events per second
  std::string profile;                                // diurnal profile name ("" = flat)
  BurstSpec burst;                                    // factor 1: none
  double Mean() const { return process == Process::kPoisson ? 1.0 / rate : period.seconds(); }
};

// The API a region's platform speaks (broker.api, a region's api).
enum class BrokerApi { kNgsiLd, kNgsiV2 };
std::string_view ApiName(BrokerApi api);
// How NGSI-v2 sources write (broker.v2_writes): POST /v2/op/update, or POST /v2/entities?options=upsert.
enum class V2Writes { kOpUpdate, kEntities };
// How regions are spread over broker instances (broker.placement): by region index, or in
// groups of about equal demand (placement.h).
enum class Placement { kRoundRobin, kBalanced };
std::string_view PlacementName(Placement p);

struct RegionSpec {
  std::string id;
  std::string name;
  double lat = 0, lon = 0;
  double population = 0;
  double radius_km = 0;  // 0: derived from the population (3,000 inhabitants per km²)
  int stage = 0;         // rollout wave (0 = the first super cities)
  std::optional<BrokerApi> api;  // unset: the broker's (BrokerSpec::api)
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
  std::string name;              // for statistics per named request ("" : none)
  double weight = 1;
  std::string entity_type;       // NGSI-LD type (short name) the request is about
  std::string q;                 // query / subscription filter
  double max_distance_m = 1000;  // geo-query radius
  int limit = 20;
  int pages = 1;                 // query: pages read one after the other (offset += limit)
  bool count = false;
  bool cross_region = false;     // about a region chosen by the gravity model (its own included)...
  bool other_region = false;     // ... never its own ("cross_region": "other")
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

// A timed perturbation (ETSI-style "event"): heavy rain or an earthquake in some regions. While
// it lasts, the rates of sources in the affected domains are multiplied, the sources see it in
// their state (rivers rise, alerts are issued), and a flash crowd of users appears.
struct CrowdSpec {
  double per_10k = 0;  // users per 10,000 inhabitants of each affected region
  sim::Duration ramp = sim::Duration::Minutes(10);  // they join over this time
  sim::Duration decay = sim::Duration::Hours(1);    // their activity decays with this time constant
  double rate = 0.02;  // actions per second per user at first
  std::vector<RequestSpec> requests;
};

struct EventSpec {
  std::string kind;             // "heavy-rain" or "earthquake"
  sim::Duration at;             // offset from the start
  sim::Duration ramp;           // intensity rises linearly over this
  sim::Duration duration;       // then holds for this
  sim::Duration decay = sim::Duration::Minutes(30);  // then decays with this time constant
  double intensity = 1;         // 0..1
  std::vector<std::string> regions;
  std::map<std::string, double> rate_factors;  // by domain: rates are multiplied up to this
  CrowdSpec crowd;
  // Intensity at offset t from the start, 0 outside the event.
  double IntensityAt(int64_t t_ns) const;
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
  BrokerApi api = BrokerApi::kNgsiLd;  // what regions speak unless they say otherwise
  V2Writes v2_writes = V2Writes::kOpUpdate;
  // The environment variable holding the access key the driver sends (Authorization: Bearer)
  // to a broker that needs one; "" : none.
  std::string token_env;
  // Broker instances the regions are spread over (docs/capacity.md, "Many instances"): `instances`
  // embedded brokers citybed starts, or the brokers at `urls` (then instances = their number).
  // A request goes to the instance of the region it is about.
  int instances = 1;
  std::vector<std::string> urls;
  Placement placement = Placement::kRoundRobin;
};

// Federation (docs/federation.md): instead of one broker for every region, an embedded broker
// per region (or per block: the regions attached to one backbone hub), linked by context
// source registrations in a topology, so that a user's request about another region is a
// distributed operation.
struct FederationSpec {
  enum class Brokers { kPerRegion, kPerBlock };
  enum class Topology { kNone, kStar, kHierarchy, kMesh };
  Brokers brokers = Brokers::kPerRegion;
  // none: a user asks the broker of the region it is about, directly; star: a national hub
  // holds a registration of every broker and users ask it; hierarchy: the hub registers one
  // broker per block, which registers its regions' brokers; mesh: each broker registers its
  // `neighbours` nearest, and users ask their home broker.
  Topology topology = Topology::kStar;
  int neighbours = 3;
  sim::Duration timeout = sim::Duration::Seconds(3);   // per forwarded request (management.timeout)
  sim::Duration cooldown = sim::Duration::Seconds(5);  // after a failed one (management.cooldown)
  // Broker-to-broker requests go through citybed's relay, which delays them by the backbone's
  // path between the brokers' sites; false: they go straight over loopback.
  bool relay = true;
  // Sites served by brokers citybed does not start (a city's own platform): by site name
  // ("region-<id>", "block-<hub>", "national"), the URL its users and the other brokers use,
  // and the NGSI-LD URL other brokers register and forward to (ld_url: an adapter in front of
  // an NGSI-v2 broker; the same URL for an NGSI-LD one).
  struct External {
    std::string url, ld_url;
  };
  std::map<std::string, External> external;
};
std::string_view ToString(FederationSpec::Topology t);

// A fault of a region's broker (federation only): from `at` for `duration`, requests that reach
// the broker — its own users' and those forwarded from other brokers — are refused, vanish
// (black hole: no answer until the requester's timeout), wait `delay` longer, get 503, or
// (flap) are refused and served in turns of `period`.
struct FaultSpec {
  enum class Mode { kRefuse, kBlackhole, kSlow, kError, kFlap };
  Mode mode = Mode::kRefuse;
  sim::Duration at;
  sim::Duration duration = sim::Duration::Minutes(5);
  sim::Duration delay = sim::Duration::Seconds(2);    // slow
  sim::Duration period = sim::Duration::Seconds(30);  // flap: refused for a period, then served for one
  std::vector<std::string> regions;
  // The mode in force at `t` (kSlow/kError/...); nothing when the broker is healthy then.
  std::optional<Mode> At(sim::Time t) const;
};
std::string_view ToString(FaultSpec::Mode m);

struct OutputSpec {
  std::string dir = "results/runs";
  sim::Duration interval = sim::Duration::Seconds(1);
  bool report = true;
};

// When a run counts as a measurement of the broker: the executor's lag at `lag_percentile`
// must not exceed `lag_bound`. Without an explicit bound the rule is relative to what is
// measured: max(1 ms, 5 % of the tightest latency SLO), or without latency SLOs max(1 ms, 5 %
// of the measured p99 latency of all requests) (results/summary.h, docs/results.md).
struct GeneratorSpec {
  std::optional<sim::Duration> lag_bound;
  double lag_percentile = 99;
};

// How regions are generated instead of listed (regions: {"generate": {...}}).
struct RegionGenerator {
  int count = 100;
  double median_population = 120000;
  double sigma = 1.1;           // of the log-normal
  double min_population = 3000;
  double max_population = 14000000;
  std::string csv;              // read regions from this CSV instead (id,name,lat,lon,population[,stage])
  std::vector<int> waves;       // sizes of the rollout waves, largest regions first
  int live_waves = 0;           // regions of the first live_waves waves run (0: all)
};

// How the backbone is generated (network: {"generate": {...}}).
struct BackboneGenerator {
  std::vector<std::string> hubs;  // data-centre cities; regions attach to the nearest
  std::string broker_hub = "tokyo";
  std::string core = "mesh";      // "mesh" (every hub pair) or "ring"
  double core_bandwidth_bps = 100e9;
  double region_bandwidth_bps = 10e9;
  double loss = 0;
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
  std::optional<FederationSpec> federation;  // unset: one broker serves every region
  std::vector<RegionSpec> regions;  // as listed, or as generated
  std::optional<RegionGenerator> region_generator;
  NetworkSpec network;
  std::optional<BackboneGenerator> backbone;
  std::vector<EventSpec> events;
  std::vector<FaultSpec> faults;
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

// Known data-centre cities for backbone hubs, and the anchors regions are placed around.
struct City {
  std::string_view id, name;
  double lat, lon;
};
const std::vector<City>& JapaneseCities();

// Reads and validates a scenario file.
Expected<Scenario, std::vector<ScenarioError>> LoadScenario(const std::string& path);
// Validates scenario text; `label` names it in errors.
Expected<Scenario, std::vector<ScenarioError>> ParseScenario(const std::string& text, const std::string& label);
// "FILE#/pointer: message" lines, one per error.
std::string FormatErrors(const std::string& file, const std::vector<ScenarioError>& errors);

}  // namespace citybed::models
