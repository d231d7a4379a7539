#!/usr/bin/env python3
"""plot.py KNEE_CSV OUT_SVG [TITLE] -- draws a knee sweep (bench/knee/sweep.sh): latency percentiles
against the offered rate, with the broker's CPU share on the right axis when the sweep measured it
(a broker it started), as a self-contained SVG (no plotting library)."""
import csv
import math
import sys


def main():
    rows = [r for r in csv.DictReader(open(sys.argv[1]))]
    title = sys.argv[3] if len(sys.argv) > 3 else "latency against offered load"
    xs = [float(r["offered_per_s"]) for r in rows]
    series = [("p50", "#4c78a8", [float(r["p50_ms"]) for r in rows]),
              ("p99", "#f58518", [float(r["p99_ms"]) for r in rows]),
              ("p99.9", "#e45756", [float(r["p999_ms"]) for r in rows])]
    busy = [100 * float(r["broker_cpu"]) if r.get("broker_cpu") else None for r in rows]
    has_busy = any(b is not None for b in busy)
    valid = [r["valid"] == "True" for r in rows]
    w, h, left, right, top, bottom = 760, 300, 64, 64, 34, 44
    x_max = 10 ** math.ceil(math.log10(max(xs))) if xs else 1
    x_max = next(m * x_max / 10 for m in (2, 3, 4, 5, 6, 8, 10) if m * x_max / 10 >= max(xs))
    ys = [y for _, _, v in series for y in v if y > 0]
    y_min = 10 ** math.floor(math.log10(min(ys)))
    y_max = 10 ** math.ceil(math.log10(max(ys)))
    X = lambda x: left + (w - left - right) * x / x_max
    Y = lambda y: top + (h - top - bottom) * (1 - (math.log10(max(y, y_min)) - math.log10(y_min)) /
                                              (math.log10(y_max) - math.log10(y_min)))
    R = lambda pct: top + (h - top - bottom) * (1 - pct / 100)  # broker CPU share, 0..100 %
    o = ['<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" font-family="sans-serif">' % (w, h),
         '<rect width="100%" height="100%" fill="#fff"/>',
         '<text x="%d" y="18" font-size="14" font-weight="600">%s</text>' % (left, title)]
    decades = range(int(round(math.log10(y_min))), int(round(math.log10(y_max))) + 1)
    for d in decades:
        y = Y(10 ** d)
        o.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#eee"/>' % (left, w - right, y, y))
        o.append('<text x="%d" y="%.1f" font-size="11" fill="#555" text-anchor="end">%g ms</text>' % (left - 6, y + 4, 10 ** d))
    for i in range(6):
        xv = x_max * i / 5
        o.append('<text x="%.1f" y="%d" font-size="11" fill="#555" text-anchor="middle">%d</text>' % (X(xv), h - bottom + 16, xv))
        if has_busy:
            o.append('<text x="%d" y="%.1f" font-size="11" fill="#54a24b">%d %%</text>' % (w - right + 6, R(20 * i) + 4, 20 * i))
    o.append('<text x="%d" y="%d" font-size="12" fill="#333" text-anchor="middle">offered requests per second</text>'
             % ((left + w - right) / 2, h - 8))
    if has_busy:
        pts = " ".join("%.1f,%.1f" % (X(x), R(b)) for x, b in zip(xs, busy) if b is not None)
        o.append('<polyline points="%s" fill="none" stroke="#54a24b" stroke-width="1.6" stroke-dasharray="5 3"/>' % pts)
    for name, color, ys_ in series:
        pts = " ".join("%.1f,%.1f" % (X(x), Y(y)) for x, y in zip(xs, ys_))
        o.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>' % (pts, color))
        for x, y, v in zip(xs, ys_, valid):
            o.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>' % (X(x), Y(y), color if v else "#fff")
                     + ('' if v else '<circle cx="%.1f" cy="%.1f" r="3" fill="none" stroke="%s"/>' % (X(x), Y(y), color)))
    lx = left + 8
    legend = [(n, c) for n, c, _ in series] + ([("broker CPU (right axis)", "#54a24b")] if has_busy else [])
    for name, color in legend:
        o.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"/>' % (lx, top + 2, color))
        o.append('<text x="%d" y="%d" font-size="11">%s</text>' % (lx + 14, top + 11, name))
        lx += 14 + 7 * len(name) + 14
    o.append('<text x="%d" y="%d" font-size="10" fill="#777">open circles: invalid runs (the generator fell behind)</text>'
             % (left + 8, top + 26))
    o.append('</svg>')
    open(sys.argv[2], "w").write("\n".join(o) + "\n")


if __name__ == "__main__":
    main()
