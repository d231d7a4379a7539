// `citybed run`: a scenario against a broker (or the model), and its results. The commands that
// read a scenario without running it are in scenario_commands.cc.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "citybed/broker/broker.h"
#include "citybed/common/log.h"
#include "citybed/common/strings.h"
#include "citybed/models/emulation.h"
#include "citybed/models/model_run.h"
#include "citybed/models/placement.h"
#include "citybed/models/protocol.h"
#include "citybed/models/scenario.h"
#include "citybed/models/world.h"
#include "citybed/results/recorder.h"
#include "citybed/results/request_log.h"
#include "citybed/results/run_output.h"
#include "commands.h"
#include "host_probe.h"
#include "run_options.h"
#include "run_setup.h"
#include "scenario_commands.h"
#include "exit_codes.h"

namespace citybed::app {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void OnInterrupt(int) { g_interrupted.store(true); }


// Resident memory of this process (MiB), from /proc/self/status.
double ResidentMiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::round(std::atof(line.c_str() + 6) / 1024.0 * 10) / 10;
  }
  return 0;
}

std::string Bar(double fraction, int width) {
  const int filled = static_cast<int>(fraction * width + 0.5);
  return std::string(static_cast<size_t>(std::max(0, std::min(width, filled))), '#') +
         std::string(static_cast<size_t>(std::max(0, width - filled)), '.');
}

// What a model-mode run served by, and whether it stayed inside the calibration's domain: the
// offered rate (the expected rate of the scenario, World::OfferedAt, at its speed) against the
// highest load the calibration measured, the thread count, the classes it lacked.
nlohmann::json ModelStamp(const models::Calibration& c, int instances, const models::Scenario& s, const models::World& world,
                          const models::ModelRunExtra& extra, const models::EmulationResult& result) {
  nlohmann::json m;
  m["calibration"] = {{"file", c.path}, {"sha256", c.sha256}, {"confidence", c.confidence},
                      {"broker", c.broker}, {"broker_version", c.broker_version}, {"threads", c.threads},
                      {"created_utc", c.created_utc}, {"capacity_rps", c.Capacity()}};
  m["calibrated"] = c.Standing();
  if (!c.validation.is_null()) m["validation"] = c.validation;
  m["instances"] = instances;
  m["utilisation"] = extra.utilisation;
  m["events"] = extra.events;
  m["wall_s"] = result.wall_seconds;
  std::vector<std::string> outside;
  // The peak offered rate over the run (per wall second of the broker: × speed), per instance.
  double peak = 0;
  const int steps = 240;
  for (int i = 0; i <= steps; ++i) {
    peak = std::max(peak, world.OfferedAt(static_cast<int64_t>(static_cast<double>(s.duration.ns()) * i / steps)).total());
  }
  const double per_instance = peak * s.speed / std::max(1, instances);
  m["peak_offered_rps_per_instance"] = per_instance;
  if (c.Capacity() > 0 && per_instance > c.Capacity()) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "the peak offered load (%.0f req/s per instance) is above the highest load calibrated "
                  "(%.0f req/s)", per_instance, c.Capacity());
    outside.emplace_back(buf);
  }
  if (extra.port.uncalibrated > 0) {
    outside.push_back(std::to_string(extra.port.uncalibrated) +
                      " requests were of a class the calibration did not measure (served as its commonest class)");
  }
  if (c.threads != s.broker.threads) {
    outside.push_back("the scenario's broker.threads (" + std::to_string(s.broker.threads) +
                      ") differs from the calibration's (" + std::to_string(c.threads) + "); the calibration's is modelled");
  }
  m["in_domain"] = outside.empty();
  m["outside_domain"] = outside;
  m["note"] = "latencies are the model's: queueing and calibrated service times plus the simulated network; "
              "answers carry no content, so interoperability figures are not measured";
  return m;
}

