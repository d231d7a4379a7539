// citybed capacity: the highest multiple of a scenario's demand at which every SLO holds and the
// system is stable (λ*), for one or more broker instances; the resource that binds there; what
// that means for a rollout (docs/capacity.md#planning-a-rollout).
//
// The load axis is the scenario's speed: at multiplier m the same workload (same seed, same
// requests) reaches the broker m times as fast. Each probe is a child `citybed run` into
// <out>/<mode>-k<K>/x<m>/rep-<r> (resumable: a replication with a summary is read, not rerun),
// replications under common random numbers (replication r has the same seed at every load).
// Model mode first (a calibration, made here when --model is not given); then, for one
// instance, emulation against a fresh embedded broker per replication in its own process on
// CPU 0, bracketed around the model's answer. The statistics are results/capacity.h.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "citybed/common/file.h"
#include "citybed/common/op_class.h"
#include "citybed/common/sha256.h"
#include "citybed/common/strings.h"
#include "citybed/common/units.h"
#include "citybed/common/version.h"
#include "citybed/models/calibration.h"
#include "citybed/models/scenario.h"
#include "citybed/models/world.h"
#include "citybed/results/capacity.h"
#include "citybed/results/replications.h"
#include "citybed/results/run_output.h"
#include "citybed/sim/stats.h"
#include "capacity_plan.h"
#include "child_broker.h"
#include "commands.h"
#include "exit_codes.h"
#include "model_support.h"
#include "spawn.h"

namespace citybed::app {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string MultiplierText(double m) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", m);
  return b;
}

// Runs the probes of one search (one mode, one instance count).
class Prober {
 public:
  Prober(const std::string& scenario, const std::string& calibration, int instances, bool emulation, uint64_t base_seed,
         int threads, const std::string& dir)
      : scenario_(scenario), calibration_(calibration), instances_(instances), emulation_(emulation),
        base_seed_(base_seed), threads_(threads), dir_(dir) {}

  struct Load {
    double m = 0;
    std::string phase;
    results::LoadJudgement judgement;
    std::vector<results::ProbeRun> runs;
    size_t tried = 0;
    double seconds = 0;
  };

  Load Probe(double m, const std::string& phase, size_t min_reps, size_t max_reps) {
    const auto t0 = std::chrono::steady_clock::now();
    Load l;
    l.m = m;
    l.phase = phase;
    // Replications are added in batches of two whatever the machine, so that a search replays the
    // same on any machine (and when resumed); model-mode batches run in parallel.
    const int parallel = 2;
    for (;;) {
      l.judgement = results::JudgeLoad(l.runs, min_reps, max_reps, l.tried);
      if (l.judgement.verdict != results::Verdict::kMore) break;
      size_t n = l.judgement.valid < min_reps ? min_reps - l.judgement.valid : static_cast<size_t>(parallel);
      n = std::min(n, max_reps - l.tried);
      if (n == 0) break;
      for (results::ProbeRun& r : Run(m, l.tried, l.tried + n)) l.runs.push_back(std::move(r));
      l.tried += n;
    }
    l.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return l;
  }

  std::string LoadDir(double m) const { return dir_ + "/x" + MultiplierText(m); }
  uint64_t Seed(size_t r) const { return results::ReplicationSeed(base_seed_, r); }

 private:
  std::vector<std::string> RunArgs(double m, size_t r, const std::string& out) const {
    std::vector<std::string> a = {"run", scenario_, "--speed", MultiplierText(m), "--seed", std::to_string(Seed(r)),
                                  "--out", out, "--quiet", "--force", "--log-level", "error"};
    a.insert(a.end(), {"--instances", std::to_string(instances_)});
    if (!emulation_) a.insert(a.end(), {"--model", calibration_});
    return a;
  }

