// report.html: one self-contained page (inline CSS and SVG, no scripts, no network). Every
// number in its tables is read from summary.json, so the page and the file cannot disagree; the
// charts are drawn from the recorder's time series.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "citybed/common/strings.h"
#include "citybed/results/charts.h"
#include "citybed/results/run_output.h"
#include "format.h"

namespace citybed::results {

using nlohmann::json;

namespace {

const char* kPalette[] = {"#4c78a8", "#f58518", "#54a24b", "#e45756", "#b279a2", "#72b7b2", "#9d755d", "#bab0ac"};

std::string Count(const json& v) { return v.is_number() ? v.dump() : "–"; }

// "12.34 ms (n=1,234)"
std::string MsCell(const json& latency, const char* key) {
  return Fmt(latency[key].get<double>(), 2);
}

// 1234567 -> "1,234,567"
std::string Thousands(uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

std::string Percent(double x, int decimals = 2) { return Fmt(x * 100, decimals) + " %"; }

// Latency objectives on all requests whose percentile first exceeded their bound in an interval
// of the measurement window: where the report puts a marker.
std::vector<Marker> FirstBreaks(const json& summary, const Recorder& rec, std::vector<Threshold>& thresholds) {
  std::vector<Marker> markers;
  const double step = rec.options().interval.seconds();
  const double from = summary["window"]["from_s"].get<double>(), to = summary["window"]["to_s"].get<double>();
  for (const json& o : summary["slo"]) {
    if (!o.contains("bound_ms")) continue;
    const std::string op = o["operation"].get<std::string>();
    const double bound = o["bound_ms"].get<double>(), p = o["percentile"].get<double>();
    thresholds.push_back({o["objective"].get<std::string>(), bound});
    if (op != "all") continue;  // interval histograms hold every operation together
    for (size_t i = 0; i < rec.intervals().size(); ++i) {
      const double t = static_cast<double>(i) * step;
      if (t < from || t >= to) continue;
      const auto& h = rec.intervals()[i].latency;
      if (h.Count() >= SamplesNeeded(p) && MsExact(h.ValueAtPercentile(p)) > bound) {
        markers.push_back({"first break of " + o["objective"].get<std::string>(), t + step / 2});
        break;
      }
    }
  }
  return markers;
}

void Table(std::ostringstream& o, const std::vector<std::string>& head) {
  o << "<table><tr>";
  for (const std::string& h : head) o << "<th>" << h << "</th>";
  o << "</tr>";
}

std::string FailuresText(const json& st) {
  const json& f = st["failures"];
  std::string out;
  auto add = [&](const std::string& what, uint64_t n) {
    if (n > 0) out += (out.empty() ? "" : ", ") + what + " " + Thousands(n);
  };
  for (auto it = f["status"].begin(); it != f["status"].end(); ++it) add("HTTP " + it.key(), it.value().get<uint64_t>());
  add("timeout", f["timeout"].get<uint64_t>());
  for (auto it = f["connection"].begin(); it != f["connection"].end(); ++it) add(it.key(), it.value().get<uint64_t>());
  add("network", f["network"].get<uint64_t>());
  add("cancelled", f["cancelled"].get<uint64_t>());
  return out.empty() ? "0" : out;
}

void SliceRow(std::ostringstream& o, const std::string& name, const json& st) {
  const json& l = st["latency_ms"];
  o << "<tr><td>" << Esc(name) << "</td><td>" << Thousands(st["scheduled"].get<uint64_t>()) << "</td><td>"
    << Thousands(st["ok"].get<uint64_t>()) << "</td><td>" << Esc(FailuresText(st)) << "</td><td>"
    << Fmt(st["throughput"]["ok_per_simulated_s"].get<double>(), 1) << "</td><td>" << MsCell(l, "p50") << "</td><td>"
    << MsCell(l, "p90") << "</td><td>" << MsCell(l, "p99") << "</td><td>" << MsCell(l, "p999") << "</td><td>"
    << MsCell(l, "max") << "</td><td>" << Thousands(l["count"].get<uint64_t>()) << "</td><td>"
    << Percent(st["network_share"].get<double>(), 0) << "</td></tr>";
}

const std::vector<std::string> kSliceHead = {"", "scheduled", "ok", "failed (cause)", "ok/s (sim)", "p50 ms", "p90 ms",
                                             "p99 ms", "p99.9 ms", "max ms", "samples", "network share"};

}  // namespace

std::string BuildReportHtml(const json& summary, const json& manifest, const Recorder& rec) {
  const double step = rec.options().interval.seconds();
  const json& win = summary["window"];
  const bool valid = summary["valid"].get<bool>(), measured = summary["measured"].get<bool>();
  std::ostringstream o;
  o << "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>citybed run: "
    << Esc(summary["scenario"].get<std::string>()) << "</title><style>"
    << ReportStyle() << "</style></head><body>";

  // ---- headline ----
  const std::string verdict = summary["slo_verdict"].get<std::string>();
  o << "<h1>" << Esc(summary["scenario"].get<std::string>()) << " <span class=\"badge " << (valid ? "ok" : "bad") << "\">"
    << (valid ? "valid run" : "INVALID run") << "</span> ";
  if (measured && verdict != "none") {
    const char* cls = verdict == "pass" ? "ok" : verdict == "fail" ? "bad" : "warn";
    const char* text = verdict == "pass" ? "SLOs met" : verdict == "fail" ? "SLO failed" : "SLO: not enough data";
    o << "<span class=\"badge " << cls << "\">" << text << "</span>";
  }
  o << "</h1><p class=\"note\">citybed " << Esc(manifest["citybed"]["version"].get<std::string>()) << " ("
    << Esc(manifest["citybed"]["commit"].get<std::string>()) << "), started " << Esc(manifest["started_utc"].get<std::string>())
    << ", broker " << Esc(manifest["broker"]["url"].get<std::string>()) << ", seed " << manifest["scenario"]["seed"].dump()
    << ", speed " << win["speed"].dump() << ", scenario sha256 "
    << Esc(manifest["scenario"]["sha256"].get<std::string>().substr(0, 12)) << "&hellip;</p>";
  if (!valid) {
    o << "<div class=\"box\"><p><b>This run is not a measurement of the broker:</b></p><ul>";
    for (const auto& reason : summary["invalid_reasons"]) o << "<li>" << Esc(reason.get<std::string>()) << "</li>";
    o << "</ul></div>";
  }
  if (!measured) {
    o << "<div class=\"box\"><p><b>Nothing was measured.</b> "
      << Esc(win.contains("note") ? win["note"].get<std::string>() : std::string("No request was made in the measurement window."))
      << " No SLO verdict is given.</p></div>";
  }
  if (summary.contains("host") && summary["host"].contains("warning")) {
    o << "<div class=\"box\"><p><b>The machine was busy:</b> " << Esc(summary["host"]["warning"].get<std::string>()) << "</p></div>";
  }

  // ---- the summary table ----
  const json& req = summary["requests"];
  const json& lat = req["latency_ms"];
  o << "<h2>Summary</h2>";
  Table(o, {"window (simulated s)", "scheduled", "sent", "ok", "failed", "ok/s per simulated s", "ok/s per wall s", "p50 ms",
            "p99 ms", "p99.9 ms", "max ms", "samples"});
  o << "<tr><td>" << Fmt(win["from_s"].get<double>(), 0) << "&ndash;" << Fmt(win["to_s"].get<double>(), 0) << "</td><td>"
    << Thousands(req["scheduled"].get<uint64_t>()) << "</td><td>" << Thousands(req["sent"].get<uint64_t>()) << "</td><td>"
    << Thousands(req["ok"].get<uint64_t>()) << "</td><td>" << Thousands(req["failed"].get<uint64_t>()) << "</td><td>"
    << Fmt(req["throughput"]["ok_per_simulated_s"].get<double>(), 1) << "</td><td>"
    << Fmt(req["throughput"]["ok_per_wall_s"].get<double>(), 1) << "</td><td>" << MsCell(lat, "p50") << "</td><td>"
    << MsCell(lat, "p99") << "</td><td>" << MsCell(lat, "p999") << "</td><td>" << MsCell(lat, "max") << "</td><td>"
    << Thousands(lat["count"].get<uint64_t>()) << "</td></tr></table>";
  o << "<p class=\"note\">Every request the scenario asked for counts, by its intended send time in the window: latency runs "
       "from that time (open loop) to the answer back at the requester — simulated uplink and downlink plus the broker's real "
       "response time; a failed request counts at the latency it failed at, a timed-out one at the timeout, a cancelled one "
       "at the run's end. Success-only percentiles are in summary.json (latency_ok_ms). Rates per simulated second are the "
       "scenario's; per wall second what the broker saw (speed "
    << win["speed"].dump() << "). Percentiles within " << Percent(summary["histograms"]["relative_error"].get<double>(), 2)
    << ".</p>";

  // ---- SLOs ----
  if (measured && !summary["slo"].empty()) {
    o << "<h2>Service-level objectives</h2>";
    Table(o, {"objective", "measured", "samples", "needed", "verdict"});
    for (const json& obj : summary["slo"]) {
      std::string measured_text = "–";
      if (obj.contains("measured_ms") && !obj["measured_ms"].is_null()) measured_text = Fmt(obj["measured_ms"].get<double>(), 2) + " ms";
      if (obj.contains("measured") && !obj["measured"].is_null()) measured_text = Percent(obj["measured"].get<double>(), 3);
      const std::string v = obj["verdict"].get<std::string>();
      o << "<tr><td>" << Esc(obj["objective"].get<std::string>()) << "</td><td>" << measured_text << "</td><td>"
        << Count(obj["samples"]) << "</td><td>" << (obj.contains("samples_needed") ? Count(obj["samples_needed"]) : "1")
        << "</td><td>" << (v == "fail" ? "<b>FAIL</b>" : Esc(v)) << "</td></tr>";
    }
    o << "</table><p class=\"note\">A percentile p is judged on at least 1/(1 &minus; p) samples (100 for p99); fewer give "
         "&ldquo;not enough data&rdquo;, never a pass. Notification freshness counts notifications that never arrived as "
         "failures.</p>";
  }

  // ---- charts over time ----
  const TimeAxis axis{win["planned_to_s"].get<double>(), win["from_s"].get<double>(), rec.options().start_hour,
                      static_cast<double>(rec.intervals().size()) * step};
  Series offered{"offered/s", "#9e9e9e", {}, true}, ok{"ok/s (completed)", "#4c78a8", {}}, failed{"failed/s", "#e45756", {}},
      notes{"notifications/s", "#54a24b", {}};
  Series outstanding{"outstanding requests", "#6a1b9a", {}}, waited{"requests that waited for a connection /s", "#f58518", {}};
  Series wait_mean{"mean connection wait (ms)", "#f58518", {}}, wait_max{"max connection wait (ms)", "#e45756", {}, true};
  Series p50{"p50", "#4c78a8", {}}, p99{"p99", "#f58518", {}}, pmax{"max", "#e45756", {}, true};
  Series cpu{"embedded broker CPU (share of one core)", "#6a1b9a", {}};
  int64_t offered_sum = 0, completed_sum = 0;
  for (size_t i = 0; i < rec.intervals().size(); ++i) {
    const Interval& in = rec.intervals()[i];
    const double len = rec.IntervalLength(i).seconds();
    const double t = rec.IntervalStart(i).seconds() + len / 2;
    offered_sum += static_cast<int64_t>(in.offered_total());
    completed_sum += static_cast<int64_t>(in.ok + in.failed);
    offered.points.emplace_back(t, static_cast<double>(in.offered_total()) / len);
    ok.points.emplace_back(t, static_cast<double>(in.ok) / len);
    failed.points.emplace_back(t, static_cast<double>(in.failed) / len);
    notes.points.emplace_back(t, static_cast<double>(in.notifications) / len);
    outstanding.points.emplace_back(t, static_cast<double>(std::max<int64_t>(0, offered_sum - completed_sum)));
    waited.points.emplace_back(t, static_cast<double>(in.waited) / len);
    wait_mean.points.emplace_back(t, in.waited ? MsExact(in.wait_sum_ns) / static_cast<double>(in.waited) : 0.0);
    wait_max.points.emplace_back(t, MsExact(in.wait_max_ns));
    if (in.broker_wall_seconds > 0) cpu.points.emplace_back(t, in.broker_cpu_seconds / in.broker_wall_seconds);
    if (in.latency.Count() > 0) {
      p50.points.emplace_back(t, MsExact(in.latency.ValueAtPercentile(50)));
      p99.points.emplace_back(t, MsExact(in.latency.ValueAtPercentile(99)));
      pmax.points.emplace_back(t, MsExact(in.latency.Max()));
    }
  }
  o << "<h2>Load over time</h2>"
    << LineChart("offered (by intended send time) and completed (by completion time) per simulated second", "per second",
                 {offered, ok, failed, notes}, axis);
  o << "<p class=\"note\">When completions fall below the offered rate the broker is building a backlog; the shaded band "
       "at the right is the drain, when answers and notifications still arrive after the run's end.</p>";
  o << LineChart("backlog: requests offered and not yet completed", "requests", {outstanding}, axis);
  o << LineChart("connection waits (the broker kept every connection busy)", "ms", {wait_mean, wait_max}, axis);
  if (!cpu.points.empty()) o << LineChart("the embedded broker's CPU, sampled every wall second", "share of a core", {cpu}, axis);
  std::vector<Threshold> thresholds;
  const std::vector<Marker> breaks = FirstBreaks(summary, rec, thresholds);
  o << "<h2>Latency over time</h2>"
    << LineChart("latency of the requests completed in each interval, every outcome (ms, log scale)", "ms", {p50, p99, pmax},
                 axis, true, thresholds, breaks);
  if (!thresholds.empty()) {
    o << "<p class=\"note\">Dashed red lines: the latency SLO bounds (each for its own operation and percentile); a purple "
         "line marks the first interval where an objective on all requests broke.</p>";
  }

  // ---- by operation ----
  std::vector<std::pair<std::string, std::array<double, 3>>> bars;
  std::vector<Series> spectra;
  size_t color = 0;
  for (size_t k = 0; k < kOps; ++k) {
    const auto op = static_cast<models::OpKind>(k);
    const RequestStats& st = rec.operation(op);
    if (st.scheduled == 0) continue;
    const std::string name(models::OpKindName(op));
    const json& l = summary["operations"][name]["latency_ms"];
    bars.push_back({name, {l["p50"].get<double>(), l["p99"].get<double>(), l["p999"].get<double>()}});
    Series s{name, kPalette[color++ % 8], {}};
    for (double p : {0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99}) {
      s.points.emplace_back(p, std::max(1e-3, MsExact(st.latency.ValueAtPercentile(p))));
    }
    spectra.push_back(std::move(s));
  }
  if (rec.freshness().Count() > 0) {
    const json& l = summary["notifications"]["freshness_ms"];
    bars.push_back({"notification", {l["p50"].get<double>(), l["p99"].get<double>(), l["p999"].get<double>()}});
  }
  o << "<h2>Latency by operation</h2>" << BarChart("latency percentiles, every request (ms, log scale)", bars);
  Table(o, kSliceHead);
  for (auto it = summary["operations"].begin(); it != summary["operations"].end(); ++it) SliceRow(o, it.key(), it.value());
  o << "</table><p class=\"note\">Network share: the simulated network's part of the mean latency; the rest is the "
       "broker's answer, connection waits included.</p>";
  if (!spectra.empty()) {
    o << "<h2>Response-time distribution</h2>" << SpectrumChart("latency by percentile, every request (ms, log scale)", spectra);
  }
  if (!summary["named_requests"].empty()) {
    o << "<h2>Named requests</h2>";
    Table(o, kSliceHead);
    for (auto it = summary["named_requests"].begin(); it != summary["named_requests"].end(); ++it) SliceRow(o, it.key(), it.value());
    o << "</table>";
  }

  // ---- errors ----
  o << "<h2>Errors</h2>";
  if (summary["errors"].empty()) {
    o << "<p>No request failed in the measurement window.</p>";
  } else {
    Table(o, {"cause", "count", "first (s)", "last (s)"});
    for (const json& e : summary["errors"]) {
      o << "<tr><td>" << Esc(e["cause"].get<std::string>()) << "</td><td>" << Thousands(e["count"].get<uint64_t>()) << "</td><td>"
        << Fmt(e["first_s"].get<double>(), 3) << "</td><td>" << Fmt(e["last_s"].get<double>(), 3) << "</td></tr>";
    }
    o << "</table>";
  }

  // ---- notifications ----
  const json& n = summary["notifications"];
  o << "<h2>Notifications</h2><p>" << Thousands(n["received"].get<uint64_t>()) << " received (" << Thousands(n["entities"].get<uint64_t>())
    << " entities) on " << n["subscriptions"].dump() << " subscriptions (" << n["subscriptions_failed"].dump() << " refused); ";
  if (n["broker"].is_object()) {
    o << "the broker triggered " << Thousands(n["broker"]["triggered"].get<uint64_t>()) << ", dropped "
      << n["broker"]["dropped"].dump() << ", failed to deliver " << n["broker"]["failed"].dump() << "; <b>missing "
      << Thousands(n["missing"].get<uint64_t>()) << "</b>";
  } else {
    o << "the broker does not say how many it sent, so missing ones are unknown";
  }
  o << "; " << n["lost_on_network"].dump() << " lost on the simulated network. Freshness p50 "
    << MsCell(n["freshness_ms"], "p50") << " ms, p99 " << MsCell(n["freshness_ms"], "p99") << " ms over "
    << Thousands(n["freshness_ms"]["count"].get<uint64_t>()) << " samples (missing ones counted as failures).</p>";

  // ---- what users got back (cross-region reads, federation) ----
  if (summary.contains("interoperability") && summary["interoperability"].is_object()) {
    const json& io = summary["interoperability"];
    o << "<h2>What users got back</h2><p>Reads that crossed regions";
    if (summary.contains("federation")) {
      const json& f = summary["federation"];
      o << " and every read of this federation (" << Esc(f["topology"].get<std::string>()) << " topology, "
        << f["sites"].dump() << " brokers, " << f["registrations"].dump() << " registrations";
      if (f.contains("relay")) {
        o << "; " << Thousands(f["relay"]["messages"].get<uint64_t>()) << " broker-to-broker requests through the backbone relay, "
          << f["relay"]["faulted"].dump() << " met a fault";
      }
      o << ")";
    }
    o << ", compared with what the simulation knows exists (docs/federation.md). Recall: share of the expected entities "
         "returned (a failed read returns none); partial: answers that named sources they could not reach.</p>";
    Table(o, {"reads", "count", "ok", "recall", "complete", "precision", "partial", "duplicates", "staleness p99 (s)", "p50 ms",
              "p99 ms"});
    auto row = [&](const std::string& name, const json& x) {
      auto num = [&](const char* k, int digits) { return x.contains(k) ? Fmt(x[k].get<double>(), digits) : std::string("–"); };
      o << "<tr><td>" << Esc(name) << "</td><td>" << Thousands(x["reads"].get<uint64_t>()) << "</td><td>"
        << Thousands(x["ok"].get<uint64_t>()) << "</td><td>" << num("recall", 4) << "</td><td>" << num("complete_share", 4)
        << "</td><td>" << num("precision", 4) << "</td><td>" << Fmt(x["partial_share"].get<double>(), 4) << "</td><td>"
        << Thousands(x["duplicates"].get<uint64_t>()) << "</td><td>"
        << (x.contains("staleness_s") ? Fmt(x["staleness_s"]["p99"].get<double>(), 3) : std::string("–")) << "</td><td>"
        << MsCell(x["latency_ms"], "p50") << "</td><td>" << MsCell(x["latency_ms"], "p99") << "</td></tr>";
    };
    row("all", io);
    for (auto it = io["by_pair"].begin(); it != io["by_pair"].end(); ++it) row(it.key(), it.value());
    for (auto it = io["by_operation"].begin(); it != io["by_operation"].end(); ++it) row(it.key(), it.value());
    o << "</table>";
  }

  // ---- regions and domains ----
  o << "<h2>Regions</h2>";
  Table(o, {"region", "sources", "entities", "scheduled", "ok", "failed", "ok/s (sim)", "p50 ms", "p99 ms", "max ms"});
  for (auto it = summary["regions"].begin(); it != summary["regions"].end(); ++it) {
    const json& st = it.value();
    o << "<tr><td>" << Esc(it.key()) << "</td><td>" << Thousands(st["sources"].get<uint64_t>()) << "</td><td>"
      << Thousands(st["entities"].get<uint64_t>()) << "</td><td>" << Thousands(st["scheduled"].get<uint64_t>()) << "</td><td>"
      << Thousands(st["ok"].get<uint64_t>()) << "</td><td>" << Thousands(st["failed"].get<uint64_t>()) << "</td><td>"
      << Fmt(st["throughput"]["ok_per_simulated_s"].get<double>(), 1) << "</td><td>" << MsCell(st["latency_ms"], "p50")
      << "</td><td>" << MsCell(st["latency_ms"], "p99") << "</td><td>" << MsCell(st["latency_ms"], "max") << "</td></tr>";
  }
  o << "</table>";
  std::vector<Series> by_domain;
  for (size_t d = 0; d < rec.options().domains.size(); ++d) {
    Series s{rec.options().domains[d], kPalette[d % 8], {}};
    uint64_t any = 0;
    for (size_t i = 0; i < rec.intervals().size(); ++i) {
      const uint64_t c = d < rec.intervals()[i].domains.size() ? rec.intervals()[i].domains[d] : 0;
      any += c;
      const double len = rec.IntervalLength(i).seconds();
      s.points.emplace_back(rec.IntervalStart(i).seconds() + len / 2, static_cast<double>(c) / len);
    }
    if (any > 0) by_domain.push_back(std::move(s));
  }
  if (!summary["domains"].empty()) {
    o << "<h2>Service domains</h2>";
    if (!by_domain.empty()) o << LineChart("source writes per simulated second by domain (log scale)", "per second", by_domain, axis, true);
    Table(o, {"domain", "sources", "entities", "writes", "ok", "p50 ms", "p99 ms"});
    for (auto it = summary["domains"].begin(); it != summary["domains"].end(); ++it) {
      const json& st = it.value();
      o << "<tr><td>" << Esc(it.key()) << "</td><td>" << Thousands(st["sources"].get<uint64_t>()) << "</td><td>"
        << Thousands(st["entities"].get<uint64_t>()) << "</td><td>" << Thousands(st["scheduled"].get<uint64_t>()) << "</td><td>"
        << Thousands(st["ok"].get<uint64_t>()) << "</td><td>" << MsCell(st["latency_ms"], "p50") << "</td><td>"
        << MsCell(st["latency_ms"], "p99") << "</td></tr>";
    }
    o << "</table>";
  }

  // ---- health ----
  const json& g = summary["generator"];
  const json& c = summary["connections"];
  o << "<h2>Who was slow: citybed or the broker</h2><p><b>citybed</b> (the generator): executor lag p"
    << g["lag_percentile"].dump() << " " << Fmt(g["lag_ms"].get<double>(), 3) << " ms against a bound of "
    << Fmt(g["lag_bound_ms"].get<double>(), 3) << " ms (" << Esc(g["lag_rule"].get<std::string>()) << ")";
  if (!g["share_of_tightest_slo"].is_null()) o << ", " << Percent(g["share_of_tightest_slo"].get<double>(), 2) << " of the tightest SLO";
  o << "; max " << Fmt(g["max_lag_ms"].get<double>(), 3) << " ms over " << Thousands(g["events"].get<uint64_t>())
    << " events. <b>The broker</b>: at most " << Thousands(c["max_outstanding"].get<uint64_t>()) << " requests outstanding on "
    << c["connections"].dump() << " connections; " << Thousands(c["requests"].get<uint64_t>())
    << " requests measured, connection wait p99 " << Fmt(c["wait_p99_ms"].get<double>(), 3) << " ms, max "
    << Fmt(c["wait_max_ms"].get<double>(), 3) << " ms (every connection was busy with a request at the broker).</p>";
  if (summary.contains("broker_resources") && !summary["broker_resources"].empty()) {
    const json& b = summary["broker_resources"];
    o << "<p>Embedded broker: ";
    if (b.contains("cpu_seconds")) o << Fmt(b["cpu_seconds"].get<double>(), 2) << " CPU s";
    if (b.contains("cpu_share")) o << " (" << Percent(b["cpu_share"].get<double>(), 1) << " of one core over the run)";
    if (b.contains("rss_mib")) o << ", resident memory " << Fmt(b["rss_mib"].get<double>(), 1) << " MiB (citybed's process)";
    o << ".</p>";
  }
  if (summary.contains("host") && summary["host"].contains("load_avg_1m")) {
    const json& h = summary["host"];
    o << "<p class=\"note\">Host: load average " << Fmt(h["load_avg_1m"].get<double>(), 2) << " (1 min) on "
      << h["cores"].dump() << " cores at the end; CPU steal " << Percent(h.value("steal_share", 0.0), 2)
      << " of the run; other processes used " << Percent(h.value("others_share", 0.0), 1) << " of the machine's CPU.</p>";
  }
  o << "<p class=\"note\">" << Thousands(summary["sources"].get<uint64_t>()) << " sources ("
    << Thousands(summary["entities"].get<uint64_t>()) << " entities written), " << Thousands(summary["users"].get<uint64_t>())
    << " users. Files: summary.json, timeseries.csv (+ timeseries.csv-metadata.json), manifest.json; docs/results.md "
       "says what every number means.</p></body></html>\n";
  return o.str();
}

}  // namespace citybed::results