// "instance 0: 3 regions, 34 % of the demand; ...": how the placement split the scenario.
std::string InstanceLoads(const models::World& world, const models::Scenario& s) {
  const std::vector<int> of = models::PlaceRegions(world, s.broker.instances, s.broker.placement);
  const std::vector<double> share = models::InstanceShares(world, of, s.broker.instances);
  std::string out;
  for (size_t i = 0; i < share.size(); ++i) {
    const auto regions = std::count(of.begin(), of.end(), static_cast<int>(i));
    char line[96];
    std::snprintf(line, sizeof line, "%s#%zu %lld region%s %.0f %%", i == 0 ? "" : ", ", i, static_cast<long long>(regions),
                  regions == 1 ? "" : "s", share[i] * 100);
    out += line;
  }
  return out + " of the mean demand";
}

int RunScenario(const RunOptions& o, const std::string& command_line) {
  if (auto level = ParseLogLevel(o.log_level)) SetLogLevel(*level);
  auto scenario = LoadScenarioOrReport(o.file);
  if (!scenario) return kExitUsage;
  models::Scenario& s = *scenario;
  if (const int bad = ApplyRunOverrides(o, s); bad != kExitOk) return bad;
  auto world = models::World::Build(s);
  if (!world) {
    std::fprintf(stderr, "%s: %s\n", o.file.c_str(), world.error().message.c_str());
    return kExitUsage;
  }

  // Model mode: the calibrated queueing model instead of a broker.
  std::optional<models::Calibration> calibration;
  if (!o.model.empty()) {
    auto c = models::Calibration::Load(o.model);
    if (!c) {
      std::fprintf(stderr, "citybed run: --model: %s\n", c.error().message.c_str());
      return kExitUsage;
    }
    if (s.federation) {
      std::fprintf(stderr, "citybed run: %s federates brokers; model mode serves one broker (or --instances of it)\n",
                   o.file.c_str());
      return kExitUsage;
    }
    calibration = std::move(*c);
  }

  // The broker's access key (broker.token_env), read before anything runs.
  auto access = AccessKeyHeader(s);
  if (!access) {
    std::fprintf(stderr, "citybed run: %s\n", access.error().message.c_str());
    return kExitUsage;
  }
  const std::string auth_header = std::move(*access);

  // The results folder is checked before anything runs: a run whose results cannot be written
  // is not started.
  const std::string dir = o.out.empty() ? s.outputs.dir + "/" + results::RunFolderName(s.name) : o.out;
  if (auto ok = results::PrepareRunFolder(dir, o.force); !ok) {
    std::fprintf(stderr, "citybed run: %s\n", ok.error().message.c_str());
    return ok.error().code == ErrorCode::kAlreadyExists ? kExitUsage : kExitRuntimeError;
  }

  // The broker: the embedded one in this process, or the given URL(s); a federation's sites.
  auto brokers = StartRunBrokers(s, **world, calibration ? o.model : std::string());
  if (!brokers) {
    std::fprintf(stderr, "citybed run: %s\n", brokers.error().message.c_str());
    return kExitRuntimeError;
  }
  std::vector<std::unique_ptr<broker::Broker>>& embedded = brokers->embedded;
  const std::vector<std::string>& site_urls = brokers->site_urls;
  const std::vector<std::string>& site_ld_urls = brokers->site_ld_urls;
  const size_t external_sites = brokers->external_sites;
  const std::string& url = brokers->url;
  const std::string host_header = calibration ? std::string("model.invalid") : url.substr(url.find("://") + 3);
  models::Protocols protocols = models::Protocols::ForScenario(s, host_header);

  results::RecorderOptions ro;
  ro.warmup = s.warmup;
  ro.duration = s.duration;
  ro.interval = s.outputs.interval;
  for (const auto& r : s.regions) ro.regions.push_back(r.id);
  ro.domains = models::DomainNames();
  ro.start_hour = (*world)->HourAt(0);
  results::Recorder recorder(ro);
  std::unique_ptr<results::RequestLog> request_log;
  if (o.request_log) {
    auto opened = results::RequestLog::Open(dir, ro.regions, ro.domains);
    if (!opened) {
      std::fprintf(stderr, "citybed run: %s\n", opened.error().message.c_str());
      return kExitRuntimeError;
    }
    request_log = std::move(*opened);
    recorder.SetLog(request_log.get());
  }

  const bool tty = isatty(STDERR_FILENO) && !o.quiet;
  if (!o.quiet) {
    if (calibration) {
      std::fprintf(stderr, "citybed run: %s — %llu sources, %llu users in %zu region%s; %s in model mode (%d instance%s of "
                   "the broker calibrated in %s), as fast as it goes\n",
                   s.name.c_str(), static_cast<unsigned long long>((*world)->total_sources()),
                   static_cast<unsigned long long>((*world)->total_users()), s.regions.size(),
                   s.regions.size() == 1 ? "" : "s", s.duration.ToString().c_str(), s.broker.instances,
                   s.broker.instances == 1 ? "" : "s", o.model.c_str());
    } else {
      std::fprintf(stderr, "citybed run: %s — %llu sources, %llu users in %zu region%s; %s at %gx against %s%s\n",
                   s.name.c_str(), static_cast<unsigned long long>((*world)->total_sources()),
                   static_cast<unsigned long long>((*world)->total_users()), s.regions.size(),
                   s.regions.size() == 1 ? "" : "s", s.duration.ToString().c_str(), s.speed, url.c_str(),
                   embedded.empty() ? "" : " (embedded)");
    }
    if (site_urls.size() > 1 && (*world)->federation() == nullptr) {
      std::fprintf(stderr, "citybed run: %zu %s broker instances, regions placed %s: %s\n", site_urls.size(),
                   embedded.empty() ? "external" : "embedded", std::string(models::PlacementName(s.broker.placement)).c_str(),
                   InstanceLoads(**world, s).c_str());
      if (s.broker.tenancy == "single") {
        std::fprintf(stderr, "citybed run: note: single tenancy on several instances — a query or subscription that does not "
                             "narrow itself to its region sees only the regions of its instance (docs/capacity.md)\n");
      }
    } else if (site_urls.size() > 1) {
      const models::Federation& fed = *(*world)->federation();
      std::fprintf(stderr, "citybed run: federation of %zu brokers, %zu embedded and %zu external (%s topology, %zu registrations%s)\n",
                   site_urls.size(), site_urls.size() - external_sites, external_sites,
                   std::string(models::ToString(fed.spec().topology)).c_str(), fed.links().size(),
                   fed.spec().relay ? ", broker-to-broker requests through the backbone relay" : "");
    }
  }
  // The live line shows what the broker is doing now: the rate and p99 of the responses that
  // arrived since the last line (the recorder files latencies under their intended send time,
  // so its newest intervals are still incomplete when the broker lags behind).
  struct LiveObserver final : models::RunObserver {
    models::RunObserver& next;
    sim::LatencyHistogram recent{4};
    explicit LiveObserver(models::RunObserver& n) : next(n) {}
    void OnRequest(const models::RequestRecord& r) override {
      if (r.ok()) recent.Record(r.latency.ns());
      next.OnRequest(r);
    }
    void OnNotification(const models::NotificationRecord& n) override { next.OnNotification(n); }
    void OnResources(const models::ResourceSample& s) override { next.OnResources(s); }
    void OnInterop(const models::InteropRecord& r) override { next.OnInterop(r); }
  } live(recorder);
  models::EmulationOptions eo;
  eo.broker_url = url;
  eo.site_urls = site_urls;
  eo.site_ld_urls = site_ld_urls;
  eo.extra_headers = auth_header;
  auto embedded_cpu = [&embedded] {
    double cpu = 0;
    for (const auto& b : embedded) cpu += b->CpuSeconds();
    return cpu;
  };
  eo.listen_host = o.notify_host;
  eo.interrupt = &g_interrupted;
  // The brokers' CPU is known when citybed runs every one of them.
  const bool all_embedded = !embedded.empty() && external_sites == 0;
  if (all_embedded) eo.broker_cpu_seconds = embedded_cpu;
  uint64_t last_ok = 0;
  double last_wall = 0;
  eo.on_progress = [&](const models::EmulationProgress& p) {
    if (o.quiet) return;
    const double frac = p.now.seconds() / p.duration.seconds();
    const double eta = frac > 0 ? p.wall_seconds * (1 - frac) / frac : 0;
    if (!tty && static_cast<int64_t>(p.wall_seconds) % 10 != 0) return;  // a plain line every 10 s
    const double rate = static_cast<double>(p.completed - last_ok) / std::max(1e-3, p.wall_seconds - last_wall);
    const double p99 = static_cast<double>(live.recent.ValueAtPercentile(99)) / 1e6;  // 0 when none arrived
    const unsigned long long answers = live.recent.Count();
    const char* phase = p.now < sim::Time() + s.warmup ? " (warm-up)" : "";
    last_ok = p.completed;
    last_wall = p.wall_seconds;
    live.recent.Reset();
    if (tty) {
      std::fprintf(stderr, "\r[%s] %5.0fs/%.0fs%s ETA %4.0fs %7.0f ok per wall s, p99 %7.2f ms of %llu answers; %llu failed, "
                   "%llu outstanding  ",
                   Bar(frac, 24).c_str(), p.now.seconds(), p.duration.seconds(), phase, eta, rate, p99, answers,
                   static_cast<unsigned long long>(p.failed), static_cast<unsigned long long>(p.outstanding));
    } else {
      std::fprintf(stderr, "t=%.0fs/%.0fs%s %.0f ok per wall s, p99 %.2f ms of %llu answers; %llu failed, %llu outstanding\n",
                   p.now.seconds(), p.duration.seconds(), phase, rate, p99, answers,
                   static_cast<unsigned long long>(p.failed), static_cast<unsigned long long>(p.outstanding));
    }
  };

  g_interrupted = false;
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const std::string started = UtcNowRfc3339();
  const int64_t started_unix_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::system_clock::now().time_since_epoch()).count();
  const HostProbe host;
  const double broker_cpu_before = embedded_cpu();
  models::ModelRunExtra model_extra;
  models::EmulationResult result;
  if (calibration) {
    models::ModelOptions mo;
    mo.calibration = &*calibration;
    mo.instances = s.broker.instances;
    mo.placement = s.broker.placement;
    mo.interrupt = &g_interrupted;
    mo.on_progress = eo.on_progress;
    result = models::RunModel(**world, protocols, mo, live, &model_extra);
  } else {
    result = models::RunEmulation(**world, protocols, eo, live);
  }
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (tty) std::fputc('\n', stderr);

  results::RunInfo info;
  info.scenario = &s;
  info.result = &result;
  info.broker_url = url;
  info.broker_embedded = !embedded.empty();
  info.federation = (*world)->federation();
  info.started_utc = started;
  info.started_unix_us = started_unix_us;
  info.command_line = command_line;
  info.sources = (*world)->total_sources();
  info.users = (*world)->total_users();
  info.host = host.Describe();
  if (all_embedded) {
    const double cpu = embedded_cpu() - broker_cpu_before;
    info.broker_resources["cpu_seconds"] = std::round(cpu * 1000) / 1000;
    if (result.wall_seconds > 0) info.broker_resources["cpu_share"] = std::round(cpu / result.wall_seconds * 1e4) / 1e4;
    info.broker_resources["rss_mib"] = ResidentMiB();
  }
  if (s.broker.instances > 1) {
    const std::vector<int> of = models::PlaceRegions(**world, s.broker.instances, s.broker.placement);
    nlohmann::json region_map = nlohmann::json::object();
    for (size_t r = 0; r < of.size(); ++r) region_map[s.regions[r].id] = of[r];
    std::vector<double> shares = models::InstanceShares(**world, of, s.broker.instances);
    for (double& x : shares) x = std::round(x * 1e4) / 1e4;
    info.instances = {{"count", s.broker.instances}, {"placement", models::PlacementName(s.broker.placement)},
                      {"instance_of_region", region_map}, {"demand_share", shares}};
    if (!calibration) info.instances["urls"] = site_urls;
  }
  if (calibration) info.model = ModelStamp(*calibration, s.broker.instances, s, **world, model_extra, result);
  for (const auto& g : (*world)->sources()) {
    info.sources_by_domain[std::string(g.model->domain())] += g.count;
    info.sources_by_region[s.regions[static_cast<size_t>(g.region)].id] += g.count;
    info.sources_by_type[std::string(g.model->entity_type())] += g.count;
    uint64_t written = 0;
    for (uint32_t n : g.reports) written += n > 0;
    info.entities += written;
    info.entities_by_domain[std::string(g.model->domain())] += written;
    info.entities_by_region[s.regions[static_cast<size_t>(g.region)].id] += written;
    info.entities_by_type[std::string(g.model->entity_type())] += written;
  }
  // Notifications that never arrived count as failures in the freshness percentiles.
  recorder.AddMissingNotifications(result.broker_notifications.missing + result.notifications_lost,
                                   result.drain_end.SinceStart());
  const results::GeneratorVerdict generator = results::JudgeGenerator(s, result, recorder);
  if (!generator.valid) result.invalid_reasons.push_back(generator.reason);
  const results::SloVerdict slo = results::EvaluateSlo(s.slo, recorder);
  results::RunFiles files;
  files.manifest = results::BuildManifest(info);
  files.summary = results::BuildSummary(recorder, info, slo, generator);
  files.csv = results::BuildTimeseriesCsv(recorder, info);
  files.csv_metadata = results::BuildTimeseriesMetadata(recorder);
  if (s.outputs.report) files.html = results::BuildReportHtml(files.summary, files.manifest, recorder);
  // The sample files first: summary.json, written last, says the folder is complete.
  std::vector<std::string> samples;
  if (request_log) {
    auto finished = request_log->Finish();
    if (!finished) {
      for (auto& b : embedded) b->Stop();
      std::fprintf(stderr, "citybed run: cannot write the request log: %s\n", finished.error().message.c_str());
      return kExitRuntimeError;
    }
    samples = std::move(*finished);
  }
  auto written = results::WriteRunFolder(dir, files);
  for (auto& b : embedded) b->Stop();
  if (!written) {
    std::fprintf(stderr, "citybed run: cannot write the results: %s\n", written.error().message.c_str());
    return kExitRuntimeError;
  }
  const nlohmann::json& summary = files.summary;
  const auto& t = summary["requests"];
  const auto& l = t["latency_ms"];
  const bool measured = summary["measured"].get<bool>();
  std::printf("%s run of %s: %s requests scheduled in %s s of simulated time, %s ok, %s failed\n",
              result.valid() ? "valid" : "INVALID", s.name.c_str(), t["scheduled"].dump().c_str(),
              FormatSecondsExact(static_cast<int64_t>(std::llround(summary["window"]["simulated_s"].get<double>() * 1e9))).c_str(),
              t["ok"].dump().c_str(), t["failed"].dump().c_str());
  if (measured) {
    std::printf("  throughput %.1f ok/s per simulated second (%.1f per wall second at speed %g); latency of all %s "
                "requests: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
                t["throughput"]["ok_per_simulated_s"].get<double>(), t["throughput"]["ok_per_wall_s"].get<double>(), s.speed,
                l["count"].dump().c_str(), l["p50"].get<double>(), l["p99"].get<double>(), l["max"].get<double>());
  } else {
    std::printf("  nothing was measured: %s\n",
                summary["window"].contains("note") ? summary["window"]["note"].get<std::string>().c_str()
                                                   : "no request was made in the measurement window");
  }
  for (const auto& reason : result.invalid_reasons) std::printf("  invalid: %s\n", reason.c_str());
  if (result.subscriptions_failed > 0) {
    // Created mostly during the warm-up, so outside the summary's window: say it here.
    std::printf("  warning: %llu of %llu subscriptions were refused by the broker; notification figures are incomplete\n",
                static_cast<unsigned long long>(result.subscriptions_failed),
                static_cast<unsigned long long>(result.subscriptions));
  }
  if (summary["notifications"]["missing"].get<uint64_t>() > 0) {
    std::printf("  warning: %s notifications the broker triggered never arrived (counted as failures in freshness)\n",
                summary["notifications"]["missing"].dump().c_str());
  }
  if (!calibration && info.host.contains("warning")) std::printf("  warning: %s\n", info.host["warning"].get<std::string>().c_str());
  if (measured) {
    for (const auto& obj : summary["slo"]) {
      const std::string verdict = obj["verdict"].get<std::string>();
      std::string measured_text;
      if (obj.contains("measured_ms") && !obj["measured_ms"].is_null()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, " (measured %.2f ms over %s samples)", obj["measured_ms"].get<double>(),
                      obj["samples"].dump().c_str());
        measured_text = buf;
      } else if (obj.contains("measured") && obj["measured"].is_number()) {  // the error rate: failed / scheduled
        char buf[96];
        std::snprintf(buf, sizeof buf, " (measured %.3g %% over %s requests)", obj["measured"].get<double>() * 100,
                      obj["samples"].dump().c_str());
        measured_text = buf;
      }
      std::printf("  SLO %-15s %s%s\n", verdict == "pass" ? "pass" : verdict == "fail" ? "FAIL" : verdict.c_str(),
                  obj["objective"].get<std::string>().c_str(), measured_text.c_str());
    }
  }
  if (calibration) {
    std::printf("  model mode: %s calibration %s (sha256 %.12s), %d instance%s; %s\n",
                calibration->Standing().c_str(), o.model.c_str(), calibration->sha256.c_str(), s.broker.instances,
                s.broker.instances == 1 ? "" : "s",
                info.model["in_domain"].get<bool>() ? "inside its domain" : "OUTSIDE its domain (see the manifest)");
  }
  std::printf("results: %s\n", dir.c_str());
  if (request_log) {
    std::printf("samples: %llu requests (warm-up and drain included, each marked) in %s, with the notifications beside it\n",
                static_cast<unsigned long long>(request_log->requests()), samples.front().c_str());
  }
  if (!result.valid() || !measured) return kExitInvalidRun;
  if (!slo.pass || !slo.judged) return kExitSloFailed;
  return kExitOk;
}

}  // namespace