  // Replications [from, to) at load m: read from their folders when done before, else run.
  std::vector<results::ProbeRun> Run(double m, size_t from, size_t to) {
    const std::string load = LoadDir(m);
    fs::create_directories(load);
    std::vector<results::ProbeRun> out;
    std::vector<size_t> missing;
    for (size_t r = from; r < to; ++r) {
      if (!fs::exists(load + "/rep-" + std::to_string(r) + "/summary.json")) missing.push_back(r);
    }
    if (!emulation_) {
      std::vector<ChildJob> jobs;
      for (size_t r : missing) {
        const std::string rep = load + "/rep-" + std::to_string(r);
        jobs.push_back({RunArgs(m, r, rep), rep + ".log"});
      }
      RunChildren(jobs, static_cast<int>(std::thread::hardware_concurrency()));
    } else {
      for (size_t r : missing) RunEmulated(m, r, load + "/rep-" + std::to_string(r));
    }
    for (size_t r = from; r < to; ++r) out.push_back(Read(load + "/rep-" + std::to_string(r), static_cast<int>(r)));
    return out;
  }

  // One emulated replication: K fresh brokers, instance i on CPU i when the machine has a CPU
  // for each and one more (this process and the run on the others), else unpinned; their CPU
  // seconds read before and after.
  void RunEmulated(double m, size_t r, const std::string& rep) {
    const int cpus = static_cast<int>(std::thread::hardware_concurrency());
    const bool pinned = cpus > instances_;
    std::vector<std::unique_ptr<ChildBroker>> brokers;
    std::string urls;
    for (int i = 0; i < instances_; ++i) {
      auto broker = ChildBroker::Start(threads_, pinned ? i : -1, pinned ? instances_ : 0);
      if (!broker) {
        std::fprintf(stderr, "citybed capacity: %s\n", broker.error().message.c_str());
        return;
      }
      urls += (urls.empty() ? "" : ",") + (*broker)->url();
      brokers.push_back(std::move(*broker));
    }
    auto cpu = [&] {
      std::vector<double> each;
      for (const auto& b : brokers) each.push_back(BrokerCpuSeconds(b->url()));
      return each;
    };
    const std::vector<double> cpu0 = cpu();
    std::vector<std::string> args = RunArgs(m, r, rep);
    args.insert(args.end(), {"--broker", urls});
    RunChildren({{args, rep + ".log"}}, 1);
    const std::vector<double> cpu1 = cpu();
    double sum = 0, busiest = 0;
    bool known = true;
    for (size_t i = 0; i < brokers.size(); ++i) {
      known = known && cpu0[i] >= 0 && cpu1[i] >= cpu0[i];
      sum += cpu1[i] - cpu0[i];
      busiest = std::max(busiest, cpu1[i] - cpu0[i]);
    }
    if (known) {
      // Without it the probe's utilisation is unknown, nothing more. The busiest instance's CPU
      // is what saturates first.
      (void)WriteFileAtomic(rep + "/broker_cpu.json", json{{"cpu_seconds", sum}, {"busiest_instance_cpu_seconds", busiest},
                                                          {"instances", instances_}}.dump() + "\n");
    }
  }

  results::ProbeRun Read(const std::string& rep, int r) const {
    results::ProbeRun p;
    auto text = ReadFile(rep + "/summary.json");
    json s = text ? json::parse(*text, nullptr, false) : json();
    if (!text || s.is_discarded()) {
      p.replication = r;
      p.invalid.push_back("no summary (see " + rep + ".log)");
      return p;
    }
    double util = -1;
    if (auto cpu = ReadFile(rep + "/broker_cpu.json")) {
      // The broker's CPU over the run's own clock (warm-up included) in broker seconds.
      const json c = json::parse(*cpu, nullptr, false);
      const double wall = s["window"].value("to_s", 0.0) / std::max(1e-9, s["window"].value("speed", 1.0));
      // K instances: the busiest one's utilisation (the one that saturates first).
      if (!c.is_discarded() && wall > 0) util = c.value("busiest_instance_cpu_seconds", c.value("cpu_seconds", 0.0)) / wall;
    }
    auto csv = ReadFile(rep + "/timeseries.csv");
    p = results::ReadProbeRun(s, csv ? *csv : std::string(), util);
    p.replication = r;
    return p;
  }

