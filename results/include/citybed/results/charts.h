// Charts of the run report, as inline SVG (no scripts, no network): a line chart over the
// run's time axis and a horizontal bar chart of latency percentiles, plus the small text
// helpers the HTML writers share. Pure functions of their inputs; tests read the SVG.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace citybed::results {

std::string Esc(std::string_view s);              // HTML text and attribute escaping
std::string Fmt(double v, int decimals = 2);      // fixed decimals
std::string AxisNumber(double v);                 // 0, 750, 2.5, 0.01, 1,000

struct Series {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;
  bool dashed = false;
};

// The time axis of a run's charts: seconds from the start, to the run's end; labelled as local
// clock time when start_hour >= 0; the warm-up shaded, the drain (after end_s) too.
struct TimeAxis {
  double end_s = 0;
  double warmup_s = 0;
  double start_hour = -1;
  double drain_end_s = 0;  // > end_s: the axis runs on to here, the drain shaded
};

// A horizontal threshold drawn across a chart (an SLO bound), and a vertical marker (where an
// SLO first broke).
struct Threshold {
  std::string label;
  double y = 0;
};
struct Marker {
  std::string label;
  double x = 0;
};

std::string LineChart(const std::string& title, const std::string& y_label, const std::vector<Series>& series,
                      const TimeAxis& axis, bool log_y = false, const std::vector<Threshold>& thresholds = {},
                      const std::vector<Marker>& markers = {});

// Percentile spectrum (HdrHistogram style): latency (ms, log scale) against the percentile on
// an axis of 1 / (1 - p) — 50, 90, 99, 99.9, 99.99 equally spaced — one line per series whose
// points are (percentile, ms).
std::string SpectrumChart(const std::string& title, const std::vector<Series>& series);

// A chart against a quantity other than time (the offered load of a capacity search): points
// with optional interval bars (err: the half-width), joined by a line unless `line` is false.
struct XyPoint {
  double x = 0, y = 0, err = 0;
};
struct XySeries {
  std::string name;
  std::string color;
  std::vector<XyPoint> points;
  bool dashed = false;
  bool line = true;
  bool markers = true;
};
std::string XyChart(const std::string& title, const std::string& x_label, const std::string& y_label,
                    const std::vector<XySeries>& series, bool log_y = false, const std::vector<Threshold>& thresholds = {},
                    const std::vector<Marker>& markers = {});

// The style sheet the reports share (run report, capacity report).
const char* ReportStyle();

// Horizontal bars: p50, p99, p99.9 per row, log scale in ms.
std::string BarChart(const std::string& title, const std::vector<std::pair<std::string, std::array<double, 3>>>& rows);

}  // namespace citybed::results
