#!/usr/bin/env python3
"""Draws latency over time (bench/latency_timeline.cc output) as an SVG: for each load, p50 and
p99 per 100 ms window on a log scale, one panel per load, one under the other, so a stall (a
window whose p99 leaps) is visible at a glance. For docs/PERFORMANCE.md.

Usage: tools/timeline_plot.py OUT.svg NAME=WINDOWS.tsv [NAME=WINDOWS.tsv ...]
Reads the lines "ms count p50_us p99_us max_us"; Python's standard library only.
"""
import math
import sys
from xml.sax.saxutils import escape

from soak_plot import polyline, scale

WIDTH, PANEL = 720, 190
LEFT, RIGHT, TOP, GAP = 60, 20, 30, 45


def read(path):
    rows = []
    with open(path, encoding="utf-8") as windows:
        for line in windows:
            fields = line.split()
            if len(fields) == 5:
                rows.append((int(fields[0]) / 1000, float(fields[2]) / 1000, float(fields[3]) / 1000))
    return rows


def main():
    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
        sys.exit("usage: timeline_plot.py OUT.svg NAME=WINDOWS.tsv ...")
    loads = []
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        rows = read(path)
        if not rows:
            sys.exit(f"timeline_plot.py: no windows in {path}")
        loads.append((name, rows))
    height = TOP + len(loads) * (PANEL + GAP)
    font = 'font-family="sans-serif" font-size="12"'
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
        'role="img" aria-labelledby="t">',
        f'<title id="t">{escape("Latency per 100 ms window, p50 and p99: " + ", ".join(n for n, _ in loads))}</title>',
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="{LEFT}" y="18" {font}><tspan fill="#0b57d0">p50</tspan> and '
        '<tspan fill="#b3261e">p99</tspan> per 100 ms window (ms, log scale) against seconds</text>',
    ]
    for index, (name, rows) in enumerate(loads):
        top = TOP + index * (PANEL + GAP) + 16
        bottom = top + PANEL - 16
        end = max(r[0] for r in rows)
        low = math.log10(max(0.01, min(r[1] for r in rows) / 1.5))
        high = math.log10(max(r[2] for r in rows) * 1.5)
        x = lambda s: scale(s, 0, end, LEFT, WIDTH - RIGHT)
        y = lambda ms: scale(math.log10(max(ms, 1e-3)), low, high, bottom, top)
        p99_all = sorted(r[2] for r in rows)
        parts.append(f'<text x="{LEFT}" y="{top - 4}" {font} font-weight="bold">'
                     f'{escape(name)}: worst window p99 {p99_all[-1]:.2f} ms, median window p99 '
                     f'{p99_all[len(p99_all) // 2]:.2f} ms</text>')
        parts.append(f'<rect x="{LEFT}" y="{top}" width="{WIDTH - LEFT - RIGHT}" '
                     f'height="{bottom - top}" fill="none" stroke="#444"/>')
        decade = math.floor(low)
        while decade <= high:
            for mantissa in (1, 2, 5):
                value = mantissa * 10 ** decade
                if low <= math.log10(value) <= high:
                    parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
                                 f'y2="{y(value):.1f}" stroke="#ddd"/>')
                    parts.append(f'<text x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end" '
                                 f'{font}>{value:g}</text>')
            decade += 1
        step = max(1, round(end / 10))
        for second in range(0, int(end) + 1, step):
            parts.append(f'<text x="{x(second):.1f}" y="{bottom + 16}" text-anchor="middle" '
                         f'{font}>{second}</text>')
        parts.append(polyline([(x(s), y(p50)) for s, p50, _ in rows], "#0b57d0"))
        parts.append(polyline([(x(s), y(p99)) for s, _, p99 in rows], "#b3261e"))
    parts.append("</svg>")
    with open(sys.argv[1], "w", encoding="utf-8") as out:
        out.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
