// The statistics of the capacity search (capacity.h): probes, verdicts, the search, the binding
// resource.
#include "citybed/results/capacity.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "citybed/common/strings.h"
#include "citybed/sim/stats.h"

namespace citybed::results {

using nlohmann::json;

namespace {

double Num(const json& j, const json::json_pointer& p, double fallback = 0) {
  return j.contains(p) && j.at(p).is_number() ? j.at(p).get<double>() : fallback;
}

// The measured rows of a run's time series: columns by name.
struct Table {
  std::vector<std::string> header;
  std::vector<std::vector<std::string_view>> rows;
  int Column(std::string_view name) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
};

Table ParseCsv(std::string_view text) {
  Table t;
  bool first = true;
  for (std::string_view line : Split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    auto cells = Split(line, ',');
    if (first) {
      for (auto c : cells) t.header.emplace_back(c);
      first = false;
    } else {
      t.rows.push_back(std::move(cells));
    }
  }
  return t;
}

double Cell(const std::vector<std::string_view>& row, int col) {
  if (col < 0 || static_cast<size_t>(col) >= row.size() || row[static_cast<size_t>(col)].empty()) return 0;
  return std::strtod(std::string(row[static_cast<size_t>(col)]).c_str(), nullptr);
}

// Least-squares slope of y against x and its t statistic (slope / standard error).
std::pair<double, double> Slope(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = x.size();
  if (n < 3) return {0, 0};
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= static_cast<double>(n), my /= static_cast<double>(n);
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < n; ++i) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
  if (sxx <= 0) return {0, 0};
  const double b = sxy / sxx;
  double sse = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = y[i] - my - b * (x[i] - mx);
    sse += e * e;
  }
  const double se = std::sqrt(sse / static_cast<double>(n - 2) / sxx);
  if (se <= 0) return {b, b > 0 ? std::numeric_limits<double>::infinity() : b < 0 ? -std::numeric_limits<double>::infinity() : 0};
  return {b, b / se};
}

}  // namespace

