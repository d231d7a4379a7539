#include "citybed/results/run_output.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "citybed/common/file.h"
#include "citybed/common/sha256.h"
#include "citybed/common/strings.h"
#include "citybed/common/version.h"

namespace citybed::results {

using nlohmann::json;

namespace {

uint64_t Lookup(const std::map<std::string, uint64_t>& m, const std::string& key) {
  const auto it = m.find(key);
  return it == m.end() ? 0 : it->second;
}

double Ms(int64_t ns) { return std::round(static_cast<double>(ns) / 1e3) / 1e3; }

std::string ReadFirstLineWith(const std::string& path, const std::string& prefix) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (StartsWith(line, prefix)) return line.substr(prefix.size());
  }
  return "";
}

json Machine() {
  json m;
  m["cores"] = sysconf(_SC_NPROCESSORS_ONLN);
  const std::string mem = ReadFirstLineWith("/proc/meminfo", "MemTotal:");
  m["memory_kib"] = mem.empty() ? 0 : std::stoll(std::string(Trim(mem)));
  std::string os = ReadFirstLineWith("/etc/os-release", "PRETTY_NAME=");
  if (os.size() >= 2 && os.front() == '"') os = os.substr(1, os.size() - 2);
  m["os"] = os;
  utsname u{};
  if (uname(&u) == 0) {
    m["kernel"] = std::string(u.release);
    m["arch"] = std::string(u.machine);
  }
  m["cpu"] = Trim(ReadFirstLineWith("/proc/cpuinfo", "model name\t:"));
  return m;
}

