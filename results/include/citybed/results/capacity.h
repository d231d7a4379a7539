// The statistics of `citybed capacity` (docs/capacity.md#planning-a-rollout): what one probe
// (one replication of the scenario at one load) measured and whether it counts, the verdict at
// one load over its replications, the bracket-bisect-confirm search for the capacity λ*, and the
// resource that binds at the knee. Pure functions of run folders' contents (summary.json and
// timeseries.csv, docs/results.md); the command (app/capacity_command.cc) runs the probes.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace citybed::results {

inline constexpr const char* kCapacitySchema = "citybed-capacity/1";

// One SLO objective as one probe measured it (a summary's "slo" entry): a latency percentile of
// an operation (ms) or the error rate (a fraction).
struct ObjectiveSample {
  std::string name;          // "upsert p99 <= 100ms", "error rate <= 0.01"
  double measured = 0, bound = 0;
  uint64_t samples = 0, needed = 0;
  bool judged = true;        // enough samples for the percentile (SamplesNeeded)
};

// One replication at one load, read from its run folder.
struct ProbeRun {
  int replication = 0;
  bool valid = false;                 // summary.valid: the generator kept up, the run completed
  std::vector<std::string> invalid;   // why not
  double wall_s = 0;                  // the measured window in the broker's (wall) seconds
  double offered_rps = 0;             // requests scheduled in the window per broker second
  double ok_rps = 0;                  // 2xx answers per broker second
  double error_rate = 0;
  // Stability over the measured intervals (not warm-up, not drain) of the time series:
  // completions over offered requests, and the trend of outstanding requests (least squares
  // against time, its t statistic, the mean of the first and the last third).
  double flow_balance = 1;
  double outstanding_slope = 0, outstanding_t = 0;
  double outstanding_first = 0, outstanding_last = 0;
  size_t intervals = 0;               // measured intervals
  size_t mser_cut = 0;                // MSER-5 truncation of the per-interval p99 series, intervals
  bool stable = true;
  std::string unstable_reason;
  std::vector<ObjectiveSample> objectives;
  // Resources: the broker's utilisation (model: busy share of the serving stations; emulation:
  // its CPU per wall second, -1 when unknown), the wait for a client connection (p99, ms), the
  // simulated network's share of the latency, notification freshness p99 (ms, -1 without).
  double broker_utilisation = -1;
  double connection_wait_p99_ms = 0;
  int connections = 0;
  double network_share = 0;
  double notification_p99_ms = -1;
  double resolution = 0;  // relative error of the summary's latency percentiles (histogram buckets)
  nlohmann::json latency = nlohmann::json::object();  // per operation: p50, p99, p999, max (ms), count
  // The time series over the measured window (for the stationarity chart): wall seconds from
  // the window's start, ok answers per broker second, p99 ms.
  std::vector<std::array<double, 3>> series;
};

// Reads one probe. `timeseries_csv` may be empty (then stability is judged on the summary only).
// `broker_utilisation` overrides the summary's when >= 0 (emulation: measured outside the run).
ProbeRun ReadProbeRun(const nlohmann::json& summary, std::string_view timeseries_csv, double broker_utilisation = -1);

// The stability rule (docs/capacity.md): unstable when fewer than 99 % of the offered requests
// completed within the window, or the outstanding requests grow — a least-squares slope with
// t > 3, the last third's mean above twice the first third's plus 10, and a growth of more than
// 0.2 % of the requests offered in the window (a backlog, not the L = λW of a demand that ramps).
inline constexpr double kFlowBalanceMin = 0.99;
inline constexpr double kBacklogShare = 0.002;

enum class Verdict { kPass, kFail, kMore, kKnee, kInvalid };
const char* VerdictName(Verdict v);  // "pass", "fail", "more", "at the knee", "invalid"

// One objective over the replications at a load: mean and 95 % interval (Student's t).
struct ObjectiveJudgement {
  std::string name;
  double bound = 0, mean = 0, half_width = 0;
  size_t n = 0;                     // replications that judged it
  double ratio() const { return bound > 0 ? mean / bound : 0; }
};

struct LoadJudgement {
  Verdict verdict = Verdict::kMore;
  std::string reason;                       // in words
  std::vector<ObjectiveJudgement> objectives;
  std::string binding;                      // the objective with the highest mean / bound
  size_t valid = 0, unstable = 0;
};

// The verdict at one load from its valid replications: fail when an objective's 95 % interval
// lies above its bound or at least half the replications are unstable; pass when every judged
// objective's interval lies below its bound and no replication is unstable; otherwise more
// replications, up to `max_reps`, then "at the knee". Fewer than `min_reps` valid: more (or
// invalid once `max_reps` were tried, given by `tried`).
LoadJudgement JudgeLoad(const std::vector<ProbeRun>& runs, size_t min_reps, size_t max_reps, size_t tried);

// The search over the load multiplier m: bracket by `step` from the estimate (up while it
// passes, down while it fails), bisect (geometrically) until first failure / last success
// <= 1 + precision, then confirm at 0.9 λ* (must pass) and 1.1 λ* (must fail). When 0.9 λ*
// fails, the search goes on below it (at most twice); when 1.1 λ* passes, λ* stands unconfirmed
// (a lower load failed, and λ* is never above a failure). A "knee" or "invalid" verdict
// counts as a failure. When the search ends, every verdict counts: λ* is the highest load that
// passed below the lowest load that did not (a noisy pass above a failure does not raise it).
class CapacitySearch {
 public:
  CapacitySearch(double estimate, double step = 1.25, double precision = 0.02, double floor = 1e-3, double ceiling = 1e7);
  // The next multiplier to probe; nullopt when the search is over.
  std::optional<double> Next() const { return next_; }
  void Record(double m, bool pass);
  bool found() const { return last_pass_ > 0 && first_fail_ > 0; }
  double lambda() const { return last_pass_; }       // λ*: the highest multiplier that passed (0: none)
  double first_fail() const { return first_fail_; }  // 0: none failed up to the ceiling
  std::string phase() const;                          // "bracket", "bisect", "confirm", "done"
  bool confirmed() const { return confirmed_; }
  std::string note() const { return note_; }
  // Probes still to come, at most (for the ETA).
  int RemainingEstimate() const;

 private:
  void Plan();
  void Finish();
  std::vector<std::pair<double, bool>> history_;
  enum class Phase { kBracket, kBisect, kConfirmLow, kConfirmHigh, kDone } phase_ = Phase::kBracket;
  double step_, precision_, floor_, ceiling_;
  double last_pass_ = 0, first_fail_ = 0;
  std::optional<double> next_;
  int reopened_ = 0;
  bool confirmed_ = false;
  std::string note_;
};

// The resource that binds at the knee, from the probes at the first failing load and the
// binding objective there: "client connections" when the connection wait is at least half of
// the binding percentile, else "broker CPU" at utilisation >= 0.8, else "notifier" when the
// binding objective is about notifications, else "network" when the simulated network is at
// least half of the latency, else "broker latency below saturation". With the figures.
nlohmann::json BindingResource(const std::vector<ProbeRun>& at_failure, const std::string& binding_objective);

// The capacity report as one self-contained HTML page, from capacity.json.
std::string BuildCapacityHtml(const nlohmann::json& capacity);

}  // namespace citybed::results