ProbeRun ReadProbeRun(const json& s, std::string_view csv, double broker_utilisation) {
  ProbeRun p;
  p.valid = s.value("valid", false) && s.value("complete", false) && s.value("measured", false);
  if (s.contains("invalid_reasons") && s["invalid_reasons"].is_array()) {
    for (const json& r : s["invalid_reasons"]) p.invalid.push_back(r.is_string() ? r.get<std::string>() : r.dump());
  }
  if (!s.value("complete", false)) p.invalid.emplace_back("the run did not complete");
  if (!s.value("measured", false)) p.invalid.emplace_back("the run measured nothing");
  if (!p.valid && p.invalid.empty()) p.invalid.emplace_back("the run is not valid");
  p.wall_s = Num(s, "/window/wall_s"_json_pointer);
  const double scheduled = Num(s, "/requests/scheduled"_json_pointer);
  p.offered_rps = p.wall_s > 0 ? scheduled / p.wall_s : 0;
  p.ok_rps = Num(s, "/requests/throughput/ok_per_wall_s"_json_pointer);
  p.error_rate = Num(s, "/requests/error_rate"_json_pointer);
  p.connection_wait_p99_ms = Num(s, "/connections/wait_p99_ms"_json_pointer);
  p.connections = static_cast<int>(Num(s, "/connections/connections"_json_pointer));
  p.network_share = Num(s, "/requests/network_share"_json_pointer);
  p.notification_p99_ms = Num(s, "/notifications/freshness_ms/count"_json_pointer) > 0
                              ? Num(s, "/notifications/freshness_ms/p99"_json_pointer, -1)
                              : -1;
  p.resolution = Num(s, "/histograms/relative_error"_json_pointer);
  p.broker_utilisation = broker_utilisation >= 0 ? broker_utilisation : Num(s, "/model/utilisation"_json_pointer, -1);
  if (s.contains("operations") && s["operations"].is_object()) {
    for (const auto& [op, o] : s["operations"].items()) {
      if (!o.contains("latency_ms")) continue;
      const json& l = o["latency_ms"];
      if (l.value("count", 0) == 0) continue;
      p.latency[op] = {{"p50", l.value("p50", 0.0)}, {"p99", l.value("p99", 0.0)}, {"p999", l.value("p999", 0.0)},
                       {"max", l.value("max", 0.0)}, {"count", l.value("count", 0)}};
    }
  }
  if (s.contains("slo") && s["slo"].is_array()) {
    for (const json& o : s["slo"]) {
      ObjectiveSample x;
      x.name = o.value("objective", "");
      const bool latency = o.contains("bound_ms");
      x.bound = latency ? o.value("bound_ms", 0.0) : o.value("bound", 0.0);
      const json& m = latency ? o.value("measured_ms", json()) : o.value("measured", json());
      x.measured = m.is_number() ? m.get<double>() : 0;
      x.samples = o.value("samples", uint64_t{0});
      x.needed = o.value("samples_needed", uint64_t{1});
      x.judged = o.value("verdict", "") != "not enough data" && m.is_number();
      p.objectives.push_back(std::move(x));
    }
  }
  // Stability from the time series' measured intervals.
  const Table t = ParseCsv(csv);
  const int c_t = t.Column("t_s"), c_warm = t.Column("warmup"), c_drain = t.Column("drain"),
            c_offered = t.Column("offered"), c_ok = t.Column("ok"), c_failed = t.Column("failed"),
            c_out = t.Column("outstanding"), c_p99 = t.Column("p99_ms"), c_secs = t.Column("seconds");
  const double speed = std::max(1e-9, Num(s, "/window/speed"_json_pointer, 1));
  std::vector<double> times, outstanding, p99;
  double offered = 0, completed = 0, t0 = -1;
  if (c_t >= 0 && c_out >= 0 && c_offered >= 0) {
    for (const auto& row : t.rows) {
      if (Cell(row, c_warm) != 0 || Cell(row, c_drain) != 0) continue;
      const double ts = Cell(row, c_t) / speed;
      if (t0 < 0) t0 = ts;
      times.push_back(ts - t0);
      outstanding.push_back(Cell(row, c_out));
      p99.push_back(Cell(row, c_p99));
      offered += Cell(row, c_offered);
      completed += Cell(row, c_ok) + Cell(row, c_failed);
      const double secs = std::max(1e-9, Cell(row, c_secs) / speed);
      p.series.push_back({ts - t0, Cell(row, c_ok) / secs, Cell(row, c_p99)});
    }
  }
  p.intervals = times.size();
  if (offered > 0) p.flow_balance = completed / offered;
  if (p.intervals >= 3) {
    std::tie(p.outstanding_slope, p.outstanding_t) = Slope(times, outstanding);
    const size_t third = std::max<size_t>(1, p.intervals / 3);
    double a = 0, b = 0;
    for (size_t i = 0; i < third; ++i) a += outstanding[i], b += outstanding[p.intervals - 1 - i];
    p.outstanding_first = a / static_cast<double>(third);
    p.outstanding_last = b / static_cast<double>(third);
    p.mser_cut = sim::MserTruncation(p99, 5);
  }
  char buf[200];
  if (offered > 0 && p.flow_balance < kFlowBalanceMin) {
    p.stable = false;
    std::snprintf(buf, sizeof buf, "only %.1f %% of the offered requests completed in the window", 100 * p.flow_balance);
    p.unstable_reason = buf;
  } else if (p.outstanding_t > 3 && p.outstanding_last > 2 * p.outstanding_first + 10 &&
             p.outstanding_last - p.outstanding_first > kBacklogShare * offered) {
    p.stable = false;
    std::snprintf(buf, sizeof buf, "outstanding requests grow (%.0f → %.0f, slope %.1f/s, t = %.1f; %.2f %% of the requests offered)",
                  p.outstanding_first, p.outstanding_last, p.outstanding_slope, p.outstanding_t,
                  100 * (p.outstanding_last - p.outstanding_first) / offered);
    p.unstable_reason = buf;
  }
  return p;
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kPass: return "pass";
    case Verdict::kFail: return "fail";
    case Verdict::kMore: return "more";
    case Verdict::kKnee: return "at the knee";
    case Verdict::kInvalid: return "invalid";
  }
  return "?";
}

