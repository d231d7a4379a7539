// The capacity report (capacity.h: BuildCapacityHtml): one self-contained page from
// capacity.json, with the run report's charts and style (charts.h).
#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "citybed/results/capacity.h"
#include "citybed/results/charts.h"

namespace citybed::results {

using nlohmann::json;

namespace {

const char* kEmulationColor = "#c62828";

std::string ColorOf(const json& s, int i) {
  static const char* kOthers[] = {"#1565c0", "#6a1b9a", "#00838f", "#2e7d32", "#ef6c00"};
  if (s["mode"] == "emulation") return kEmulationColor;
  return kOthers[i % 5];
}

std::string LabelOf(const json& s) {
  return s["mode"].get<std::string>() + " K=" + std::to_string(s["instances"].get<int>()) +
         (s["projection"].get<bool>() ? " (projection)" : "");
}

double D(const json& j, const char* key, double fallback = 0) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : fallback;
}

// The probes of the search proper (not the spectrum or saturation extras), sorted by load.
std::vector<json> SearchProbes(const json& s, bool all = false) {
  std::vector<json> out;
  for (const json& p : s["probes"]) {
    const std::string phase = p.value("phase", "");
    if (all || (phase != "spectrum" && phase != "saturation")) out.push_back(p);
  }
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) { return D(a, "offered_rps") < D(b, "offered_rps"); });
  return out;
}

}  // namespace

