#include "citybed/results/charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace citybed::results {

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

std::string Fmt(double v, int decimals) {
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

namespace {

struct Frame {
  double w, h, left, right, top, bottom;
};

// The y axis' label, the thresholds (SLO bounds) and the markers, the same on every chart.
template <typename XF, typename YF>
void Overlays(std::ostringstream& o, const Frame& f, const std::string& y_label, const std::vector<Threshold>& thresholds,
              const std::vector<Marker>& markers, XF X, YF Y) {
  o << "<text x=\"14\" y=\"" << (f.top + f.h - f.bottom) / 2 << "\" class=\"axis\" transform=\"rotate(-90 14 "
    << (f.top + f.h - f.bottom) / 2 << ")\" text-anchor=\"middle\">" << Esc(y_label) << "</text>";
  for (const Threshold& t : thresholds) {
    o << "<line x1=\"" << f.left << "\" x2=\"" << f.w - f.right << "\" y1=\"" << Y(t.y) << "\" y2=\"" << Y(t.y)
      << "\" class=\"threshold\"><title>" << Esc(t.label) << "</title></line>";
    o << "<text x=\"" << f.w - f.right - 4 << "\" y=\"" << Y(t.y) - 3 << "\" class=\"threshold-label\" text-anchor=\"end\">"
      << Esc(t.label) << "</text>";
  }
  for (const Marker& m : markers) {
    o << "<line x1=\"" << X(m.x) << "\" x2=\"" << X(m.x) << "\" y1=\"" << f.top << "\" y2=\"" << f.h - f.bottom
      << "\" class=\"marker\"><title>" << Esc(m.label) << "</title></line>";
    o << "<text x=\"" << X(m.x) + 3 << "\" y=\"" << f.top + 10 << "\" class=\"marker-label\">" << Esc(m.label) << "</text>";
  }
}

// One legend entry at (x, y), wrapping to a new line at the right edge; advances x.
void LegendItem(std::ostringstream& o, const Frame& f, const std::string& name, const std::string& color, double& x, double& y) {
  const double width = 14 + 7.2 * static_cast<double>(name.size()) + 16;
  if (x + width > f.w - f.right) x = f.left + 8, y += 14;
  o << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"10\" height=\"10\" fill=\"" << color << "\"/>";
  o << "<text x=\"" << x + 14 << "\" y=\"" << y + 9 << "\" class=\"legend\">" << Esc(name) << "</text>";
  x += width;
}

}  // namespace

const char* ReportStyle() {
  // The pages' shared style: the run report and the capacity report.
  return
         "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222;padding:0 12px}"
         "h1{font-size:22px;margin-bottom:4px}"
         "h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}"
         ".badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-weight:600}"
         ".ok{background:#2e7d32}.bad{background:#c62828}.warn{background:#ef6c00}"
         ".none{background:#757575}table{border-collapse:collapse;width:100%;margin:8px 0}"
         "td,th{border-bottom:1px solid #eee;padding:4px 8px;text-align:right}th{background:#fafafa}"
         "td:first-child,th:first-child{text-align:left}.chart{width:100%;height:auto;margin:8px 0}"
         ".title{font-weight:600;font-size:13px}.axis{font-size:11px;fill:#555}"
         ".legend{font-size:11px;fill:#333}.grid{stroke:#eee}.warmup{fill:#f3f3f3}.drain{fill:#f6f0e4}"
         ".threshold{stroke:#c62828;stroke-dasharray:6 3}.threshold-label{font-size:10px;fill:#c62828}"
         ".marker{stroke:#6a1b9a;stroke-width:1.5}.marker-label{font-size:10px;fill:#6a1b9a}"
         ".note{color:#666;font-size:12px}"
         ".box{border:1px solid #e0b4b4;background:#fff6f6;padding:8px 12px;border-radius:6px}";
}

std::string LineChart(const std::string& title, const std::string& y_label, const std::vector<Series>& series,
                      const TimeAxis& axis, bool log_y, const std::vector<Threshold>& thresholds,
                      const std::vector<Marker>& markers) {
  const double w = 720, h = 240, left = 64, right = 28, top = 28, bottom = 36;
  const double warmup_s = axis.warmup_s, start_hour = axis.start_hour;
  double x_max = std::max({1.0, axis.end_s, axis.drain_end_s}), y_max = 0, y_min = log_y ? 1e300 : 0;
  for (const Threshold& t : thresholds) {
    y_max = std::max(y_max, t.y);
    if (log_y && t.y > 0) y_min = std::min(y_min, t.y);
  }
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
  if (axis.drain_end_s > axis.end_s && axis.end_s > 0) {
    o << "<rect x=\"" << X(axis.end_s) << "\" y=\"" << top << "\" width=\"" << X(axis.drain_end_s) - X(axis.end_s)
      << "\" height=\"" << h - top - bottom
      << "\" class=\"drain\"><title>drain: after the run's end, answers and notifications still arriving (not in the summary's rates)</title></rect>";
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
  Overlays(o, {w, h, left, right, top, bottom}, y_label, thresholds, markers, X, Y);
  double legend_x = left + 8, legend_y = top + 4;
  for (const Series& s : series) {
    std::string path;
    for (auto [x, y] : s.points) {
      path += (path.empty() ? "M" : "L") + Fmt(X(x), 1) + "," + Fmt(Y(y), 1);
    }
    o << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.6\""
      << (s.dashed ? " stroke-dasharray=\"4 3\" opacity=\"0.7\"" : "") << "/>";
    LegendItem(o, {w, h, left, right, top, bottom}, s.name, s.color, legend_x, legend_y);
  }
  o << "</svg>";
  return o.str();
}

std::string SpectrumChart(const std::string& title, const std::vector<Series>& series) {
  const double w = 720, h = 260, left = 64, right = 28, top = 28, bottom = 36;
  // x = log10(1 / (1 - p/100)): p50 -> 0.30, p90 -> 1, p99 -> 2, p99.9 -> 3, p99.99 -> 4.
  auto Xv = [](double p) { return std::log10(1.0 / std::max(1e-5, 1.0 - p / 100.0)); };
  double y_min = 1e300, y_max = 0;
  for (const Series& s : series) {
    for (auto [p, ms] : s.points) {
      if (ms > 0) y_min = std::min(y_min, ms), y_max = std::max(y_max, ms);
    }
  }
  if (y_max <= 0) y_max = 1, y_min = 0.1;
  y_min = std::pow(10, std::floor(std::log10(y_min)));
  y_max = std::pow(10, std::ceil(std::log10(y_max)));
  if (y_max <= y_min) y_max = y_min * 10;
  const double x_max = 4;
  auto X = [&](double p) { return left + (w - left - right) * std::min(Xv(p), x_max) / x_max; };
  auto Y = [&](double v) {
    const double f = (std::log10(std::max(v, y_min)) - std::log10(y_min)) / (std::log10(y_max) - std::log10(y_min));
    return top + (h - top - bottom) * (1 - f);
  };
  std::ostringstream o;
  o << "<svg viewBox=\"0 0 " << w << " " << h << "\" class=\"chart\" role=\"img\" aria-label=\"" << Esc(title) << "\">";
  o << "<text x=\"" << left << "\" y=\"16\" class=\"title\">" << Esc(title) << "</text>";
  for (double d = y_min; d <= y_max * 1.0001; d *= 10) {
    o << "<line x1=\"" << left << "\" x2=\"" << w - right << "\" y1=\"" << Y(d) << "\" y2=\"" << Y(d) << "\" class=\"grid\"/>";
    o << "<text x=\"" << left - 6 << "\" y=\"" << Y(d) + 4 << "\" class=\"axis\" text-anchor=\"end\">" << AxisNumber(d)
      << "</text>";
  }
  const std::pair<double, const char*> ticks[] = {{0, "p0"}, {50, "p50"}, {90, "p90"}, {99, "p99"}, {99.9, "p99.9"}, {99.99, "p99.99"}};
  for (auto [p, label] : ticks) {
    o << "<line x1=\"" << X(p) << "\" x2=\"" << X(p) << "\" y1=\"" << top << "\" y2=\"" << h - bottom << "\" class=\"grid\"/>";
    o << "<text x=\"" << X(p) << "\" y=\"" << h - bottom + 16 << "\" class=\"axis\" text-anchor=\"middle\">" << label << "</text>";
  }
  o << "<text x=\"14\" y=\"" << (top + h - bottom) / 2 << "\" class=\"axis\" transform=\"rotate(-90 14 " << (top + h - bottom) / 2
    << ")\" text-anchor=\"middle\">ms</text>";
  double legend_x = left + 8, legend_y = top + 4;
  for (const Series& s : series) {
    std::string path;
    for (auto [p, ms] : s.points) path += (path.empty() ? "M" : "L") + Fmt(X(p), 1) + "," + Fmt(Y(ms), 1);
    o << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.6\"/>";
    LegendItem(o, {w, h, left, right, top, bottom}, s.name, s.color, legend_x, legend_y);
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

std::string XyChart(const std::string& title, const std::string& x_label, const std::string& y_label,
                    const std::vector<XySeries>& series, bool log_y, const std::vector<Threshold>& thresholds,
                    const std::vector<Marker>& markers) {
  const double w = 720, h = 260, left = 64, right = 28, top = 28, bottom = 44;
  double x_max = 0, y_max = 0, y_min = 1e300;
  for (const XySeries& s : series) {
    for (const XyPoint& p : s.points) {
      x_max = std::max(x_max, p.x);
      y_max = std::max(y_max, p.y + p.err);
      if (p.y > 0) y_min = std::min(y_min, std::max(p.y - p.err, p.y / 10));
    }
  }
  for (const Threshold& t : thresholds) y_max = std::max(y_max, t.y), y_min = std::min(y_min, t.y > 0 ? t.y : y_min);
  for (const Marker& m : markers) x_max = std::max(x_max, m.x);
  if (x_max <= 0) x_max = 1;
  x_max *= 1.05;
  if (y_max <= 0) y_max = 1;
  if (log_y) {
    if (y_min > y_max) y_min = y_max / 10;
    y_min = std::pow(10, std::floor(std::log10(y_min)));
    y_max = std::pow(10, std::ceil(std::log10(y_max)));
    if (y_max <= y_min) y_max = y_min * 10;
  } else {
    const double mag = std::pow(10, std::floor(std::log10(y_max)));
    y_max = std::ceil(y_max / mag) * mag;
  }
  auto X = [&](double x) { return left + (w - left - right) * x / x_max; };
  auto Y = [&](double y) {
    const double f = log_y ? (std::log10(std::max(y, y_min)) - std::log10(y_min)) / (std::log10(y_max) - std::log10(y_min)) : y / y_max;
    return top + (h - top - bottom) * (1 - std::clamp(f, 0.0, 1.0));
  };
  std::ostringstream o;
  o << "<svg viewBox=\"0 0 " << w << " " << h << "\" class=\"chart\" role=\"img\" aria-label=\"" << Esc(title) << "\">";
  o << "<text x=\"" << left << "\" y=\"16\" class=\"title\">" << Esc(title) << "</text>";
  std::vector<double> grid;
  if (log_y) {
    for (double d = y_min; d <= y_max * 1.0001; d *= 10) grid.push_back(d);
  } else {
    for (int i = 0; i <= 4; ++i) grid.push_back(y_max * i / 4);
  }
  for (double yv : grid) {
    o << "<line x1=\"" << left << "\" x2=\"" << w - right << "\" y1=\"" << Y(yv) << "\" y2=\"" << Y(yv) << "\" class=\"grid\"/>";
    o << "<text x=\"" << left - 6 << "\" y=\"" << Y(yv) + 4 << "\" class=\"axis\" text-anchor=\"end\">" << AxisNumber(yv) << "</text>";
  }
  for (int i = 0; i <= 5; ++i) {
    const double xv = x_max / 1.05 * i / 5;
    o << "<text x=\"" << X(xv) << "\" y=\"" << h - bottom + 16 << "\" class=\"axis\" text-anchor=\"middle\">" << AxisNumber(xv)
      << "</text>";
  }
  o << "<text x=\"" << (left + w - right) / 2 << "\" y=\"" << h - 6 << "\" class=\"axis\" text-anchor=\"middle\">" << Esc(x_label)
    << "</text>";
  Overlays(o, {w, h, left, right, top, bottom}, y_label, thresholds, markers, X, Y);
  double legend_x = left + 8, legend_y = top + 4;
  for (const XySeries& s : series) {
    std::vector<XyPoint> pts = s.points;
    std::sort(pts.begin(), pts.end(), [](const XyPoint& a, const XyPoint& b) { return a.x < b.x; });
    std::string path;
    for (const XyPoint& p : pts) {
      if (log_y && p.y <= 0) continue;
      path += (path.empty() ? "M" : "L") + Fmt(X(p.x), 1) + "," + Fmt(Y(p.y), 1);
    }
    if (s.line && !path.empty()) {
      o << "<path d=\"" << path << "\" fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.6\""
        << (s.dashed ? " stroke-dasharray=\"4 3\" opacity=\"0.8\"" : "") << "/>";
    }
    for (const XyPoint& p : pts) {
      if (log_y && p.y <= 0) continue;
      if (p.err > 0) {
        o << "<line x1=\"" << Fmt(X(p.x), 1) << "\" x2=\"" << Fmt(X(p.x), 1) << "\" y1=\"" << Fmt(Y(p.y - p.err), 1) << "\" y2=\""
          << Fmt(Y(p.y + p.err), 1) << "\" stroke=\"" << s.color << "\"/>";
      }
      if (s.markers) {
        o << "<circle cx=\"" << Fmt(X(p.x), 1) << "\" cy=\"" << Fmt(Y(p.y), 1) << "\" r=\"2.8\" fill=\"" << s.color << "\"><title>"
          << Esc(s.name) << ": " << AxisNumber(p.x) << ", " << AxisNumber(p.y) << "</title></circle>";
      }
    }
    LegendItem(o, {w, h, left, right, top, bottom}, s.name, s.color, legend_x, legend_y);
  }
  o << "</svg>";
  return o.str();
}

}  // namespace citybed::results
