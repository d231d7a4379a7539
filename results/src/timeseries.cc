// timeseries.csv and its CSVW sidecar (timeseries.csv-metadata.json): one row per interval of
// simulated time. Offered requests are filed by intended send time, completions (and their
// latency) by completion time, notifications by arrival. Row boundaries are integer
// nanoseconds, so a row is in the warm-up exactly when it starts before the warm-up's end.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "citybed/common/strings.h"
#include "citybed/results/charts.h"
#include "citybed/results/run_output.h"
#include "format.h"

namespace citybed::results {

using nlohmann::json;

namespace {

std::string MsText(int64_t ns) { return Fmt(MsExact(ns), 3); }

struct Column {
  const char* name;
  const char* unit;
  const char* datatype;
  const char* description;
};

// The fixed columns, in order; per-operation and per-domain columns follow.
const std::vector<Column>& FixedColumns() {
  static const std::vector<Column> kColumns = {
      {"t_s", "s", "decimal", "start of the interval, simulated seconds from the run's start (exact decimal)"},
      {"t_end_s", "s", "decimal", "end of the interval (exclusive)"},
      {"seconds", "s", "decimal", "length of the interval in simulated seconds (the last one before the end may be shorter)"},
      {"wall_utc", "", "dateTime", "wall-clock time of the interval's start: the run's start + t_s / speed"},
      {"warmup", "", "boolean", "1 when the interval is in the warm-up (starts before it ends): left out of the summary"},
      {"drain", "", "boolean", "1 when the interval starts at or after the run's end: answers and notifications still arriving; nothing is offered"},
      {"offered", "", "integer", "requests the workload made with their intended send time in the interval (every operation)"},
      {"offered_per_s", "1/s", "decimal", "offered / seconds (per simulated second)"},
      {"ok", "", "integer", "requests that completed in the interval with a 2xx answer (by completion time)"},
      {"failed", "", "integer", "requests that completed in the interval otherwise: error status, timeout, connection error, network loss, cancelled"},
      {"completed_per_s", "1/s", "decimal", "(ok + failed) / seconds (per simulated second)"},
      {"outstanding", "", "integer", "requests offered by the interval's end and not yet completed"},
      {"p50_ms", "ms", "decimal", "median latency of the requests completed in the interval, every outcome (see the note on resolution)"},
      {"p90_ms", "ms", "decimal", "90th percentile, as p50_ms"},
      {"p99_ms", "ms", "decimal", "99th percentile, as p50_ms"},
      {"max_ms", "ms", "decimal", "largest latency completed in the interval (exact)"},
      {"waited", "", "integer", "requests completed in the interval that waited for a free connection to the broker"},
      {"wait_mean_ms", "ms", "decimal", "mean connection wait of those"},
      {"wait_max_ms", "ms", "decimal", "largest connection wait completed in the interval"},
      {"broker_cpu", "", "decimal", "the embedded broker's CPU share of one core (CPU seconds of its threads per wall second) over the samples taken in the interval, about one per wall second; empty when unknown (an external broker) or no sample fell in the interval"},
  };
  return kColumns;
}

}  // namespace

std::string BuildTimeseriesCsv(const Recorder& rec, const RunInfo& info) {
  const models::Scenario& s = *info.scenario;
  const Window w = WindowOf(s, *info.result);
  std::string out;
  for (const Column& c : FixedColumns()) out += std::string(out.empty() ? "" : ",") + c.name;
  for (size_t k = 0; k < kOps; ++k) out += "," + std::string(models::OpKindName(static_cast<models::OpKind>(k)));
  out += ",notifications";
  for (const std::string& d : rec.options().domains) out += ",writes:" + d;
  out += "\n";
  const int64_t step = rec.options().interval.ns();
  const size_t planned_rows = static_cast<size_t>((s.duration.ns() + step - 1) / step);
  const size_t rows = std::max(rec.intervals().size(), planned_rows);
  const Interval empty{.domains = std::vector<uint64_t>(rec.options().domains.size(), 0)};
  int64_t offered_so_far = 0, completed_so_far = 0;
  for (size_t i = 0; i < rows; ++i) {
    const Interval& in = i < rec.intervals().size() ? rec.intervals()[i] : empty;
    const sim::Time start = rec.IntervalStart(i);
    const sim::Duration length = rec.IntervalLength(i);
    const double secs = static_cast<double>(length.ns()) / 1e9;
    offered_so_far += static_cast<int64_t>(in.offered_total());
    completed_so_far += static_cast<int64_t>(in.ok + in.failed);
    const int64_t wall_us = info.started_unix_us + static_cast<int64_t>(std::llround(static_cast<double>(start.ns()) / s.speed / 1e3));
    out += FormatSecondsExact(start.ns());
    out += "," + FormatSecondsExact((start + length).ns());
    out += "," + FormatSecondsExact(length.ns());
    out += "," + (info.started_unix_us > 0 ? FormatRfc3339Micros(wall_us) : std::string());
    out += start < w.from ? ",1" : ",0";
    out += start >= w.to ? ",1" : ",0";
    out += "," + std::to_string(in.offered_total());
    out += "," + Fmt(static_cast<double>(in.offered_total()) / secs, 3);
    out += "," + std::to_string(in.ok) + "," + std::to_string(in.failed);
    out += "," + Fmt(static_cast<double>(in.ok + in.failed) / secs, 3);
    out += "," + std::to_string(std::max<int64_t>(0, offered_so_far - completed_so_far));
    out += "," + MsText(in.latency.ValueAtPercentile(50)) + "," + MsText(in.latency.ValueAtPercentile(90)) + "," +
           MsText(in.latency.ValueAtPercentile(99)) + "," + MsText(in.latency.Max());
    out += "," + std::to_string(in.waited);
    out += "," + MsText(in.waited ? in.wait_sum_ns / static_cast<int64_t>(in.waited) : 0) + "," + MsText(in.wait_max_ns);
    out += "," + (in.broker_wall_seconds > 0 ? Fmt(in.broker_cpu_seconds / in.broker_wall_seconds, 3) : std::string());
    for (uint64_t c : in.offered) out += "," + std::to_string(c);
    out += "," + std::to_string(in.notifications);
    for (uint64_t c : in.domains) out += "," + std::to_string(c);
    out += "\n";
  }
  return out;
}

json BuildTimeseriesMetadata(const Recorder& rec) {
  json columns = json::array();
  for (const Column& c : FixedColumns()) {
    json col = {{"name", c.name}, {"titles", c.name}, {"datatype", c.datatype}, {"dc:description", c.description}};
    if (*c.unit) col["unit"] = c.unit;
    columns.push_back(col);
  }
  for (size_t k = 0; k < kOps; ++k) {
    const std::string op(models::OpKindName(static_cast<models::OpKind>(k)));
    columns.push_back({{"name", op}, {"titles", op}, {"datatype", "integer"},
                       {"dc:description", op + " requests offered in the interval (by intended send time)"}});
  }
  columns.push_back({{"name", "notifications"}, {"titles", "notifications"}, {"datatype", "integer"},
                     {"dc:description", "notified entities that arrived at the subscribers in the interval"}});
  for (const std::string& d : rec.options().domains) {
    columns.push_back({{"name", "writes:" + d}, {"titles", "writes:" + d}, {"datatype", "integer"},
                       {"dc:description", "source writes of the " + d + " domain offered in the interval"}});
  }
  const double err = sim::LatencyHistogram(4).RelativeError();
  return {{"@context", "http://www.w3.org/ns/csvw"},
          {"url", "timeseries.csv"},
          {"dc:title", "citybed run time series"},
          {"dc:description",
           "One row per interval of simulated time (" + FormatSecondsExact(rec.options().interval.ns()) +
               " s). Latency percentiles per interval come from log-linear histograms with at most " +
               Fmt(err * 100, 2) + " % relative error (bucket midpoints); max_ms is exact. Offered counts sum, over "
               "the rows with warmup = 0 and drain = 0, to requests.scheduled in summary.json."},
          {"histogram_relative_error", err},
          {"tableSchema", {{"columns", columns}}}};
}

}  // namespace citybed::results
