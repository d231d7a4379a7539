// citybed run --replications N: independent runs of one scenario as child processes of
// `citybed run`, each under its own seed (results::ReplicationSeed: replication 0 keeps the
// scenario's), each writing its own run folder; then every summary figure's mean and 95 %
// interval across them (results/replications.h).
#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "citybed/common/file.h"
#include "citybed/models/scenario.h"
#include "citybed/results/replications.h"
#include "citybed/results/run_output.h"
#include "exit_codes.h"
#include "run_options.h"
#include "spawn.h"

namespace citybed::app {

namespace {

// The job of replication r: `citybed run` into <dir>/rep-<r>, its output in <dir>/rep-<r>.log.
ChildJob JobOf(const RunOptions& o, const std::string& rep_dir, uint64_t seed) {
  std::vector<std::string> args = {"run", o.file, "--seed", std::to_string(seed), "--out", rep_dir,
                                   "--quiet", "--force", "--log-level", o.log_level};
  if (!o.broker.empty()) args.insert(args.end(), {"--broker", o.broker});
  if (!o.duration.empty()) args.insert(args.end(), {"--duration", o.duration});
  if (o.speed > 0) args.insert(args.end(), {"--speed", std::to_string(o.speed)});
  if (!o.model.empty()) args.insert(args.end(), {"--model", o.model});
  if (o.instances > 0) args.insert(args.end(), {"--instances", std::to_string(o.instances)});
  if (!o.placement.empty()) args.insert(args.end(), {"--placement", o.placement});
  if (o.request_log) args.push_back("--request-log");
  args.insert(args.end(), {"--notify-host", o.notify_host});
  return {args, rep_dir + ".log"};
}

// The exit code of the whole: the worst of the replications' (invalid > SLO failed > ok; a
// runtime error or usage error wins).
int Worst(const std::vector<int>& codes) {
  int worst = kExitOk;
  for (int c : codes) {
    if (c == kExitUsage || c == kExitRuntimeError) return c;
    if (c == kExitInvalidRun) worst = kExitInvalidRun;
    if (c == kExitSloFailed && worst == kExitOk) worst = kExitSloFailed;
  }
  return worst;
}

}  // namespace

int RunReplications(const RunOptions& o) {
  auto scenario = models::LoadScenario(o.file);
  if (!scenario) {
    std::fputs(models::FormatErrors(o.file, scenario.error()).c_str(), stderr);
    return kExitUsage;
  }
  const std::string dir = o.out.empty() ? scenario->outputs.dir + "/" + results::RunFolderName(scenario->name) : o.out;
  if (auto ok = results::PrepareRunFolder(dir, o.force); !ok) {
    std::fprintf(stderr, "citybed run: %s\n", ok.error().message.c_str());
    return ok.error().code == ErrorCode::kAlreadyExists ? kExitUsage : kExitRuntimeError;
  }
  const uint64_t base = o.seed >= 0 ? static_cast<uint64_t>(o.seed) : scenario->seed;
  const int n = o.replications;
  // Model mode runs on the engine alone: one replication per core. Emulation drives a broker in
  // real time: one at a time, so that replications do not load each other's broker.
  const int parallel = o.model.empty() ? 1 : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (!o.quiet) {
    std::fprintf(stderr, "citybed run: %d replications of %s (%d at a time) into %s\n", n, scenario->name.c_str(),
                 std::min(parallel, n), dir.c_str());
  }
  std::vector<uint64_t> seeds;
  std::vector<ChildJob> jobs;
  for (int r = 0; r < n; ++r) {
    seeds.push_back(results::ReplicationSeed(base, static_cast<uint64_t>(r)));
    jobs.push_back(JobOf(o, dir + "/rep-" + std::to_string(r), seeds.back()));
  }
  const std::vector<int> codes = RunChildren(jobs, parallel, [&](size_t r, int code) {
    if (!o.quiet) {
      std::fprintf(stderr, "  replication %zu (seed %llu): exit %d\n", r, static_cast<unsigned long long>(seeds[r]), code);
    }
  });
  std::vector<nlohmann::json> summaries;
  std::vector<int> used;
  for (int r = 0; r < n; ++r) {
    auto text = ReadFile(dir + "/rep-" + std::to_string(r) + "/summary.json");
    if (!text) continue;
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.value("valid", false)) continue;  // an invalid run is not a sample
    summaries.push_back(std::move(j));
    used.push_back(r);
  }
  nlohmann::json out;
  out["scenario"] = scenario->name;
  out["mode"] = o.model.empty() ? "emulation" : "model";
  out["seeds"] = seeds;
  out["exit_codes"] = codes;
  out["valid_replications"] = used;
  out["note"] = "means and 95 % confidence half-widths (Student's t) across the valid replications of every numeric "
                "summary figure, by JSON pointer into summary.json";
  out["aggregate"] = results::AggregateSummaries(summaries);
  if (auto ok = WriteFileAtomic(dir + "/replications.json", out.dump(2) + "\n"); !ok) {
    std::fprintf(stderr, "citybed run: cannot write the replications' summary: %s\n", ok.error().message.c_str());
    return kExitRuntimeError;
  }
  const nlohmann::json& f = out["aggregate"]["figures"];
  auto show = [&](const std::string& label, const std::string& ptr, const char* unit) {
    if (!f.contains(ptr)) return;
    const auto& x = f[ptr];
    if (x["ci95"].is_null()) {
      std::printf("  %-34s %.2f %s\n", label.c_str(), x["mean"].get<double>(), unit);
    } else {
      std::printf("  %-34s %.2f ± %.2f %s\n", label.c_str(), x["mean"].get<double>(), x["ci95"].get<double>(), unit);
    }
  };
  std::printf("%zu of %d replications of %s valid; means with 95 %% intervals across them:\n", used.size(), n,
              scenario->name.c_str());
  show("throughput (ok per simulated s)", "/requests/throughput/ok_per_simulated_s", "req/s");
  show("latency p50, all requests", "/requests/latency_ms/p50", "ms");
  show("latency p99, all requests", "/requests/latency_ms/p99", "ms");
  for (const char* op : {"upsert", "get", "query", "geo-query"}) {
    show(std::string(op) + " p99", std::string("/operations/") + op + "/latency_ms/p99", "ms");
  }
  std::printf("results: %s (replications.json; rep-0 … rep-%d)\n", dir.c_str(), n - 1);
  return Worst(codes);
}

}  // namespace citybed::app
