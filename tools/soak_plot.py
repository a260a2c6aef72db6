#!/usr/bin/env python3
"""Draws a soak's minutes (tests/reliability/soak.sh output) as an SVG: the server's RSS and
p99 latency per minute, for docs/RELIABILITY.md.

Usage: tools/soak_plot.py SOAK_LOG OUT.svg
Reads the table lines "minute req/s of_peak p99_ms non_2xx rss_mib delay_ms"; Python's
standard library only.
"""
import sys
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 60, 60, 40, 50


def read(path):
    rows = []
    with open(path, encoding="utf-8") as log:
        for line in log:
            fields = line.split()
            if len(fields) >= 6 and fields[0].isdigit():
                rows.append((int(fields[0]), float(fields[1]), float(fields[3]), float(fields[5])))
    return rows


def scale(value, low, high, out_low, out_high):
    if high == low:
        return (out_low + out_high) / 2
    return out_low + (value - low) * (out_high - out_low) / (high - low)


def polyline(points, colour):
    text = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    return f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{text}"/>'


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: soak_plot.py SOAK_LOG OUT.svg")
    rows = read(sys.argv[1])
    if not rows:
        sys.exit(f"soak_plot.py: no minute lines in {sys.argv[1]}")
    minutes = [r[0] for r in rows]
    rss = [r[3] for r in rows]
    p99 = [r[2] for r in rows]
    rss_high = max(rss) * 1.25
    p99_high = max(p99) * 1.25
    x = lambda m: scale(m, min(minutes), max(minutes), LEFT, WIDTH - RIGHT)
    y_rss = lambda v: scale(v, 0, rss_high, HEIGHT - BOTTOM, TOP)
    y_p99 = lambda v: scale(v, 0, p99_high, HEIGHT - BOTTOM, TOP)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="t">',
        f'<title id="t">{escape(f"Soak: server RSS and p99 per minute, {len(rows)} minutes")}</title>',
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#444"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#444"/>',
        f'<line x1="{WIDTH - RIGHT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
        'stroke="#444"/>',
    ]
    font = 'font-family="sans-serif" font-size="12"'
    for i in range(5):
        v = rss_high * i / 4
        parts.append(f'<text x="{LEFT - 6}" y="{y_rss(v) + 4:.1f}" text-anchor="end" {font} '
                     f'fill="#0b57d0">{v:.0f}</text>')
        w = p99_high * i / 4
        parts.append(f'<text x="{WIDTH - RIGHT + 6}" y="{y_p99(w) + 4:.1f}" {font} '
                     f'fill="#b3261e">{w:.0f}</text>')
    step = max(1, len(minutes) // 10)
    for m in minutes[::step]:
        parts.append(f'<text x="{x(m):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" '
                     f'{font}>{m}</text>')
    parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT - 10}" text-anchor="middle" {font}>minute</text>')
    parts.append(f'<text x="{LEFT}" y="{TOP - 14}" {font} fill="#0b57d0">RSS (MiB)</text>')
    parts.append(f'<text x="{WIDTH - RIGHT}" y="{TOP - 14}" text-anchor="end" {font} '
                 'fill="#b3261e">p99 (ms)</text>')
    parts.append(polyline([(x(m), y_rss(v)) for m, v in zip(minutes, rss)], "#0b57d0"))
    parts.append(polyline([(x(m), y_p99(v)) for m, v in zip(minutes, p99)], "#b3261e"))
    parts.append("</svg>")
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        out.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