std::string Esc(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string Fmt(double v, int decimals = 2) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// An axis label with no more decimals than it needs: 0, 750, 2.5, 0.01, 1,000.
std::string AxisNumber(double v) {
  int decimals = 0;
  while (decimals < 3 && std::abs(v * std::pow(10, decimals) - std::round(v * std::pow(10, decimals))) > 1e-9) ++decimals;
  std::string s = Fmt(v, decimals);
  if (decimals == 0 && std::abs(v) >= 1000) {
    for (int k = static_cast<int>(s.size()) - 3; k > (s[0] == '-' ? 1 : 0); k -= 3) s.insert(static_cast<size_t>(k), ",");
  }
  return s;
}

// A line chart as inline SVG: x in seconds, one or more series.
struct Series {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;
  bool dashed = false;
};

// The time axis of a run's charts: seconds from the start, to the run's end; labelled as local
// clock time when start_hour >= 0; the warm-up shaded.
struct TimeAxis {
  double end_s = 0;
  double warmup_s = 0;
  double start_hour = -1;
};

std::string LineChart(const std::string& title, const std::string& y_label, const std::vector<Series>& series,
                      const TimeAxis& axis, bool log_y = false) {
  const double w = 720, h = 240, left = 64, right = 28, top = 28, bottom = 36;
  const double warmup_s = axis.warmup_s, start_hour = axis.start_hour;
  double x_max = std::max(1.0, axis.end_s), y_max = 0, y_min = log_y ? 1e300 : 0;
  for (const Series& s : series) {
    for (auto [x, y] : s.points) {
      x_max = std::max(x_max, x);
      y_max = std::max(y_max, y);
      if (log_y && y > 0) y_min = std::min(y_min, y);
    }
  }
  if (y_max <= 0) y_max = 1;
  if (log_y) {
    if (y_min > y_max) y_min = y_max / 10;
    y_min = std::pow(10, std::floor(std::log10(y_min)));
    y_max = std::pow(10, std::ceil(std::log10(y_max)));
  } else {
    const double mag = std::pow(10, std::floor(std::log10(y_max)));
    y_max = std::ceil(y_max / mag) * mag;
  }
  auto X = [&](double x) { return left + (w - left - right) * x / x_max; };
  auto Y = [&](double y) {
    double f = log_y ? (std::log10(std::max(y, y_min)) - std::log10(y_min)) / (std::log10(y_max) - std::log10(y_min)) : y / y_max;
    return top + (h - top - bottom) * (1 - f);
  };
  std::ostringstream o;
  o << "<svg viewBox=\"0 0 " << w << " " << h << "\" class=\"chart\" role=\"img\" aria-label=\"" << Esc(title) << "\">";
  o << "<text x=\"" << left << "\" y=\"16\" class=\"title\">" << Esc(title) << "</text>";
  if (warmup_s > 0) {
    o << "<rect x=\"" << X(0) << "\" y=\"" << top << "\" width=\"" << X(warmup_s) - X(0) << "\" height=\"" << h - top - bottom
      << "\" class=\"warmup\"><title>warm-up (not in the summary)</title></rect>";
  }
  // Grid lines: quarters of a linear axis; decades of a log axis (every other one past six).
  std::vector<double> grid;
  if (log_y) {
    const int d0 = static_cast<int>(std::lround(std::log10(y_min))), d1 = static_cast<int>(std::lround(std::log10(y_max)));
    const int step = d1 - d0 > 6 ? 2 : 1;
    for (int d = d0; d <= d1; d += step) grid.push_back(std::pow(10, d));
  } else {
    for (int i = 0; i <= 4; ++i) grid.push_back(y_max * i / 4);
  }
  for (double yv : grid) {
    o << "<line x1=\"" << left << "\" x2=\"" << w - right << "\" y1=\"" << Y(yv) << "\" y2=\"" << Y(yv) << "\" class=\"grid\"/>";
    o << "<text x=\"" << left - 6 << "\" y=\"" << Y(yv) + 4 << "\" class=\"axis\" text-anchor=\"end\">" << AxisNumber(yv)
      << "</text>";
  }
  for (int i = 0; i <= 5; ++i) {
    const double xv = x_max * i / 5;
    std::string label = Fmt(xv, 0) + "s";
    if (start_hour >= 0) {
      // Local clock time; with seconds when the ticks are less than a minute apart.
      const long secs = std::lround(start_hour * 3600 + xv) % 86400;
      char clock[16];
      if (x_max / 5 < 60) std::snprintf(clock, sizeof clock, "%02ld:%02ld:%02ld", secs / 3600, secs / 60 % 60, secs % 60);
      else std::snprintf(clock, sizeof clock, "%02ld:%02ld", secs / 3600, secs / 60 % 60);
      label = clock;
    }
    o << "<text x=\"" << X(xv) << "\" y=\"" << h - bottom + 16 << "\" class=\"axis\" text-anchor=\"middle\">" << label
      << "</text>";
  }
  o << "<text x=\"14\" y=\"" << (top + h - bottom) / 2 << "\" class=\"axis\" transform=\"rotate(-90 14 "
    << (top + h - bottom) / 2 << ")\" text-anchor=\"middle\">" << Esc(y_label) << "</text>";
  double legend_x = left + 8, legend_y = top + 4;
  for (const Series& s : series) {
    std::string path;
    for (auto [x, y] : s.points) {
      path += (path.empty() ? "M" : "L") + Fmt(X(x), 1) + "," + Fmt(Y(y), 1);
    }
    o << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.6\""
      << (s.dashed ? " stroke-dasharray=\"4 3\" opacity=\"0.7\"" : "") << "/>";
    const double width = 14 + 7.2 * static_cast<double>(s.name.size()) + 16;
    if (legend_x + width > w - right) legend_x = left + 8, legend_y += 14;
    o << "<rect x=\"" << legend_x << "\" y=\"" << legend_y << "\" width=\"10\" height=\"10\" fill=\"" << s.color << "\"/>";
    o << "<text x=\"" << legend_x + 14 << "\" y=\"" << legend_y + 9 << "\" class=\"legend\">" << Esc(s.name) << "</text>";
    legend_x += width;
  }
  o << "</svg>";
  return o.str();
}

std::string BarChart(const std::string& title, const std::vector<std::pair<std::string, std::array<double, 3>>>& rows) {
  // Horizontal bars: p50, p99, p99.9 per operation, log scale in ms.
  const double w = 720, row_h = 26, left = 120, right = 60, top = 30;
  const double h = top + row_h * static_cast<double>(rows.size()) + 24;
  double vmax = 1, vmin = 1e300;
  for (const auto& [name, v] : rows) {
    for (double x : v) {
      if (x > 0) {
        vmax = std::max(vmax, x);
        vmin = std::min(vmin, x);
      }
    }
  }
  if (vmin > vmax) vmin = 0.01;
  const double lo = std::pow(10, std::floor(std::log10(vmin))), hi = std::pow(10, std::ceil(std::log10(vmax)));
  auto X = [&](double v) {
    return left + (w - left - right) * (std::log10(std::max(v, lo)) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
  };
  static const char* kColors[] = {"#4c78a8", "#f58518", "#e45756"};
  static const char* kNames[] = {"p50", "p99", "p99.9"};
  std::ostringstream o;
  o << "<svg viewBox=\"0 0 " << w << " " << h << "\" class=\"chart\" role=\"img\" aria-label=\"" << Esc(title) << "\">";
  o << "<text x=\"" << left << "\" y=\"16\" class=\"title\">" << Esc(title) << "</text>";
  for (int k = 0; k < 3; ++k) {
    o << "<rect x=\"" << w - right - 180 + k * 60 << "\" y=\"6\" width=\"10\" height=\"10\" fill=\"" << kColors[k] << "\"/>";
    o << "<text x=\"" << w - right - 166 + k * 60 << "\" y=\"15\" class=\"legend\">" << kNames[k] << "</text>";
  }
  for (double d = lo; d <= hi * 1.0001; d *= 10) {
    o << "<line x1=\"" << X(d) << "\" x2=\"" << X(d) << "\" y1=\"" << top << "\" y2=\"" << h - 20 << "\" class=\"grid\"/>";
    o << "<text x=\"" << X(d) << "\" y=\"" << h - 6 << "\" class=\"axis\" text-anchor=\"middle\">" << Fmt(d, d < 1 ? 2 : 0)
      << " ms</text>";
  }
  double y = top;
  for (const auto& [name, v] : rows) {
    o << "<text x=\"" << left - 8 << "\" y=\"" << y + 16 << "\" class=\"axis\" text-anchor=\"end\">" << Esc(name) << "</text>";
    for (int k = 0; k < 3; ++k) {
      o << "<rect x=\"" << left << "\" y=\"" << y + 3 + 6 * k << "\" width=\"" << std::max(0.0, X(v[k]) - left)
        << "\" height=\"6\" fill=\"" << kColors[k] << "\"><title>" << kNames[k] << " " << Fmt(v[k], 3) << " ms</title></rect>";
    }
    o << "<text x=\"" << X(v[1]) + 4 << "\" y=\"" << y + 15 << "\" class=\"legend\">" << Fmt(v[1], 2) << "</text>";
    y += row_h;
  }
  o << "</svg>";
  return o.str();
}

}  // namespace

SloVerdict EvaluateSlo(const models::SloSpec& slo, const Recorder& rec) {
  SloVerdict v;
  for (const models::SloObjective& o : slo.latency) {
    const sim::LatencyHistogram* h = nullptr;
    if (o.operation == "all") h = &rec.total().latency;
    else if (o.operation == "notification") h = &rec.freshness();
    else {
      for (int k = 0; k < static_cast<int>(models::OpKind::kCount); ++k) {
        if (models::OpKindName(static_cast<models::OpKind>(k)) == o.operation) h = &rec.operation(static_cast<models::OpKind>(k)).latency;
      }
    }
    json j;
    char pct[16];
    std::snprintf(pct, sizeof pct, "p%g", o.percentile);
    j["objective"] = o.operation + " " + pct + " <= " + o.bound.ToString();
    j["operation"] = o.operation;
    j["percentile"] = o.percentile;
    j["bound_ms"] = o.bound.millis();
    if (h == nullptr || h->Count() == 0) {
      j["measured_ms"] = nullptr;
      j["pass"] = false;
      j["note"] = "no samples";
    } else {
      const double measured = Ms(h->ValueAtPercentile(o.percentile));
      j["measured_ms"] = measured;
      j["samples"] = h->Count();
      j["pass"] = measured <= o.bound.millis();
    }
    v.pass = v.pass && j["pass"].get<bool>();
    v.any = true;
    v.objectives.push_back(j);
  }
  if (slo.error_rate) {
    const auto& t = rec.total();
    const double rate = t.sent ? static_cast<double>(t.failed()) / static_cast<double>(t.sent) : 0.0;
    json j;
    j["objective"] = "error rate <= " + Fmt(*slo.error_rate * 100, 2) + " %";
    j["operation"] = "all";
    j["bound"] = *slo.error_rate;
    j["measured"] = rate;
    j["pass"] = rate <= *slo.error_rate;
    v.pass = v.pass && j["pass"].get<bool>();
    v.any = true;
    v.objectives.push_back(j);
  }
  return v;
}

json BuildManifest(const RunInfo& info) {
  const models::Scenario& s = *info.scenario;
  json m;
  m["citybed"] = {{"version", std::string(Version())}, {"commit", std::string(GitCommit())}};
  m["command"] = info.command_line;
  m["started_utc"] = info.started_utc;
  m["scenario"] = {{"name", s.name}, {"file", s.path}, {"sha256", Sha256Hex(s.text)}, {"seed", s.seed}, {"document", s.json}};
  m["effective"] = {{"duration_s", s.duration.seconds()}, {"warmup_s", s.warmup.seconds()}, {"speed", s.speed}, {"seed", s.seed}};
  json broker = {{"url", info.broker_url}, {"embedded", info.broker_embedded}};
  if (info.result && !info.result->broker_version.empty()) {
    broker["version"] = json::parse(info.result->broker_version, nullptr, false);
    if (broker["version"].is_discarded()) broker["version"] = info.result->broker_version;
  }
  m["broker"] = broker;
  m["machine"] = Machine();
  return m;
}

json BuildSummary(const Recorder& rec, const RunInfo& info, const SloVerdict& slo) {
  const models::Scenario& s = *info.scenario;
  const models::EmulationResult& r = *info.result;
  const double window = rec.WindowSeconds();
  json j;
  j["scenario"] = s.name;
  j["valid"] = r.valid();
  j["complete"] = r.reached_end;
  j["invalid_reasons"] = r.invalid_reasons;
  j["window"] = {{"from_s", s.warmup.seconds()}, {"to_s", s.duration.seconds()}, {"seconds", window}};
  json requests = rec.total().ToJson(window);
  requests.erase("latency_ms");
  j["requests"] = requests;
  j["latency_ms"] = LatencyJson(rec.total().latency);
  json ops = json::object();
  for (int k = 0; k < static_cast<int>(models::OpKind::kCount); ++k) {
    const auto& st = rec.operation(static_cast<models::OpKind>(k));
    if (st.sent > 0) ops[std::string(models::OpKindName(static_cast<models::OpKind>(k)))] = st.ToJson(window);
  }
  j["operations"] = ops;
  json regions = json::object();
  for (size_t i = 0; i < rec.regions().size(); ++i) {
    json rj = rec.regions()[i].ToJson(window);
    const std::string id = rec.options().regions[i];
    rj["sources"] = Lookup(info.sources_by_region, id);
    rj["entities"] = Lookup(info.entities_by_region, id);
    regions[id] = rj;
  }
  j["regions"] = regions;
  json domains = json::object();
  for (size_t i = 0; i < rec.domains().size(); ++i) {
    const std::string name = rec.options().domains[i];
    const uint64_t n = Lookup(info.sources_by_domain, name);
    if (n == 0 && rec.domains()[i].sent == 0) continue;
    json dj = rec.domains()[i].ToJson(window);
    dj["sources"] = n;
    dj["entities"] = Lookup(info.entities_by_domain, name);
    domains[name] = dj;
  }
  j["domains"] = domains;
  json types = json::object();
  for (const auto& [type, n] : info.sources_by_type) types[type] = {{"sources", n}, {"entities", Lookup(info.entities_by_type, type)}};
  j["entity_types"] = types;
  j["sources"] = info.sources;
  j["entities"] = info.entities;
  j["users"] = info.users;
  j["notifications"] = {{"received", r.notifications},
                        {"entities", r.notified_entities},
                        {"in_window", rec.notifications()},
                        {"malformed", r.notification_errors},
                        {"subscriptions", r.subscriptions},
                        {"subscriptions_failed", r.subscriptions_failed},
                        {"latency_ms", LatencyJson(rec.freshness())}};
  const auto& lag = r.executor.lag;
  j["generator"] = {{"valid", r.executor.valid},
                    {"max_lag_ms", Ms(lag.Max())},
                    {"p99_lag_ms", Ms(lag.ValueAtPercentile(99))},
                    {"p50_lag_ms", Ms(lag.ValueAtPercentile(50))},
                    {"lag_bound_ms", s.generator.lag_bound.millis()},
                    {"lag_percentile", s.generator.lag_percentile},
                    {"events", r.executor.events},
                    {"requests_sent", r.sent},
                    {"network_failures", r.network_failures},
                    {"skipped", r.skipped},
                    {"max_outstanding", r.max_outstanding},
                    {"connections", s.broker.connections},
                    {"connection_wait_p99_ms", Ms(r.pool_wait.ValueAtPercentile(99))},
                    {"connection_wait_max_ms", Ms(r.pool_wait.Max())},
                    {"wall_seconds", std::round(r.wall_seconds * 1000) / 1000}};
  j["slo"] = slo.objectives;
  j["slo_pass"] = slo.pass;
  return j;
}

std::string BuildTimeseriesCsv(const Recorder& rec) {
  std::string out = "t_s,requests,ok,failed,throughput_per_s,p50_ms,p90_ms,p99_ms,max_ms";
  for (int k = 0; k < static_cast<int>(models::OpKind::kCount); ++k) {
    out += ",";
    out += models::OpKindName(static_cast<models::OpKind>(k));
  }
  out += ",notifications,warmup";
  for (const std::string& d : rec.options().domains) out += ",writes:" + d;
  out += "\n";
  const double step = rec.options().interval.seconds();
  for (size_t i = 0; i < rec.intervals().size(); ++i) {
    const Interval& in = rec.intervals()[i];
    const double t = static_cast<double>(i) * step;
    out += Fmt(t, 3) + "," + std::to_string(in.ok + in.failed) + "," + std::to_string(in.ok) + "," +
           std::to_string(in.failed) + "," + Fmt(static_cast<double>(in.ok) / step, 2) + "," +
           Fmt(Ms(in.latency.ValueAtPercentile(50)), 3) + "," + Fmt(Ms(in.latency.ValueAtPercentile(90)), 3) + "," +
           Fmt(Ms(in.latency.ValueAtPercentile(99)), 3) + "," + Fmt(Ms(in.latency.Max()), 3);
    for (uint64_t c : in.ops) out += "," + std::to_string(c);
    out += "," + std::to_string(in.notifications) + "," + (t < rec.options().warmup.seconds() ? "1" : "0");
    for (uint64_t c : in.domains) out += "," + std::to_string(c);
    out += "\n";
  }
  return out;
}

std::string BuildReportHtml(const json& summary, const json& manifest, const Recorder& rec) {
  const double step = rec.options().interval.seconds();
  const double warmup = rec.options().warmup.seconds();
  Series thr{"ok requests/s", "#4c78a8", {}}, failed{"failed/s", "#e45756", {}}, notes{"notifications/s", "#54a24b", {}};
  Series p50{"p50", "#4c78a8", {}}, p99{"p99", "#f58518", {}}, pmax{"max", "#e45756", {}, true};
  for (size_t i = 0; i < rec.intervals().size(); ++i) {
    const Interval& in = rec.intervals()[i];
    const double t = (static_cast<double>(i) + 0.5) * step;
    thr.points.emplace_back(t, static_cast<double>(in.ok) / step);
    failed.points.emplace_back(t, static_cast<double>(in.failed) / step);
    notes.points.emplace_back(t, static_cast<double>(in.notifications) / step);
    if (in.latency.Count() > 0) {
      p50.points.emplace_back(t, Ms(in.latency.ValueAtPercentile(50)));
      p99.points.emplace_back(t, Ms(in.latency.ValueAtPercentile(99)));
      pmax.points.emplace_back(t, Ms(in.latency.Max()));
    }
  }
  // Writes per domain over time, for the domains that wrote anything.
  static const char* kPalette[] = {"#4c78a8", "#54a24b", "#b279a2", "#e45756", "#f58518", "#72b7b2", "#9d755d", "#bab0ac"};
  std::vector<Series> by_domain;
  for (size_t d = 0; d < rec.options().domains.size(); ++d) {
    Series s{rec.options().domains[d], kPalette[d % 8], {}};
    uint64_t any = 0;
    for (size_t i = 0; i < rec.intervals().size(); ++i) {
      const uint64_t n = d < rec.intervals()[i].domains.size() ? rec.intervals()[i].domains[d] : 0;
      any += n;
      s.points.emplace_back((static_cast<double>(i) + 0.5) * step, static_cast<double>(n) / step);
    }
    if (any > 0) by_domain.push_back(std::move(s));
  }
  std::vector<std::pair<std::string, std::array<double, 3>>> bars;
  for (auto it = summary["operations"].begin(); it != summary["operations"].end(); ++it) {
    const json& l = it.value()["latency_ms"];
    if (l["count"].get<uint64_t>() == 0) continue;
    bars.push_back({it.key(), {l["p50"].get<double>(), l["p99"].get<double>(), l["p999"].get<double>()}});
  }
  if (summary["notifications"]["latency_ms"]["count"].get<uint64_t>() > 0) {
    const json& l = summary["notifications"]["latency_ms"];
    bars.push_back({"notification", {l["p50"].get<double>(), l["p99"].get<double>(), l["p999"].get<double>()}});
  }
  const bool valid = summary["valid"].get<bool>();
  std::ostringstream o;
  o << "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>citybed run: "
    << Esc(summary["scenario"].get<std::string>()) << "</title><style>"
    << "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:980px;color:#222;padding:0 12px}"
    << "h1{font-size:22px;margin-bottom:4px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}"
    << ".badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-weight:600}"
    << ".ok{background:#2e7d32}.bad{background:#c62828}.warn{background:#ef6c00}"
    << "table{border-collapse:collapse;width:100%;margin:8px 0}td,th{border-bottom:1px solid #eee;padding:4px 8px;text-align:right}"
    << "th{background:#fafafa}td:first-child,th:first-child{text-align:left}"
    << ".chart{width:100%;height:auto;margin:8px 0}.title{font-weight:600;font-size:13px}.axis{font-size:11px;fill:#555}"
    << ".legend{font-size:11px;fill:#333}.grid{stroke:#eee}.warmup{fill:#f3f3f3}.note{color:#666;font-size:12px}"
    << "</style></head><body>";
  o << "<h1>" << Esc(summary["scenario"].get<std::string>()) << " <span class=\"badge " << (valid ? "ok" : "bad") << "\">"
    << (valid ? "valid run" : "INVALID run") << "</span> ";
  if (!summary["slo"].empty()) {
    o << "<span class=\"badge " << (summary["slo_pass"].get<bool>() ? "ok" : "warn") << "\">"
      << (summary["slo_pass"].get<bool>() ? "SLOs met" : "SLO failed") << "</span>";
  }
  o << "</h1><p class=\"note\">citybed " << Esc(manifest["citybed"]["version"].get<std::string>()) << " ("
    << Esc(manifest["citybed"]["commit"].get<std::string>()) << "), started " << Esc(manifest["started_utc"].get<std::string>())
    << ", broker " << Esc(manifest["broker"]["url"].get<std::string>()) << ", seed " << manifest["scenario"]["seed"].dump()
    << ", scenario sha256 " << Esc(manifest["scenario"]["sha256"].get<std::string>().substr(0, 12)) << "&hellip;</p>";
  if (!valid) {
    o << "<p><b>This run is not a measurement of the broker:</b></p><ul>";
    for (const auto& reason : summary["invalid_reasons"]) o << "<li>" << Esc(reason.get<std::string>()) << "</li>";
    o << "</ul>";
  }
  const json& req = summary["requests"];
  const json& lat = summary["latency_ms"];
  o << "<table><tr><th>window</th><th>requests</th><th>ok</th><th>failed</th><th>throughput</th><th>p50</th><th>p99</th><th>p99.9</th><th>max</th></tr>"
    << "<tr><td>" << Fmt(summary["window"]["from_s"].get<double>(), 0) << "&ndash;" << Fmt(summary["window"]["to_s"].get<double>(), 0)
    << " s</td><td>" << req["sent"] << "</td><td>" << req["ok"] << "</td><td>" << req["failed"] << "</td><td>"
    << Fmt(req["throughput_per_s"].get<double>(), 1) << "/s</td><td>" << Fmt(lat["p50"].get<double>(), 2) << " ms</td><td>"
    << Fmt(lat["p99"].get<double>(), 2) << " ms</td><td>" << Fmt(lat["p999"].get<double>(), 2) << " ms</td><td>"
    << Fmt(lat["max"].get<double>(), 2) << " ms</td></tr></table>";
  o << "<p class=\"note\">Latency runs from each request's intended send time (open loop) to its response back at the requester:"
       " simulated uplink and downlink plus the broker's real response time. The grey band is the warm-up, left out of the"
       " summary.</p>";
  const TimeAxis axis{rec.options().duration.seconds(), warmup, rec.options().start_hour};
  o << "<h2>Throughput over time</h2>"
    << LineChart("requests and notifications per second", "per second", {thr, failed, notes}, axis);
  if (!by_domain.empty()) {
    o << LineChart("source writes per second by service domain (log scale)", "per second", by_domain, axis, true);
  }
  o << "<h2>Latency over time</h2>" << LineChart("latency per interval (ms, log scale)", "ms", {p50, p99, pmax}, axis, true);
  o << "<h2>Latency by operation</h2>" << BarChart("latency percentiles (ms, log scale)", bars);
  o << "<table><tr><th>operation</th><th>requests</th><th>ok</th><th>errors</th><th>throughput</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>";
  auto row = [&](const std::string& name, const json& st) {
    const json& l = st["latency_ms"];
    std::string errors;
    for (auto e = st["errors"].begin(); e != st["errors"].end(); ++e) {
      errors += (errors.empty() ? "" : ", ") + e.key() + ": " + e.value().dump();
    }
    o << "<tr><td>" << Esc(name) << "</td><td>" << st["sent"] << "</td><td>" << st["ok"] << "</td><td>"
      << (errors.empty() ? "0" : Esc(errors)) << "</td><td>" << Fmt(st["throughput_per_s"].get<double>(), 1) << "/s</td><td>"
      << Fmt(l["p50"].get<double>(), 2) << "</td><td>" << Fmt(l["p90"].get<double>(), 2) << "</td><td>"
      << Fmt(l["p99"].get<double>(), 2) << "</td><td>" << Fmt(l["p999"].get<double>(), 2) << "</td><td>"
      << Fmt(l["max"].get<double>(), 2) << "</td></tr>";
  };
  for (auto it = summary["operations"].begin(); it != summary["operations"].end(); ++it) row(it.key(), it.value());
  o << "</table>";
  const json& n = summary["notifications"];
  o << "<p>Notifications: " << n["received"] << " received (" << n["entities"] << " entities), freshness p50 "
    << Fmt(n["latency_ms"]["p50"].get<double>(), 2) << " ms, p99 " << Fmt(n["latency_ms"]["p99"].get<double>(), 2) << " ms.</p>";
  o << "<h2>Regions</h2><table><tr><th>region</th><th>sources</th><th>entities</th><th>requests</th><th>ok</th><th>errors</th><th>throughput</th><th>p50</th><th>p99</th><th>max</th></tr>";
  for (auto it = summary["regions"].begin(); it != summary["regions"].end(); ++it) {
    const json& st = it.value();
    o << "<tr><td>" << Esc(it.key()) << "</td><td>" << st["sources"] << "</td><td>" << st["entities"] << "</td><td>" << st["sent"]
      << "</td><td>" << st["ok"] << "</td><td>" << st["failed"] << "</td><td>" << Fmt(st["throughput_per_s"].get<double>(), 1) << "/s</td><td>"
      << Fmt(st["latency_ms"]["p50"].get<double>(), 2) << "</td><td>" << Fmt(st["latency_ms"]["p99"].get<double>(), 2)
      << "</td><td>" << Fmt(st["latency_ms"]["max"].get<double>(), 2) << "</td></tr>";
  }
  o << "</table>";
  if (!summary["domains"].empty()) {
    o << "<h2>Service domains</h2><table><tr><th>domain</th><th>sources</th><th>entities</th><th>writes</th><th>ok</th><th>p50</th><th>p99</th></tr>";
    for (auto it = summary["domains"].begin(); it != summary["domains"].end(); ++it) {
      const json& st = it.value();
      o << "<tr><td>" << Esc(it.key()) << "</td><td>" << st["sources"] << "</td><td>" << st["entities"] << "</td><td>" << st["sent"]
        << "</td><td>" << st["ok"] << "</td><td>" << Fmt(st["latency_ms"]["p50"].get<double>(), 2) << "</td><td>"
        << Fmt(st["latency_ms"]["p99"].get<double>(), 2) << "</td></tr>";
    }
    o << "</table>";
  }
  if (!summary["slo"].empty()) {
    o << "<h2>Service-level objectives</h2><table><tr><th>objective</th><th>measured</th><th>verdict</th></tr>";
    for (const json& obj : summary["slo"]) {
      std::string measured = obj.contains("measured_ms") ? (obj["measured_ms"].is_null() ? "no samples" : Fmt(obj["measured_ms"].get<double>(), 2) + " ms")
                                                         : Fmt(obj["measured"].get<double>() * 100, 3) + " %";
      o << "<tr><td>" << Esc(obj["objective"].get<std::string>()) << "</td><td>" << measured << "</td><td>"
        << (obj["pass"].get<bool>() ? "pass" : "<b>FAIL</b>") << "</td></tr>";
    }
    o << "</table>";
  }
  const json& g = summary["generator"];
  o << "<h2>Generator health</h2><p>Executor lag p50 " << Fmt(g["p50_lag_ms"].get<double>(), 3) << " ms, p99 "
    << Fmt(g["p99_lag_ms"].get<double>(), 3) << " ms, max " << Fmt(g["max_lag_ms"].get<double>(), 3) << " ms (bound "
    << Fmt(g["lag_bound_ms"].get<double>(), 1) << " ms at p" << g["lag_percentile"] << "); " << g["events"]
    << " events; at most " << g["max_outstanding"] << " requests outstanding on " << g["connections"]
    << " connections; connection wait p99 " << Fmt(g["connection_wait_p99_ms"].get<double>(), 3) << " ms.</p>";
  o << "<p class=\"note\">" << summary["sources"] << " sources (" << summary["entities"] << " entities written), " << summary["users"] << " users. Files: summary.json,"
       " timeseries.csv, manifest.json.</p></body></html>\n";
  return o.str();
}

std::string RunFolderName(const std::string& scenario_name) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(stamp) + "-" + scenario_name;
}

Expected<std::vector<std::string>> WriteRunFolder(const std::string& dir, const json& manifest, const json& summary,
                                                  const std::string& csv, const std::string& html) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unexpected(Error::Io("cannot create " + dir + ": " + ec.message()));
  std::vector<std::string> written;
  const std::pair<std::string, std::string> files[] = {{"manifest.json", manifest.dump(2) + "\n"},
                                                       {"timeseries.csv", csv},
                                                       {"report.html", html},
                                                       {"summary.json", summary.dump(2) + "\n"}};
  for (const auto& [name, content] : files) {
    if (name == "report.html" && html.empty()) continue;
    const std::string path = dir + "/" + name;
    if (auto ok = WriteFileAtomic(path, content); !ok) return Unexpected(ok.error());
    written.push_back(path);
  }
  return written;
}

}  // namespace citybed::results