  std::string scenario_, calibration_;
  int instances_;
  bool emulation_;
  uint64_t base_seed_;
  int threads_;
  std::string dir_;
};

// Mean of a field over the valid runs.
template <typename F>
double MeanOf(const std::vector<results::ProbeRun>& runs, F f) {
  double sum = 0;
  int n = 0;
  for (const auto& r : runs) {
    if (r.valid) sum += f(r), ++n;
  }
  return n ? sum / n : 0;
}

json LoadJson(const Prober::Load& l) {
  json j;
  j["multiplier"] = l.m;
  j["phase"] = l.phase;
  j["verdict"] = results::VerdictName(l.judgement.verdict);
  j["reason"] = l.judgement.reason;
  j["binding"] = l.judgement.binding;
  j["replications"] = l.tried;
  j["valid"] = l.judgement.valid;
  j["unstable"] = l.judgement.unstable;
  j["seconds"] = l.seconds;
  j["offered_rps"] = MeanOf(l.runs, [](const auto& r) { return r.offered_rps; });
  j["ok_rps"] = MeanOf(l.runs, [](const auto& r) { return r.ok_rps; });
  j["error_rate"] = MeanOf(l.runs, [](const auto& r) { return r.error_rate; });
  {
    double sum = 0;
    int n = 0;
    for (const auto& r : l.runs) {
      if (r.valid && r.broker_utilisation >= 0) sum += r.broker_utilisation, ++n;
    }
    j["broker_utilisation"] = n ? json(sum / n) : json(nullptr);
  }
  j["connection_wait_p99_ms"] = MeanOf(l.runs, [](const auto& r) { return r.connection_wait_p99_ms; });
  j["flow_balance"] = MeanOf(l.runs, [](const auto& r) { return r.flow_balance; });
  j["outstanding_mean_last_third"] = MeanOf(l.runs, [](const auto& r) { return r.outstanding_last; });
  json objectives = json::array();
  for (const auto& o : l.judgement.objectives) {
    objectives.push_back({{"objective", o.name}, {"bound", o.bound}, {"n", o.n},
                          {"mean", o.n ? json(o.mean) : json(nullptr)},
                          {"ci95", o.n > 1 && std::isfinite(o.half_width) ? json(o.half_width) : json(nullptr)}});
  }
  j["objectives"] = objectives;
  json latency = json::object();
  for (const auto& r : l.runs) {
    if (!r.valid) continue;
    for (const auto& [op, v] : r.latency.items()) {
      for (const char* k : {"p50", "p99", "p999", "max"}) latency[op][k].push_back(v.value(k, 0.0));
    }
  }
  for (auto& [op, v] : latency.items()) {
    for (auto& [k, values] : v.items()) {
      std::vector<double> xs = values.get<std::vector<double>>();
      const auto ci = sim::MeanConfidenceInterval(xs);
      values = {{"mean", ci.mean}, {"ci95", xs.size() > 1 ? json(ci.half_width) : json(nullptr)}};
    }
  }
  j["latency_ms"] = latency;
  json invalid = json::array();
  for (const auto& r : l.runs) {
    if (!r.valid) invalid.push_back({{"replication", r.replication}, {"why", r.invalid}});
    else if (!r.stable) invalid.push_back({{"replication", r.replication}, {"unstable", r.unstable_reason}});
  }
  if (!invalid.empty()) j["notes"] = invalid;
  return j;
}