void RegisterRun(CLI::App& app, Action& action, const std::string& command_line) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* run = app.add_subcommand("run", "Run a scenario against the embedded broker or a broker URL");
  run->add_option("scenario", o->file, "Scenario file (JSON)")->required()->check(CLI::ExistingFile);
  run->add_option("--broker", o->broker, "\"embedded\", the http:// URL of an NGSI-LD or NGSI-v2 broker, or a comma-separated list of URLs of its instances (default: the scenario's broker.url or broker.urls)");
  run->add_option("--notify-host", o->notify_host,
                  "Address of this machine the notification receiver listens on and names in subscriptions; a broker "
                  "in a container or on another machine needs one it can reach (Docker's bridge: 172.17.0.1)")
      ->capture_default_str();
  run->add_option("--out", o->out, "Result folder (default: <outputs.dir>/<UTC stamp>-<name>, outputs.dir is results/runs)");
  run->add_flag("--force", o->force, "Replace the results already in --out (default: refuse)");
  run->add_option("--duration", o->duration, "Simulated duration, e.g. 30s (default: the scenario's duration)");
  run->add_option("--speed", o->speed, "Simulated seconds per wall-clock second (default: the scenario's speed, 1)")
      ->check(Positive());
  run->add_option("--seed", o->seed, "Random seed (default: the scenario's seed)")->check(NonNegative());
  run->add_option("--model", o->model,
                  "Model mode: serve the requests by the queueing model calibrated in this file (citybed calibrate), "
                  "as fast as the engine goes, instead of a broker")
      ->check(CLI::ExistingFile);
  run->add_option("--instances", o->instances,
                  "Broker instances the regions are spread over (default: the scenario's broker.instances): embedded "
                  "brokers started here, one per --broker URL, or stations in model mode")
      ->check(Between(1, 100000));
  run->add_option("--placement", o->placement,
                  "How regions are placed on instances: round-robin (by region index) or balanced (groups of about equal "
                  "demand); default: the scenario's broker.placement")
      ->check(CLI::IsMember({"round-robin", "balanced"}));
  run->add_flag("--request-log", o->request_log,
                "Also write requests.csv and notifications.csv: every request and notification, one line each, to "
                "recompute any figure from the samples (large for long runs; docs/results.md)");
  run->add_flag("--quiet", o->quiet, "No progress output");
  run->add_option("--log-level", o->log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  run->add_option("--replications", o->replications,
                  "Independent runs under named seed streams, into <out>/rep-<r>, summarised as means with 95 % "
                  "intervals in <out>/replications.json (in parallel on the cores in model mode)")
      ->check(Between(1, 1000))
      ->capture_default_str();
  run->callback([o, &action, command_line] {
    action = [o, command_line] { return o->replications > 1 ? RunReplications(*o) : RunScenario(*o, command_line); };
  });

  RegisterScenarioCommands(app, action);
}

}  // namespace citybed::app