LoadJudgement JudgeLoad(const std::vector<ProbeRun>& runs, size_t min_reps, size_t max_reps, size_t tried) {
  LoadJudgement j;
  std::map<std::string, std::vector<double>> values;
  std::map<std::string, double> bounds;
  std::vector<std::string> order;
  double resolution = 0;  // the percentiles' own relative error: an interval is never narrower
  for (const ProbeRun& r : runs) {
    if (!r.valid) continue;
    ++j.valid;
    if (!r.stable) ++j.unstable;
    resolution = std::max(resolution, r.resolution);
    for (const ObjectiveSample& o : r.objectives) {
      if (!bounds.count(o.name)) order.push_back(o.name);
      bounds[o.name] = o.bound;
      if (o.judged) values[o.name].push_back(o.measured);
    }
  }
  if (j.valid < std::max<size_t>(1, min_reps)) {
    if (tried >= max_reps) {
      j.verdict = Verdict::kInvalid;
      j.reason = std::to_string(j.valid) + " valid of " + std::to_string(tried) + " replications";
    } else {
      j.verdict = Verdict::kMore;
      j.reason = "fewer than " + std::to_string(min_reps) + " valid replications";
    }
    return j;
  }
  bool any_fail = false, all_pass = true;
  std::string fail_reason;
  double worst = -1;
  for (const std::string& name : order) {
    ObjectiveJudgement o;
    o.name = name;
    o.bound = bounds[name];
    const auto& v = values[name];
    o.n = v.size();
    if (o.n == 0) {
      j.objectives.push_back(o);  // not judged: too few samples in every replication
      continue;
    }
    const sim::ConfidenceInterval ci = sim::MeanConfidenceInterval(v);
    o.mean = ci.mean;
    o.half_width = o.n > 1 ? ci.half_width : std::numeric_limits<double>::infinity();
    if (o.n > 1 && ci.half_width == 0) o.half_width = 0;  // identical values (common random numbers)
    if (name.find("error rate") == std::string::npos) o.half_width += resolution * std::abs(o.mean);
    if (o.mean - o.half_width > o.bound) {
      any_fail = true;
      if (fail_reason.empty()) fail_reason = name + ": above the bound with 95 % confidence";
    }
    if (!(o.mean + o.half_width <= o.bound)) all_pass = false;
    if (o.ratio() > worst) worst = o.ratio(), j.binding = name;
    j.objectives.push_back(o);
  }
  if (2 * j.unstable >= j.valid && j.unstable > 0) {
    j.verdict = Verdict::kFail;
    j.reason = std::to_string(j.unstable) + " of " + std::to_string(j.valid) + " replications unstable";
    return j;
  }
  if (any_fail) {
    j.verdict = Verdict::kFail;
    j.reason = fail_reason;
    return j;
  }
  if (all_pass && j.unstable == 0) {
    j.verdict = Verdict::kPass;
    j.reason = j.binding.empty() ? "no objective judged; stable" : "every objective below its bound with 95 % confidence";
    return j;
  }
  j.verdict = tried >= max_reps ? Verdict::kKnee : Verdict::kMore;
  j.reason = j.unstable > 0 ? std::to_string(j.unstable) + " of " + std::to_string(j.valid) + " replications unstable"
                            : "the 95 % interval of " + j.binding + " straddles its bound";
  return j;
}

CapacitySearch::CapacitySearch(double estimate, double step, double precision, double floor, double ceiling)
    : step_(step > 1 ? step : 1.25), precision_(precision > 0 ? precision : 0.02), floor_(floor), ceiling_(ceiling) {
  next_ = std::clamp(estimate > 0 ? estimate : 1.0, floor_, ceiling_);
}

std::string CapacitySearch::phase() const {
  switch (phase_) {
    case Phase::kBracket: return "bracket";
    case Phase::kBisect: return "bisect";
    case Phase::kConfirmLow:
    case Phase::kConfirmHigh: return "confirm";
    case Phase::kDone: return "done";
  }
  return "?";
}

void CapacitySearch::Record(double m, bool pass) {
  history_.emplace_back(m, pass);
  switch (phase_) {
    case Phase::kBracket:
    case Phase::kBisect:
      if (pass) last_pass_ = std::max(last_pass_, m);
      else first_fail_ = first_fail_ > 0 ? std::min(first_fail_, m) : m;
      // A pass above a failure (noise or non-monotone behaviour) resets the failure above it.
      if (first_fail_ > 0 && last_pass_ >= first_fail_) {
        if (pass) first_fail_ = 0;
        else last_pass_ = 0;
      }
      break;
    case Phase::kConfirmLow:
      if (!pass) {
        // 0.9 λ* fails: λ* was not solid; search again below.
        first_fail_ = m;
        last_pass_ = 0;
        note_ += "0.9 λ* failed on confirmation; searched again below. ";
        if (++reopened_ > 2) phase_ = Phase::kDone;
        else phase_ = Phase::kBracket;
      } else {
        phase_ = Phase::kConfirmHigh;
      }
      break;
    case Phase::kConfirmHigh:
      if (pass) {
        // A failure at or below 1.02 λ* stands in the history: searching above cannot raise λ*.
        note_ += "1.1 λ* passed on confirmation while a lower load failed: not confirmed. ";
        phase_ = Phase::kDone;
      } else {
        confirmed_ = true;
        phase_ = Phase::kDone;
      }
      break;
    case Phase::kDone: break;
  }
  Plan();
}

void CapacitySearch::Finish() {
  // Every verdict counts: λ* is the highest load that passed below the lowest that did not.
  double lowest_fail = 0, highest_pass = 0;
  for (auto [m, pass] : history_) {
    if (!pass) lowest_fail = lowest_fail > 0 ? std::min(lowest_fail, m) : m;
  }
  for (auto [m, pass] : history_) {
    if (pass && (lowest_fail == 0 || m < lowest_fail)) highest_pass = std::max(highest_pass, m);
  }
  if (highest_pass != last_pass_ || lowest_fail != first_fail_) {
    note_ += "verdicts were not monotone in load: λ* is the highest load that passed below the lowest that did not. ";
    last_pass_ = highest_pass;
    first_fail_ = lowest_fail;
    confirmed_ = false;
  }
}

