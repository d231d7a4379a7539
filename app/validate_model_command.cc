// citybed validate-model: the model's error against the real broker (docs/capacity.md).
//
// For each load (a fraction of the calibrated capacity), the scenario is run in emulation
// against a fresh embedded broker and in model mode, side by side, with the same seeds; the load
// is set by the scenario's speed (emulation at speed k asks the broker k times as fast), the
// duration stretched so each emulation lasts --window of wall time. Per operation: throughput
// (answers per broker second), the broker's part of the latency (latency − the simulated
// network: what the broker, the connection pool and the client's own work took) at p50 and p99;
// and the broker's utilisation: its CPU per request (the model: busy server-seconds per request)
// times the measured rate. Gates at loads
// ≤ 80 %: throughput and utilisation within 5 %, p50 within 10 %, p99 within 15 %.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "citybed/broker/broker.h"
#include "citybed/common/file.h"
#include "citybed/common/strings.h"
#include "citybed/models/calibration.h"
#include "citybed/models/emulation.h"
#include "citybed/models/model_run.h"
#include "citybed/models/scenario.h"
#include "citybed/models/world.h"
#include "citybed/sim/histogram.h"
#include "child_broker.h"
#include "commands.h"
#include "exit_codes.h"
#include "model_support.h"

namespace citybed::app {

namespace {

struct ValidateModelOptions {
  std::string calibration;
  std::string scenario = "scenarios/quickstart.json";
  std::string loads = "0.3,0.5,0.7,0.8,0.9";
  std::string window = "20s";
  int replications = 2;
  int64_t seed = -1;
  std::string out;
  bool in_process = false;
  bool stamp = true;
};

constexpr std::array<models::OpKind, 4> kOps = {models::OpKind::kUpsert, models::OpKind::kGet, models::OpKind::kQuery,
                                                models::OpKind::kGeoQuery};

struct Figures {
  std::array<double, 4> throughput{}, p50{}, p99{};  // per kOps; per broker (wall) second; ms
  double utilisation = 0;                             // broker CPU (or busy servers) per second
  uint64_t failed = 0;
  std::vector<std::string> invalid;
};

Figures Measure(const BrokerPartCollector& c, double measured_sim_s, double speed) {
  Figures f;
  for (size_t i = 0; i < kOps.size(); ++i) {
    const auto k = static_cast<size_t>(kOps[i]);
    f.throughput[i] = static_cast<double>(c.ok[k]) / measured_sim_s * speed;
    f.p50[i] = static_cast<double>(c.broker[k].ValueAtPercentile(50)) / 1e6;
    f.p99[i] = static_cast<double>(c.broker[k].ValueAtPercentile(99)) / 1e6;
  }
  f.failed = c.failed;
  return f;
}

// The model's relative error; infinite when the measurement is 0 and the model is not (a gate
// never passes on a figure that was not measured).
double RelErr(double model, double measured) {
  if (measured != 0) return (model - measured) / measured;
  return model == 0 ? 0.0 : std::numeric_limits<double>::infinity();
}

int ValidateModel(const ValidateModelOptions& o) {
  auto cal = models::Calibration::Load(o.calibration);
  if (!cal) {
    std::fprintf(stderr, "citybed validate-model: %s\n", cal.error().message.c_str());
    return kExitUsage;
  }
  if (cal->Capacity() <= 0) {
    std::fprintf(stderr, "citybed validate-model: %s has no measured capacity (capacity_rps)\n", o.calibration.c_str());
    return kExitUsage;
  }
  if (cal->broker != "embedded") {
    std::fprintf(stderr, "citybed validate-model: %s calibrated %s; validation runs the embedded broker, so it needs an "
                         "embedded calibration\n", o.calibration.c_str(), cal->broker.c_str());
    return kExitUsage;
  }
  std::vector<double> loads;
  {
    std::stringstream in(o.loads);
    for (std::string item; std::getline(in, item, ',');) {
      char* end = nullptr;
      const double v = std::strtod(item.c_str(), &end);
      if (end == item.c_str() || v <= 0 || v > 2) {
        std::fprintf(stderr, "citybed validate-model: --loads: \"%s\" is not a fraction of capacity in (0, 2]\n", item.c_str());
        return kExitUsage;
      }
      loads.push_back(v);
    }
  }
  auto window = sim::Duration::Parse(o.window);
  if (!window || window->ns() <= 0) {
    std::fprintf(stderr, "citybed validate-model: --window must be a positive duration\n");
    return kExitUsage;
  }
  auto base = models::LoadScenario(o.scenario);
  if (!base) {
    std::fputs(models::FormatErrors(o.scenario, base.error()).c_str(), stderr);
    return kExitUsage;
  }
  if (base->federation) {
    std::fprintf(stderr, "citybed validate-model: %s federates brokers; validate with a one-broker scenario\n",
                 o.scenario.c_str());
    return kExitUsage;
  }
  // The broker in its own process on CPU 0, citybed on the others: the generator does not take
  // the broker's core (as in calibrate).
  const bool isolate = !o.in_process && std::thread::hardware_concurrency() >= 2;
  // A workload not used for calibration: by default the scenario under another seed.
  const uint64_t seed = o.seed >= 0 ? static_cast<uint64_t>(o.seed) : base->seed + 1000;
  std::fprintf(stderr,
               "citybed validate-model: %s (seed %llu) against the calibration %s (capacity %.0f req/s, %d thread%s); "
               "%zu loads × %d replications, %s of emulation each\n",
               base->name.c_str(), static_cast<unsigned long long>(seed), o.calibration.c_str(), cal->Capacity(),
               cal->threads, cal->threads == 1 ? "" : "s", loads.size(), o.replications, o.window.c_str());

  nlohmann::json report;
  report["calibration"] = {{"file", cal->path}, {"sha256", cal->sha256}, {"capacity_rps", cal->Capacity()}};
  report["scenario"] = {{"file", o.scenario}, {"seed", seed}};
  report["gates"] = {{"max_load", 0.8}, {"throughput", 0.05}, {"utilisation", 0.05}, {"p50", 0.10}, {"p99", 0.15}};
  report["loads"] = nlohmann::json::array();
  bool pass = true, any_invalid = false;
  std::printf("%5s %-9s %10s %10s %7s %9s %9s %7s %9s %9s %7s  %s\n", "load", "operation", "req/s emu", "model", "err",
              "p50 emu", "model", "err", "p99 emu", "model", "err", "");
  for (double load : loads) {
    // The speed that offers `load` of the capacity over a run lasting `window` of wall time.
    models::Scenario s = *base;
    s.seed = seed;
    if (!ScaleToRate(s, load * cal->Capacity(), *window)) {
      std::fprintf(stderr, "citybed validate-model: %s offers no load\n", o.scenario.c_str());
      return kExitUsage;
    }
    const double speed = s.speed;
    const double measured_sim_s = (s.duration - s.warmup).seconds();
    std::vector<Figures> emu, mod;
    for (int rep = 0; rep < o.replications; ++rep) {
      s.seed = seed + static_cast<uint64_t>(rep);
      {  // emulation against a fresh broker: in its own process on its own CPU unless --in-process
        std::unique_ptr<broker::Broker> in_process;
        std::unique_ptr<ChildBroker> child;
        std::string url;
        if (isolate) {
          auto c = ChildBroker::Start(cal->threads, 0);
          if (!c) {
            std::fprintf(stderr, "citybed validate-model: %s\n", c.error().message.c_str());
            return kExitRuntimeError;
          }
          child = std::move(*c);
          url = child->url();
        } else {
          broker::BrokerOptions bo;
          bo.server.port = 0;
          bo.server.threads = cal->threads;
          in_process = std::make_unique<broker::Broker>(bo);
          if (auto ok = in_process->Start(); !ok) {
            std::fprintf(stderr, "citybed validate-model: cannot start the embedded broker: %s\n",
                         ok.error().message.c_str());
            return kExitRuntimeError;
          }
          url = in_process->url();
        }
        auto world = models::World::Build(s);
        if (!world) {
          std::fprintf(stderr, "citybed validate-model: %s: %s\n", o.scenario.c_str(), world.error().message.c_str());
          return kExitUsage;
        }
        BrokerPartCollector c;
        c.from = sim::Time() + s.warmup;
        models::EmulationOptions eo;
        eo.broker_url = url;
        const double cpu0 = BrokerCpuSeconds(url);
        const std::string host = url.substr(url.find("://") + 3);
        const models::EmulationResult r = models::RunEmulation(**world, models::Protocols::ForScenario(s, host), eo, c);
        Figures f = Measure(c, measured_sim_s, speed);
        const double cpu1 = BrokerCpuSeconds(url);
        // CPU per request times the measured rate: the run's wall time also holds its set-up and
        // the wait for the last notifications, when the broker idles.
        const double rate = static_cast<double>(c.all.Count()) / (measured_sim_s / speed);
        f.utilisation = r.completed > 0 && cpu0 >= 0 && cpu1 >= 0 ? (cpu1 - cpu0) / static_cast<double>(r.completed) * rate : 0;
        f.invalid = r.invalid_reasons;
        if (cpu0 < 0 || cpu1 < 0) f.invalid.emplace_back("the broker's CPU could not be read from its metrics");
        const double lag = static_cast<double>(r.executor.lag.ValueAtPercentile(99)) / 1e6;
        if (lag > 10) {
          char buf[120];
          std::snprintf(buf, sizeof buf, "the generator fell behind the clock (p99 lag %.1f ms)", lag);
          f.invalid.emplace_back(buf);
        }
        if (in_process) in_process->Stop();
        emu.push_back(std::move(f));
      }
      {  // the model, same seed
        auto world = models::World::Build(s);
        if (!world) return kExitUsage;  // built above: cannot fail here
        BrokerPartCollector c;
        c.from = sim::Time() + s.warmup;
        models::ModelOptions mo;
        mo.calibration = &*cal;
        models::ModelRunExtra extra;
        const models::EmulationResult r =
            models::RunModel(**world, models::Protocols::ForScenario(s, "model.invalid"), mo, c, &extra);
        Figures f = Measure(c, measured_sim_s, speed);
        // The same definition: busy server-seconds per request (in broker seconds) times the rate.
        const double rate = static_cast<double>(c.all.Count()) / (measured_sim_s / speed);
        f.utilisation = r.completed > 0 ? extra.busy_seconds / speed / static_cast<double>(r.completed) * rate : 0;
        f.invalid = r.invalid_reasons;
        mod.push_back(std::move(f));
      }
    }
    // Means over the replications.
    auto mean = [](const std::vector<Figures>& v, auto get) {
      double s = 0;
      for (const Figures& f : v) s += get(f);
      return v.empty() ? 0.0 : s / static_cast<double>(v.size());
    };
    nlohmann::json lj;
    lj["load"] = load;
    lj["speed"] = speed;
    lj["offered_rps"] = load * cal->Capacity();
    std::vector<std::string> invalid;
    for (const Figures& f : emu) invalid.insert(invalid.end(), f.invalid.begin(), f.invalid.end());
    lj["emulation_invalid"] = invalid;
    const bool gated = load <= 0.8 + 1e-9;
    bool load_pass = true;
    nlohmann::json ops = nlohmann::json::object();
    for (size_t i = 0; i < kOps.size(); ++i) {
      const double te = mean(emu, [i](const Figures& f) { return f.throughput[i]; });
      const double tm = mean(mod, [i](const Figures& f) { return f.throughput[i]; });
      if (te <= 0 && tm <= 0) continue;
      const double p50e = mean(emu, [i](const Figures& f) { return f.p50[i]; });
      const double p50m = mean(mod, [i](const Figures& f) { return f.p50[i]; });
      const double p99e = mean(emu, [i](const Figures& f) { return f.p99[i]; });
      const double p99m = mean(mod, [i](const Figures& f) { return f.p99[i]; });
      const bool ok = std::abs(RelErr(tm, te)) <= 0.05 && std::abs(RelErr(p50m, p50e)) <= 0.10 &&
                      std::abs(RelErr(p99m, p99e)) <= 0.15;
      if (gated && !ok) load_pass = false;
      const std::string name(models::OpKindName(kOps[i]));
      ops[name] = {{"throughput", {{"emulation", te}, {"model", tm}, {"error", RelErr(tm, te)}}},
                   {"p50_ms", {{"emulation", p50e}, {"model", p50m}, {"error", RelErr(p50m, p50e)}}},
                   {"p99_ms", {{"emulation", p99e}, {"model", p99m}, {"error", RelErr(p99m, p99e)}}},
                   {"within_gates", ok}};
      std::printf("%4.0f%% %-9s %10.0f %10.0f %+6.1f%% %8.3fms %8.3fms %+6.1f%% %8.3fms %8.3fms %+6.1f%%  %s\n",
                  load * 100, name.c_str(), te, tm, RelErr(tm, te) * 100, p50e, p50m, RelErr(p50m, p50e) * 100, p99e,
                  p99m, RelErr(p99m, p99e) * 100, !gated ? "(not gated)" : ok ? "ok" : "OUT");
    }
    const double ue = mean(emu, [](const Figures& f) { return f.utilisation; });
    const double um = mean(mod, [](const Figures& f) { return f.utilisation; });
    const bool util_ok = std::abs(RelErr(um, ue)) <= 0.05;
    if (gated && !util_ok) load_pass = false;
    std::printf("%4.0f%% %-9s %10.3f %10.3f %+6.1f%%  broker CPU per second (emulation) / busy servers per second (model)  %s\n",
                load * 100, "broker", ue, um, RelErr(um, ue) * 100, !gated ? "(not gated)" : util_ok ? "ok" : "OUT");
    for (const std::string& why : invalid) std::printf("      emulation invalid: %s\n", why.c_str());
    lj["operations"] = ops;
    lj["utilisation"] = {{"emulation", ue}, {"model", um}, {"error", RelErr(um, ue)}};
    lj["within_gates"] = load_pass;
    if (!invalid.empty()) any_invalid = true;
    if (gated) pass = pass && load_pass;
    report["loads"].push_back(lj);
  }
  report["pass"] = pass;
  // The verdict goes into the calibration file, so that every run using it says where it stands.
  if (o.stamp) {
    nlohmann::json v;
    v["utc"] = UtcNowRfc3339();
    v["scenario"] = {{"file", o.scenario}, {"seed", seed}};
    v["replications"] = o.replications;
    v["window_s"] = window->seconds();
    v["pass"] = pass && !any_invalid;  // a comparison with an invalid measurement validates nothing
    if (any_invalid) v["note"] = "some emulation runs were invalid (see the table): not a pass";
    nlohmann::json worst = {{"throughput", 0.0}, {"utilisation", 0.0}, {"p50", 0.0}, {"p99", 0.0}};
    for (const auto& l : report["loads"]) {
      if (l["load"].get<double>() > 0.8 + 1e-9) continue;
      auto keep = [&](const char* key, double e) { worst[key] = std::max(worst[key].get<double>(), std::abs(e)); };
      keep("utilisation", l["utilisation"]["error"].get<double>());
      for (const auto& [name, op] : l["operations"].items()) {
        keep("throughput", op["throughput"]["error"].get<double>());
        keep("p50", op["p50_ms"]["error"].get<double>());
        keep("p99", op["p99_ms"]["error"].get<double>());
      }
    }
    v["largest_error_up_to_80_percent"] = worst;
    auto text = ReadFile(o.calibration);
    nlohmann::json j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
    if (j.is_object()) {
      j["validation"] = v;
      if (auto ok = WriteFileAtomic(o.calibration, j.dump(2) + "\n"); !ok) {
        std::fprintf(stderr, "citybed validate-model: cannot stamp %s: %s\n", o.calibration.c_str(), ok.error().message.c_str());
      } else {
        std::printf("stamped: %s is now \"%s\"\n", o.calibration.c_str(),
                    pass && !any_invalid ? "validated" : "uncalibrated");
      }
    }
  }
  std::printf("model %s the gates at loads up to 80 %% of capacity%s\n", pass ? "meets" : "DOES NOT meet",
              pass ? "" : "; results from this calibration are to be read as uncalibrated");
  if (!o.out.empty()) {
    if (auto ok = WriteFileAtomic(o.out, report.dump(2) + "\n"); !ok) {
      std::fprintf(stderr, "citybed validate-model: cannot write %s: %s\n", o.out.c_str(), ok.error().message.c_str());
      return kExitRuntimeError;
    }
    std::printf("written: %s\n", o.out.c_str());
  }
  if (any_invalid) return kExitInvalidRun;
  return pass ? kExitOk : kExitSloFailed;
}

}  // namespace

void RegisterValidateModel(CLI::App& app, Action& action) {
  auto o = std::make_shared<ValidateModelOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate-model", "Run emulation and model mode side by side at several loads and print the model's error");
  cmd->add_option("--calibration", o->calibration, "The calibration (citybed calibrate) to validate")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--scenario", o->scenario, "The workload (by default under another seed than calibration used)")
      ->capture_default_str();
  cmd->add_option("--loads", o->loads, "Fractions of the calibrated capacity, comma-separated")->capture_default_str();
  cmd->add_option("--window", o->window, "Wall time of each emulation run")->capture_default_str();
  cmd->add_option("--replications", o->replications, "Runs per load and mode (seeds seed, seed+1, ...)")
      ->check(Between(1, 100))
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "The first seed (default: the scenario's + 1000)");
  cmd->add_option("--out", o->out, "Also write the table as JSON here");
  cmd->add_flag("!--no-stamp", o->stamp, "Do not write the verdict into the calibration file");
  cmd->add_flag("--in-process", o->in_process,
                "Run the embedded broker in this process, sharing the cores with the load generator (default: a child "
                "process on CPU 0)");
  cmd->callback([o, &action] { action = [o] { return ValidateModel(*o); }; });
}

}  // namespace citybed::app