// One search: model or emulation, K instances.
json Search(const CapacityOptions& o, Prober& prober, double estimate, const std::string& label, double step, double precision,
            size_t min_reps, size_t max_reps, double floor = 1e-3) {
  const auto t0 = std::chrono::steady_clock::now();
  results::CapacitySearch search(estimate, step, precision, floor);
  std::vector<Prober::Load> loads;
  double spent = 0;
  int n = 0;
  while (auto m = search.Next()) {
    Prober::Load l = prober.Probe(*m, search.phase(), min_reps, max_reps);
    const bool pass = l.judgement.verdict == results::Verdict::kPass;
    search.Record(*m, pass);
    spent += l.seconds;
    ++n;
    if (!o.quiet) {
      const double offered = MeanOf(l.runs, [](const auto& r) { return r.offered_rps; });
      const double eta = spent / n * search.RemainingEstimate();
      std::string binding;
      for (const auto& ob : l.judgement.objectives) {
        if (ob.name == l.judgement.binding && ob.n) {
          char b[160];
          std::snprintf(b, sizeof b, "; %s: %.3g ± %.2g", ob.name.c_str(), ob.mean, std::isfinite(ob.half_width) ? ob.half_width : 0.0);
          binding = b;
        }
      }
      std::fprintf(stderr, "  %s probe %d (%s): ×%s, %.0f req/s offered, %zu rep%s → %s%s  [%.0f s; ETA %.0f s]\n",
                   label.c_str(), n, l.phase.c_str(), MultiplierText(*m).c_str(), offered, l.tried, l.tried == 1 ? "" : "s",
                   results::VerdictName(l.judgement.verdict), binding.c_str(), spent, eta);
    }
    loads.push_back(std::move(l));
  }
  json j;
  j["found"] = search.found();
  j["confirmed"] = search.confirmed();
  j["note"] = search.note();
  const double lambda = search.lambda(), fail = search.first_fail();
  auto at = [&](double m) -> const Prober::Load* {
    for (const auto& l : loads) {
      if (l.m == m) return &l;
    }
    return nullptr;
  };
  const Prober::Load* best = at(lambda);
  const Prober::Load* first_fail = at(fail);
  j["lambda"] = {{"multiplier", lambda}, {"first_fail_multiplier", fail},
                 {"offered_rps", best ? MeanOf(best->runs, [](const auto& r) { return r.offered_rps; }) : 0.0},
                 {"first_fail_offered_rps", first_fail ? MeanOf(first_fail->runs, [](const auto& r) { return r.offered_rps; }) : 0.0}};
  if (first_fail && first_fail->judgement.verdict == results::Verdict::kInvalid) {
    j["binding_resource"] = {{"resource", "load generator"}, {"at_multiplier", fail},
                             {"why", "the probes at the first failing load were invalid (" + first_fail->judgement.reason +
                                         "): citybed could not drive that load, so λ* is a lower bound"}};
  } else if (first_fail) {
    j["binding_resource"] = results::BindingResource(first_fail->runs, first_fail->judgement.binding);
    j["binding_resource"]["at_multiplier"] = fail;
  }
  // Objectives no probe of this search could judge (too few samples at every load).
  std::map<std::string, size_t> judged;
  for (const auto& l : loads) {
    for (const auto& ob : l.judgement.objectives) judged[ob.name] += ob.n;
  }
  json unjudged = json::array();
  for (const auto& [name, n] : judged) {
    if (n == 0) unjudged.push_back(name);
  }
  j["unjudged_objectives"] = unjudged;
  // The saturation throughput (beyond the knee) and the spectra at 50 and 80 % of λ*.
  json extra = json::array();
  if (lambda > 0) {
    for (double share : {0.5, 0.8}) {
      Prober::Load l = prober.Probe(share * lambda, "spectrum", 1, 1);
      json lj = LoadJson(l);
      lj["share_of_lambda"] = share;
      lj["verdict"] = "measured";
      lj["reason"] = "one replication for the latency spectrum, not judged";
      extra.push_back(lj);
    }
  }
  if (fail > 0) {
    Prober::Load l = prober.Probe(2 * fail, "saturation", 1, 1);
    const double ok = MeanOf(l.runs, [](const auto& r) { return r.ok_rps; });
    double best_ok = ok;
    for (const auto& x : loads) best_ok = std::max(best_ok, MeanOf(x.runs, [](const auto& r) { return r.ok_rps; }));
    j["saturation"] = {{"multiplier", 2 * fail}, {"ok_rps", best_ok},
                       {"note", "the most 2xx answers per broker second measured by any probe of this search, "
                                "including one at twice the first failing load"}};
    json lj = LoadJson(l);
    lj["verdict"] = "measured";
    lj["reason"] = "one replication for the saturation throughput, not judged";
    extra.push_back(lj);
  }
  json probes = json::array();
  for (const auto& l : loads) probes.push_back(LoadJson(l));
  for (auto& e : extra) probes.push_back(e);
  j["probes"] = probes;
  if (best) {
    // Stationarity of the λ* probe: its first valid replication's time series.
    for (const auto& r : best->runs) {
      if (!r.valid) continue;
      json series = json::array();
      for (const auto& row : r.series) series.push_back({row[0], row[1], row[2]});
      j["stationarity"] = {{"replication", r.replication}, {"series", series}, {"columns", {"wall_s", "ok_per_s", "p99_ms"}},
                           {"intervals", r.intervals}, {"mser5_cut_intervals", r.mser_cut},
                           {"outstanding_slope_per_s", r.outstanding_slope}, {"outstanding_t", r.outstanding_t},
                           {"flow_balance", r.flow_balance}};
      break;
    }
  }
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return j;
}

}  // namespace