std::string BuildCapacityHtml(const json& c) {
  std::ostringstream o;
  const std::string name = c["scenario"].value("name", "");
  o << "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>citybed capacity: " << Esc(name)
    << "</title><style>" << ReportStyle() << "pre{font-size:11px;background:#fafafa;padding:8px;overflow:auto}</style></head><body>";
  const json& v = c.value("verdict", json::object());
  const bool fits = v.value("fits", false);
  const int code = v.value("exit_code", 3);
  o << "<h1>Capacity of " << Esc(name) << " <span class=\"badge " << (code == 3 ? "none" : fits ? "ok" : "bad") << "\">"
    << (code == 3 ? "no valid measurement" : fits ? "the planned load fits" : "the planned load does NOT fit") << "</span></h1>";
  o << "<p>" << Esc(v.value("text", "")) << "</p>";

  // 1. Headline.
  const json& h = c.value("headline", json::object());
  o << "<h2>1. Headline</h2><table><tr><th>figure</th><th>value</th><th>what it is</th></tr>";
  auto row = [&](const std::string& k, const std::string& val, const std::string& what) {
    o << "<tr><td>" << Esc(k) << "</td><td>" << Esc(val) << "</td><td style=\"text-align:left\">" << Esc(what) << "</td></tr>";
  };
  if (!h.empty()) {
    row("λ*", AxisNumber(std::round(D(h, "lambda_rps"))) + " req/s (×" + Fmt(D(h, "lambda_multiplier"), 3) + ")",
        "the highest offered load (requests per broker second; × the city's demand) at which every SLO held with 95 % "
        "confidence and the system was stable, by " + h.value("basis", std::string()) +
            (h.value("confirmed", false) ? "; confirmed at 0.9 and 1.1 λ*" : "; NOT confirmed"));
    row("last success / first failure", "×" + Fmt(D(h, "last_success_multiplier"), 3) + " / ×" + Fmt(D(h, "first_failure_multiplier"), 3),
        "the bracket λ* lies in (multipliers of the city's demand)");
    if (h.contains("saturation_ok_rps")) row("saturation throughput", AxisNumber(std::round(D(h, "saturation_ok_rps"))) + " req/s", "the most 2xx answers per broker second any probe measured");
    row("headroom, normal day", Fmt(D(h, "headroom_day"), 1) + "×", "λ* over the planned peak of the day (" + Fmt(D(h, "planned_rps"), 1) + " req/s)");
    if (h.contains("headroom_disaster")) {
      row("headroom, disaster day", Fmt(D(h, "headroom_disaster"), 1) + "×",
          "λ* over the disaster day's peak (" + Fmt(D(h, "disaster_peak_rps"), 1) + " req/s; " +
              c["demand"]["disaster"].value("source", std::string()) + ")");
    } else {
      row("headroom, disaster day", "not measured",
          c["demand"].contains("disaster_not_applied") ? "the default disaster day does not apply: " + c["demand"]["disaster_not_applied"].get<std::string>()
                                                       : "no disaster day: give --disaster FILE");
    }
    if (h.contains("model_error")) row("model against emulation", Fmt(100 * D(h, "model_error"), 1) + " %", "(λ* model − λ* emulation) / λ* emulation");
    if (h.contains("binding_resource")) row("binding resource", h["binding_resource"].value("resource", ""), h["binding_resource"].value("why", ""));
  }
  for (const json& s : c["searches"]) {
    if (s.contains("unjudged_objectives") && !s["unjudged_objectives"].empty()) {
      row("not judged (" + LabelOf(s) + ")", s["unjudged_objectives"].dump(),
          "too few samples for the percentile at every load: λ* does not cover these objectives");
    }
  }
  row("calibration", c["calibration"].value("standing", std::string()), c["calibration"].value("file", std::string()) + " (sha256 " + c["calibration"].value("sha256", std::string()).substr(0, 12) + "…)");
  o << "</table><p class=\"note\">SLO set: " << Esc(c.value("slo", json::object()).dump()) << ". Demand of the city itself: "
    << Fmt(D(c["demand"], "reference_rps"), 1) << " req/s over the probes' window, day peak " << Fmt(D(c["demand"], "day_peak_rps"), 1)
    << " req/s at " << Esc(c["demand"].value("day_peak_local_time", std::string())) << ".</p>";

  // 2. Latency against offered load, per objective.
  std::vector<std::string> objectives;
  std::map<std::string, double> bounds;
  for (const json& s : c["searches"]) {
    for (const json& p : s["probes"]) {
      for (const json& ob : p["objectives"]) {
        const std::string n = ob.value("objective", "");
        if (!bounds.count(n)) objectives.push_back(n);
        bounds[n] = D(ob, "bound");
      }
    }
  }
  const double lambda_rps = D(h, "lambda_rps");
  std::vector<Marker> lambda_marker;
  if (lambda_rps > 0) lambda_marker.push_back({"λ*", lambda_rps});
  o << "<h2>2. SLO figures against offered load</h2><p class=\"note\">Means over the replications at each load with 95 % "
       "intervals; the dashed line is the SLO bound; λ* marked.</p>";
  for (const std::string& n : objectives) {
    std::vector<XySeries> series;
    int i = 0;
    for (const json& s : c["searches"]) {
      XySeries xs{LabelOf(s), ColorOf(s, i++), {}, s["mode"] == "model", true, true};
      for (const json& p : SearchProbes(s)) {
        for (const json& ob : p["objectives"]) {
          if (ob.value("objective", "") == n && ob["mean"].is_number()) {
            xs.points.push_back({D(p, "offered_rps"), ob["mean"].get<double>(), ob["ci95"].is_number() ? ob["ci95"].get<double>() : 0});
          }
        }
      }
      series.push_back(xs);
    }
    const bool rate = n.find("error rate") != std::string::npos;
    o << XyChart(n, "offered load, requests per broker second", rate ? "fraction failed" : "ms", series, !rate,
                 {{"bound " + AxisNumber(bounds[n]), bounds[n]}}, lambda_marker);
  }

  // 3. Achieved against offered; errors.
  {
    std::vector<XySeries> ok, errors;
    int i = 0;
    for (const json& s : c["searches"]) {
      const std::string color = ColorOf(s, i++);
      XySeries a{LabelOf(s), color, {}, s["mode"] == "model", true, true}, e{LabelOf(s), color, {}, s["mode"] == "model", true, true};
      for (const json& p : SearchProbes(s, true)) {
        a.points.push_back({D(p, "offered_rps"), D(p, "ok_rps")});
        e.points.push_back({D(p, "offered_rps"), 100 * D(p, "error_rate")});
      }
      ok.push_back(a);
      errors.push_back(e);
    }
    o << "<h2>3. Achieved against offered throughput</h2>";
    o << XyChart("2xx answers per broker second", "offered load, requests per broker second", "answers/s", ok, false, {}, lambda_marker);
    o << XyChart("errors", "offered load, requests per broker second", "% of requests failed", errors, false, {}, lambda_marker);
  }

  // 4. Percentile spectra at 50, 80 and 100 % of λ*.
  o << "<h2>4. Latency spectra at 50, 80 and 100 % of λ*</h2>";
  for (const json& s : c["searches"]) {
    const double lambda = D(s["lambda"], "multiplier");
    if (lambda <= 0) continue;
    std::string op;
    for (const json& p : s["probes"]) {
      if (D(p, "multiplier") == lambda) op = p.value("binding", "");
    }
    op = op.substr(0, op.find(' '));
    std::vector<Series> lines;
    const char* colors[] = {"#90caf9", "#1e88e5", "#0d47a1"};
    for (const json& p : s["probes"]) {
      const double m = D(p, "multiplier");
      const double share = p.contains("share_of_lambda") ? D(p, "share_of_lambda") : (m == lambda && p.value("phase", "") != "spectrum" ? 1.0 : -1);
      if (share < 0 || !p["latency_ms"].contains(op)) continue;
      const json& l = p["latency_ms"][op];
      Series line{Fmt(100 * share, 0) + " % of λ*", colors[share >= 1 ? 2 : share >= 0.8 ? 1 : 0], {}, false};
      line.points = {{50, D(l["p50"], "mean")}, {99, D(l["p99"], "mean")}, {99.9, D(l["p999"], "mean")}};
      lines.push_back(line);
    }
    if (!lines.empty()) o << SpectrumChart(LabelOf(s) + ": " + op + " latency by percentile", lines);
  }

  // 5. Resources against load.
  o << "<h2>5. Resources against load</h2>";
  {
    std::vector<XySeries> util, wait;
    int i = 0;
    for (const json& s : c["searches"]) {
      const std::string color = ColorOf(s, i++);
      XySeries u{LabelOf(s), color, {}, s["mode"] == "model", true, true}, w{LabelOf(s), color, {}, s["mode"] == "model", true, true};
      for (const json& p : SearchProbes(s, true)) {
        if (D(p, "broker_utilisation", -1) >= 0) u.points.push_back({D(p, "offered_rps"), D(p, "broker_utilisation")});
        w.points.push_back({D(p, "offered_rps"), D(p, "connection_wait_p99_ms")});
      }
      util.push_back(u);
      wait.push_back(w);
    }
    o << XyChart("broker utilisation (model: busy share of its servers; emulation: CPU seconds per second)",
                 "offered load, requests per broker second", "share", util, false, {}, lambda_marker);
    o << XyChart("wait for a client connection, p99", "offered load, requests per broker second", "ms", wait, false, {}, lambda_marker);
  }
  if (c["calibration"].contains("classes") && !c["calibration"]["classes"].empty()) {
    o << "<table><tr><th>class (calibration)</th><th>share of requests</th><th>handler time, mean ms</th>"
         "<th>CPU per request, mean ms</th></tr>";
    for (const auto& [cls, v] : c["calibration"]["classes"].items()) {
      o << "<tr><td>" << Esc(cls) << "</td><td>" << Fmt(100 * D(v, "share"), 1) << " %</td><td>" << Fmt(D(v, "service_ms"), 3)
        << "</td><td>" << Fmt(D(v, "cpu_ms"), 3) << "</td></tr>";
    }
    o << "</table><p class=\"note\">The service demand per class, measured one request at a time: what the model serves "
         "each request with (scaled by the CPU factor at the load's rate).</p>";
  }
  for (const json& s : c["searches"]) {
    if (!s.contains("binding_resource")) continue;
    const json& b = s["binding_resource"];
    o << "<p><b>" << Esc(LabelOf(s)) << "</b>: at the first failing load the binding resource is <b>" << Esc(b.value("resource", ""))
      << "</b> — " << Esc(b.value("why", "")) << ". Broker utilisation "
      << (b["broker_utilisation"].is_number() ? Fmt(100 * b["broker_utilisation"].get<double>(), 0) + " %" : std::string("unknown"))
      << ", connection wait p99 " << Fmt(D(b, "connection_wait_p99_ms"), 2) << " ms over " << b.value("connections", 0)
      << " connections, the simulated network " << Fmt(100 * D(b, "network_share"), 0) << " % of the latency.</p>";
  }

  // 6. Model against emulation.
  o << "<h2>6. Model against emulation</h2><table><tr><th>search</th><th>λ* req/s</th><th>first failure req/s</th>"
       "<th>saturation req/s</th><th>confirmed</th><th>probes</th><th>seconds</th></tr>";
  for (const json& s : c["searches"]) {
    o << "<tr><td>" << Esc(LabelOf(s)) << "</td><td>" << AxisNumber(std::round(D(s["lambda"], "offered_rps"))) << "</td><td>"
      << AxisNumber(std::round(D(s["lambda"], "first_fail_offered_rps"))) << "</td><td>"
      << (s.contains("saturation") ? AxisNumber(std::round(D(s["saturation"], "ok_rps"))) : std::string("—")) << "</td><td>"
      << (s["confirmed"].get<bool>() ? "yes" : "no") << "</td><td>" << s["probes"].size() << "</td><td>" << Fmt(D(s, "seconds"), 0)
      << "</td></tr>";
  }
  o << "</table>";
  if (h.contains("model_error")) o << "<p>The model's λ* is " << Fmt(100 * D(h, "model_error"), 1) << " % off the emulation's.</p>";

  // 7. Stationarity of the λ* probe.
  o << "<h2>7. Stationarity of the λ* probe</h2>";
  for (const json& s : c["searches"]) {
    if (!s.contains("stationarity")) continue;
    const json& st = s["stationarity"];
    Series ok{"2xx answers per second", "#2e7d32", {}, false}, p99{"p99 ms", "#c62828", {}, false};
    double end = 0;
    for (const json& r : st["series"]) {
      ok.points.push_back({r[0].get<double>(), r[1].get<double>()});
      p99.points.push_back({r[0].get<double>(), r[2].get<double>()});
      end = std::max(end, r[0].get<double>());
    }
    TimeAxis axis;
    axis.end_s = end;
    o << LineChart(LabelOf(s) + ": throughput at λ* (broker seconds from the end of the warm-up)", "answers/s", {ok}, axis);
    o << LineChart(LabelOf(s) + ": p99 per interval at λ*", "ms", {p99}, axis, true);
    o << "<p class=\"note\">MSER-5 would cut " << st.value("mser5_cut_intervals", 0) << " of " << st.value("intervals", 0)
      << " measured intervals; outstanding requests' trend " << Fmt(D(st, "outstanding_slope_per_s"), 2) << "/s (t = "
      << (st["outstanding_t"].is_number() ? Fmt(D(st, "outstanding_t"), 1) : std::string("∞ (a straight line)")) << "); " << Fmt(100 * D(st, "flow_balance"), 2) << " % of offered requests completed.</p>";
  }

  // 8. The planner's translation.
  if (c.contains("planner")) {
    const json& p = c["planner"];
    o << "<h2>8. The planner's translation</h2><table><tr><th>figure</th><th>value</th></tr>";
    auto prow = [&](const std::string& k, const std::string& val) { o << "<tr><td>" << Esc(k) << "</td><td>" << Esc(val) << "</td></tr>"; };
    prow("peak demand per region (this scenario's regions)", Fmt(D(p, "peak_rps_per_region"), 2) + " req/s");
    prow("peak demand per 100,000 inhabitants", Fmt(D(p, "peak_rps_per_100k_inhabitants"), 2) + " req/s");
    prow("regions one instance carries at λ*", Fmt(D(p, "regions_per_instance_at_lambda"), 1));
    prow("regions one instance carries at " + Fmt(100 * D(p, "target_utilisation"), 0) + " % of λ*", Fmt(D(p, "regions_per_instance_at_target"), 1));
    prow("instances for " + std::to_string(p.value("rollout_regions", 0)) + " regions (N+1)", Fmt(D(p, "instances_for_rollout", -1), 0));
    if (p.contains("instances_for_disaster_day")) prow("… on the disaster day (N+1)", Fmt(D(p, "instances_for_disaster_day", -1), 0));
    for (const json& k : p["scaling_model"]) {
      prow("model: λ* with " + std::to_string(k.value("instances", 0)) + " instance(s)" + (k.value("projection", false) ? " (projection)" : ""),
           AxisNumber(std::round(D(k, "lambda_rps"))) + " req/s, scaling efficiency " + Fmt(100 * D(k, "efficiency"), 0) + " %");
    }
    if (p.contains("scaling_emulation")) {
      for (const json& k : p["scaling_emulation"]) {
        std::string v = AxisNumber(std::round(D(k, "lambda_rps"))) + " req/s";
        if (k["efficiency"].is_number()) v += ", scaling efficiency " + Fmt(100 * D(k, "efficiency"), 0) + " %";
        if (k.contains("model_error")) v += ", model " + Fmt(100 * D(k, "model_error"), 1) + " % off";
        prow("emulation: λ* with " + std::to_string(k.value("instances", 0)) + " instance(s)", v);
      }
    }
    o << "</table><p class=\"note\">" << Esc(p.value("rule", "")) << "</p>";
    if (c.contains("emulation_skipped")) {
      for (const json& k : c["emulation_skipped"]) o << "<p class=\"note\">" << Esc(k.value("why", "")) << "</p>";
    }
  }

  // Every probe.
  o << "<h2>Probes</h2><table><tr><th>search</th><th>phase</th><th>×</th><th>offered/s</th><th>2xx/s</th><th>reps</th>"
       "<th>verdict</th><th>binding objective</th><th>why</th></tr>";
  for (const json& s : c["searches"]) {
    for (const json& p : s["probes"]) {
      std::string binding = p.value("binding", "");
      for (const json& ob : p["objectives"]) {
        if (ob.value("objective", "") == binding && ob["mean"].is_number()) {
          binding += ": " + AxisNumber(ob["mean"].get<double>()) + (ob["ci95"].is_number() ? " ± " + AxisNumber(ob["ci95"].get<double>()) : "");
        }
      }
      o << "<tr><td>" << Esc(LabelOf(s)) << "</td><td>" << Esc(p.value("phase", "")) << "</td><td>" << Fmt(D(p, "multiplier"), 4)
        << "</td><td>" << AxisNumber(std::round(D(p, "offered_rps"))) << "</td><td>" << AxisNumber(std::round(D(p, "ok_rps")))
        << "</td><td>" << p.value("valid", 0) << "/" << p.value("replications", 0) << "</td><td>" << Esc(p.value("verdict", ""))
        << "</td><td>" << Esc(binding) << "</td><td style=\"text-align:left\">" << Esc(p.value("reason", "")) << "</td></tr>";
    }
  }
  o << "</table>";

  // 9. Manifest.
  o << "<h2>9. Manifest</h2><pre>" << Esc(json{{"scenario", c.value("scenario", json())}, {"calibration", c.value("calibration", json())},
                                              {"settings", c.value("settings", json())}, {"manifest", c.value("manifest", json())}}
                                            .dump(2))
    << "</pre></body></html>\n";
  return o.str();
}

}  // namespace citybed::results