void CapacitySearch::Plan() {
  next_.reset();
  if (phase_ == Phase::kDone) {
    Finish();
    return;
  }
  if (phase_ == Phase::kBracket) {
    if (last_pass_ > 0 && first_fail_ > 0) {
      phase_ = Phase::kBisect;
    } else if (first_fail_ > 0) {
      const double m = first_fail_ / step_;
      if (m < floor_) {
        note_ += "fails even at the lowest load tried. ";
        phase_ = Phase::kDone;
        Finish();
        return;
      }
      next_ = m;
      return;
    } else {
      const double m = last_pass_ * step_;
      if (m > ceiling_) {
        note_ += "passes up to the highest load tried. ";
        phase_ = Phase::kDone;
        Finish();
        return;
      }
      next_ = m;
      return;
    }
  }
  if (phase_ == Phase::kBisect) {
    if (first_fail_ / last_pass_ > 1 + precision_) {
      next_ = std::sqrt(first_fail_ * last_pass_);
      return;
    }
    phase_ = Phase::kConfirmLow;
    next_ = 0.9 * last_pass_;
    return;
  }
  if (phase_ == Phase::kConfirmHigh) next_ = 1.1 * last_pass_;
}

int CapacitySearch::RemainingEstimate() const {
  if (phase_ == Phase::kDone) return 0;
  if (phase_ == Phase::kConfirmHigh) return 1;
  if (phase_ == Phase::kConfirmLow) return 2;
  double ratio = step_;
  if (phase_ == Phase::kBisect && last_pass_ > 0) ratio = first_fail_ / last_pass_;
  const int bisections = static_cast<int>(std::ceil(std::log2(std::max(1.0, std::log(ratio) / std::log1p(precision_)))));
  return (phase_ == Phase::kBracket ? 1 : 0) + bisections + 2;
}

json BindingResource(const std::vector<ProbeRun>& runs, const std::string& binding) {
  sim::RunningStats util, wait, net, notif, bound_value;
  int connections = 0;
  double bound = 0;
  for (const ProbeRun& r : runs) {
    if (!r.valid) continue;
    if (r.broker_utilisation >= 0) util.Add(r.broker_utilisation);
    wait.Add(r.connection_wait_p99_ms);
    net.Add(r.network_share);
    if (r.notification_p99_ms >= 0) notif.Add(r.notification_p99_ms);
    connections = r.connections;
    for (const ObjectiveSample& o : r.objectives) {
      if (o.name == binding && o.judged) bound_value.Add(o.measured), bound = o.bound;
    }
  }
  json j;
  j["binding_objective"] = binding;
  j["binding_measured"] = bound_value.Count() ? json(bound_value.Mean()) : json(nullptr);
  j["binding_bound"] = bound;
  j["broker_utilisation"] = util.Count() ? json(util.Mean()) : json(nullptr);
  j["connection_wait_p99_ms"] = wait.Mean();
  j["connections"] = connections;
  j["network_share"] = net.Mean();
  j["notification_p99_ms"] = notif.Count() ? json(notif.Mean()) : json(nullptr);
  const bool latency_objective = bound_value.Count() > 0 && binding.find("error rate") == std::string::npos;
  const double wait_share = latency_objective && bound_value.Mean() > 0 ? wait.Mean() / bound_value.Mean() : 0;
  j["connection_wait_share"] = wait_share;
  std::string resource, why;
  char buf[300];
  if (wait_share >= 0.5) {
    resource = "client connections";
    std::snprintf(buf, sizeof buf, "the wait for one of the %d client connections (p99 %.1f ms) is %.0f %% of %s", connections,
                  wait.Mean(), 100 * wait_share, binding.c_str());
    why = buf;
  } else if (util.Count() && util.Mean() >= 0.8) {
    resource = "broker CPU";
    std::snprintf(buf, sizeof buf, "the broker is %.0f %% busy", 100 * util.Mean());
    why = buf;
  } else if (binding.rfind("notification", 0) == 0) {
    resource = "notifier";
    why = "notification freshness binds while the broker's request path is not saturated";
  } else if (net.Mean() >= 0.5) {
    resource = "network";
    std::snprintf(buf, sizeof buf, "the simulated network is %.0f %% of the latency", 100 * net.Mean());
    why = buf;
  } else {
    resource = "broker latency below saturation";
    std::snprintf(buf, sizeof buf, "the broker is %s busy; the tail of its service times binds before the CPU does",
                  util.Count() ? (std::to_string(static_cast<int>(std::lround(100 * util.Mean()))) + " %").c_str() : "an unknown share");
    why = buf;
  }
  j["resource"] = resource;
  j["why"] = why;
  return j;
}

}  // namespace citybed::results