int Capacity(const CapacityOptions& o) {
  auto instances = ParseInstanceList(o.instances);
  if (!instances) {
    std::fprintf(stderr, "citybed capacity: --instances: %s\n", instances.error().message.c_str());
    return kExitUsage;
  }
  if (instances->front() != 1) instances->insert(instances->begin(), 1);  // the per-instance figures rest on K = 1
  std::vector<int> emulation_ks = *instances;
  if (!o.emulation_instances.empty()) {
    auto e = ParseInstanceList(o.emulation_instances);
    if (!e) {
      std::fprintf(stderr, "citybed capacity: --emulation-instances: %s\n", e.error().message.c_str());
      return kExitUsage;
    }
    for (int k : *e) {
      if (std::find(instances->begin(), instances->end(), k) == instances->end()) {
        std::fprintf(stderr, "citybed capacity: --emulation-instances names %d, which --instances does not search\n", k);
        return kExitUsage;
      }
    }
    emulation_ks = *e;
  }
  if (o.min_reps > o.max_reps) {
    std::fprintf(stderr, "citybed capacity: --min-replications (%d) is above --max-replications (%d)\n", o.min_reps, o.max_reps);
    return kExitUsage;
  }
  auto original = models::LoadScenario(o.file);
  if (!original) {
    std::fputs(models::FormatErrors(o.file, original.error()).c_str(), stderr);
    return kExitUsage;
  }
  if (original->federation) {
    std::fprintf(stderr, "citybed capacity: %s federates brokers; capacity searches one broker (or --instances of it)\n",
                 o.file.c_str());
    return kExitUsage;
  }
  const std::string out = o.out.empty() ? original->outputs.dir + "/capacity-" + results::RunFolderName(original->name) : o.out;
  // The probes' scenario: the file with the SLO set, the output interval and no per-probe report.
  json settled;
  auto derived = DeriveProbeScenario(o, *original, settled);
  if (!derived) {
    std::fprintf(stderr, "citybed capacity: %s\n", derived.error().message.c_str());
    return kExitUsage;
  }
  const std::string derived_text = derived->dump(2) + "\n";
  auto checked = models::ParseScenario(derived_text, out + "/scenario.json");
  if (!checked) {
    std::fputs(models::FormatErrors(out + "/scenario.json", checked.error()).c_str(), stderr);
    return kExitUsage;
  }
  if (auto ok = PrepareCapacityFolder(out, o, Sha256Hex(derived_text)); !ok) {
    std::fprintf(stderr, "citybed capacity: %s\n", ok.error().message.c_str());
    return ok.error().code == ErrorCode::kAlreadyExists ? kExitUsage : kExitRuntimeError;
  }
  const std::string scenario_path = out + "/scenario.json";
  if (auto ok = WriteFileAtomic(scenario_path, derived_text); !ok) {
    std::fprintf(stderr, "citybed capacity: %s\n", ok.error().message.c_str());
    return kExitRuntimeError;
  }
  const auto started = std::chrono::steady_clock::now();
  const std::string started_utc = UtcNowRfc3339();
  const uint64_t seed = o.seed >= 0 ? static_cast<uint64_t>(o.seed) : checked->seed;
  // The calibration: given, or made here on this scenario's workload.
  std::string calibration_path = o.model;
  if (calibration_path.empty()) {
    calibration_path = out + "/calibration.json";
    if (!fs::exists(calibration_path)) {
      if (!o.quiet) std::fprintf(stderr, "citybed capacity: calibrating the embedded broker on this workload (about a minute)\n");
      const auto codes = RunChildren({{{"calibrate", "--scenario", scenario_path, "--out", calibration_path, "--force",
                                        "--threads", std::to_string(checked->broker.threads)},
                                       out + "/calibration.log"}},
                                     1);
      if (codes[0] != kExitOk) {
        std::fprintf(stderr, "citybed capacity: the calibration failed (exit %d; see %s/calibration.log)\n", codes[0], out.c_str());
        return kExitRuntimeError;
      }
    }
  }
  auto calibration = models::Calibration::Load(calibration_path);
  if (!calibration) {
    std::fprintf(stderr, "citybed capacity: --model: %s\n", calibration.error().message.c_str());
    return kExitUsage;
  }
  auto demand = MeasureDemand(o, *derived, *checked);
  if (!demand) {
    std::fprintf(stderr, "citybed capacity: %s\n", demand.error().message.c_str());
    return kExitUsage;
  }
  const double reference = (*demand)["reference_rps"].get<double>();
  if (reference <= 0) {
    std::fprintf(stderr, "citybed capacity: %s offers no requests\n", o.file.c_str());
    return kExitUsage;
  }
  if (!o.quiet) {
    std::fprintf(stderr, "citybed capacity: %s — demand %.1f req/s (mean over its window at speed 1), calibration %s "
                 "(%.0f req/s capacity, %s); results in %s\n",
                 checked->name.c_str(), reference, calibration_path.c_str(), calibration->Capacity(),
                 calibration->Standing().c_str(), out.c_str());
  }
  json searches = json::array();
  for (int k : *instances) {
    Prober prober(scenario_path, calibration_path, k, false, seed, checked->broker.threads,
                  out + "/model-k" + std::to_string(k));
    const double estimate = 0.8 * k * calibration->Capacity() / reference;
    json s = Search(o, prober, estimate, "model K=" + std::to_string(k), 1.25, o.precision, static_cast<size_t>(o.min_reps),
                    static_cast<size_t>(o.max_reps));
    s["mode"] = "model";
    s["instances"] = k;
    s["projection"] = k > 1;
    searches.push_back(s);
  }
  // Emulation around the model's answer, for each K this machine can emulate — a CPU for each
  // broker instance and one more for citybed — or the Ks --emulation-instances names.
  const int cpus = static_cast<int>(std::thread::hardware_concurrency());
  std::vector<int> emulated;
  json skipped = json::array();
  for (int k : emulation_ks) {
    if (!o.emulation_instances.empty() || cpus > k || k == 1) emulated.push_back(k);
    else skipped.push_back({{"instances", k}, {"why", "emulating " + std::to_string(k) + " instances needs " +
                                                       std::to_string(k + 1) + " CPUs (one per broker, one for citybed); this "
                                                       "machine has " + std::to_string(cpus) + ": the model's figure stands alone, a projection"}});
  }
  std::vector<json> emulations;
  for (int k : o.no_emulation ? std::vector<int>{} : emulated) {
    const json* model_k = nullptr;
    for (const json& s : searches) {
      if (s["instances"] == k) model_k = &s;
    }
    if (!model_k || (*model_k)["lambda"]["multiplier"].get<double>() <= 0) continue;
    const double from = (*model_k)["lambda"]["multiplier"].get<double>();
    Prober prober(scenario_path, calibration_path, k, true, seed, checked->broker.threads, out + "/emulation-k" + std::to_string(k));
    json e = Search(o, prober, from, "emulation K=" + std::to_string(k), 1.1, std::max(0.03, o.precision),
                    static_cast<size_t>(o.min_reps), static_cast<size_t>(std::max(o.min_reps, std::min(o.max_reps, 5))), from / 10);
    e["mode"] = "emulation";
    e["instances"] = k;
    e["projection"] = false;
    e["pinning"] = cpus > k ? (k == 1 ? std::string("broker: a fresh child process per replication on CPU 0; citybed on the other CPUs")
                                      : "brokers: " + std::to_string(k) + " fresh child processes per replication, instance i on CPU i; "
                                        "citybed on CPUs " + std::to_string(k) + " and up")
                            : "none: " + std::to_string(k) + " broker processes and citybed share " + std::to_string(cpus) + " CPUs";
    emulations.push_back(std::move(e));
  }
  json report;
  report["schema"] = results::kCapacitySchema;
  report["scenario"] = {{"file", o.file}, {"name", checked->name}, {"probe_scenario", "scenario.json"},
                        {"probe_scenario_sha256", Sha256Hex(derived_text)}};
  if (auto text = ReadFile(o.file)) report["scenario"]["sha256"] = Sha256Hex(*text);
  report["calibration"] = {{"file", calibration_path}, {"sha256", calibration->sha256}, {"standing", calibration->Standing()},
                           {"capacity_rps", calibration->Capacity()}, {"threads", calibration->threads}};
  // The service demand per class (what one request costs the broker, measured at low load).
  json classes = json::object();
  for (size_t k = 0; k < kOpClasses; ++k) {
    const auto& c = calibration->classes[k];
    if (!c) continue;
    classes[std::string(OpClassName(static_cast<OpClass>(k)))] = {
        {"share", c->share}, {"service_ms", 1000 * c->service.Mean()}, {"cpu_ms", 1000 * c->cpu_mean_s}};
  }
  report["calibration"]["classes"] = classes;
  report["slo"] = (*derived).value("slo", json::object());
  report["demand"] = *demand;
  report["searches"] = searches;
  // A model search of K > 1 instances is a projection unless an emulation of K stands beside it.
  for (json& s : searches) {
    bool measured = false;
    for (const json& e : emulations) measured = measured || e["instances"] == s["instances"];
    s["projection"] = s["instances"].get<int>() > 1 && !measured;
  }
  for (json& e : emulations) searches.push_back(std::move(e));
  report["searches"] = searches;
  if (!skipped.empty()) report["emulation_skipped"] = skipped;
  report["settings"] = {{"precision", o.precision},   {"step_model", 1.25},         {"step_emulation", 1.1},
                        {"min_replications", o.min_reps}, {"max_replications", o.max_reps}, {"seed", seed},
                        {"headroom", o.headroom},     {"planned", o.planned},       {"target_utilisation", o.target},
                        {"rollout_regions", o.rollout_regions}, {"settling", settled}};
  const int code = Conclude(o, report);
  report["manifest"] = {{"citybed", {{"version", std::string(Version())}, {"commit", std::string(GitCommit())}}},
                        {"command_line", o.command_line}, {"started_utc", started_utc}, {"finished_utc", UtcNowRfc3339()},
                        {"seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()},
                        {"machine", results::MachineDescription()},
                        {"replication_seeds", {results::ReplicationSeed(seed, 0), results::ReplicationSeed(seed, 1),
                                               results::ReplicationSeed(seed, 2), "…: results::ReplicationSeed(seed, r)"}}};
  if (auto ok = WriteCapacityFiles(out, report); !ok) {
    std::fprintf(stderr, "citybed capacity: %s\n", ok.error().message.c_str());
    return kExitRuntimeError;
  }
  PrintConclusion(report, out);
  return code;
}

void RegisterCapacity(CLI::App& app, Action& action, const std::string& command_line) {
  auto o = std::make_shared<CapacityOptions>();
  o->command_line = command_line;
  CLI::App* cmd = app.add_subcommand(
      "capacity", "Find the load at which the SLOs break, name the binding resource, size the rollout (docs/capacity.md)");
  cmd->add_option("file", o->file, "Scenario file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--model", o->model, "Calibration file (default: calibrate the embedded broker on this scenario first)");
  cmd->add_option("--instances", o->instances,
                  "Broker instances: 1, 1..4 or 1,2,4; the model searches each, emulation those this machine has a CPU for "
                  "per instance plus one (more in the model alone are projections)")
      ->capture_default_str();
  cmd->add_option("--emulation-instances", o->emulation_instances,
                  "The instance counts to emulate (default: those the machine has CPUs for); emulating more instances than "
                  "the machine has spare CPUs shares them and says so");
  cmd->add_option("--slo", o->slo,
                  "Replace the scenario's SLOs: OP:pNN=DURATION (upsert:p99=100ms, notification:p99=1s) or "
                  "error-rate=FRACTION|PERCENT%; repeatable");
  cmd->add_option("--duration", o->duration, "The probes' window of simulated time (default: the scenario's duration)");
  cmd->add_option("--settle", o->settle,
                  "Warm-up that fills the broker before the window: auto (99 % of the sources have reported once), none, "
                  "or a duration")
      ->capture_default_str();
  cmd->add_option("--connections", o->connections,
                  "The client's connections to each broker in the probes (default: the scenario's broker.connections)")
      ->check(Between(1, 100000));
  cmd->add_option("--seed", o->seed, "Base seed (default: the scenario's); replication r uses its named stream");
  cmd->add_option("--headroom", o->headroom, "Headroom the planned load needs below λ* (0.3: λ* ≥ 1.3 × planned)")
      ->check(Between(0, 100))
      ->capture_default_str();
  cmd->add_option("--planned", o->planned, "The planned load as a multiple of the scenario's day peak")
      ->check(Positive())
      ->capture_default_str();
  cmd->add_option("--target-utilisation", o->target, "Share of λ* an instance is planned to carry")
      ->check(Between(0.05, 1))
      ->capture_default_str();
  cmd->add_option("--rollout-regions", o->rollout_regions, "Regions of the rollout, in units of the scenario's regions")
      ->check(Between(1, 100000))
      ->capture_default_str();
  cmd->add_option("--disaster", o->disaster,
                  "Scenario whose events make the disaster day (default: the scenario's own events, else disaster-day.json "
                  "beside it; \"none\")");
  cmd->add_option("--precision", o->precision, "Bisect until first failure / last success ≤ 1 + this")
      ->check(Between(0.001, 0.5))
      ->capture_default_str();
  cmd->add_option("--min-replications", o->min_reps, "Replications per load, at least")->check(Between(2, 100))->capture_default_str();
  cmd->add_option("--max-replications", o->max_reps, "Replications per load, at most (then \"at the knee\")")
      ->check(Between(2, 100))
      ->capture_default_str();
  cmd->add_flag("--no-emulation", o->no_emulation, "Model mode only: no emulation around the model's answer");
  cmd->add_option("--out", o->out, "Output folder (default: <outputs.dir>/capacity-<UTC>-<name>); rerun to resume");
  cmd->add_flag("--force", o->force, "Start afresh in --out even if it holds another search");
  cmd->add_flag("--quiet", o->quiet, "No progress lines");
  cmd->callback([o, &action] { action = [o] { return Capacity(*o); }; });
}

}  // namespace citybed::app
