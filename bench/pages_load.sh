#!/usr/bin/env bash
# The privacy centre's pages under load, against GET /ping of the same server in the same run:
#  1. GET /notice (the generated notice, about 50 kB of HTML) and GET /banner.js (the cookie
#     banner's script, vanilla-cookieconsent and ours) each against /ping, with wrk over
#     loopback. Goal: each at least 50 % of ping's requests/s. Rounds alternate ping, notice
#     and banner of equal length; the result is the ratio of the totals, with the median of the
#     per-round ratios (each against the ping round just before it) beside it. The pages are
#     asked for as a browser asks (Accept-Encoding: gzip), so they go gzipped (compressed once
#     when the server starts).
#  2. What a browser downloads, gzipped: the centre's script and stylesheets together (goal at
#     most 100 kB), and the banner's script and stylesheet, each against the notice page itself.
# Same work: every answer 200 (wrk counts non-2xx), and the server answered (its /metrics) as
# many pings and pages as wrk saw, give or take those in flight when wrk stopped; otherwise
# MISMATCH and exit 3 without a verdict.
# Usage: bench/pages_load.sh [BUILD_DIR=build] [SECONDS=10] [ROUNDS=3] [CONNECTIONS=64]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-10}
rounds=${3:-3}
connections=${4:-64}
bin=$build/custos
source bench/load_util.sh
# ProgressTeaching's policy: the longest notice of the seeds and four cookie categories.
prepare_deployment pages-bench policies/progressteaching.yaml
start_server

echo "== pages vs ping: wrk -t2 -c$connections -d${seconds}s, $rounds rounds"
declare -A total=([ping]=0 [notice]=0 [banner]=0)
declare -A rps_sum=([ping]=0 [notice]=0 [banner]=0)
notice_ratios=()
banner_ratios=()
for round in $(seq 1 "$rounds"); do
  read -r ping_rps ping_p99 ping_done < <(run_wrk "$url/ping")
  # As a browser asks: gzip accepted (every browser sends it).
  read -r notice_rps notice_p99 notice_done < <(run_wrk -H "Accept-Encoding: gzip, deflate, br" "$url/notice")
  read -r banner_rps banner_p99 banner_done < <(run_wrk -H "Accept-Encoding: gzip, deflate, br" "$url/banner.js")
  echo "  round $round: ping $ping_rps req/s (p99 $ping_p99 ms), notice $notice_rps (p99 $notice_p99 ms), banner.js $banner_rps (p99 $banner_p99 ms)"
  total[ping]=$((total[ping] + ping_done))
  total[notice]=$((total[notice] + notice_done))
  total[banner]=$((total[banner] + banner_done))
  notice_ratios+=("$(awk -v a="$notice_rps" -v b="$ping_rps" 'BEGIN {printf "%.3f", a / b}')")
  banner_ratios+=("$(awk -v a="$banner_rps" -v b="$ping_rps" 'BEGIN {printf "%.3f", a / b}')")
done
# Same work: the server's own counts against wrk's (a request in flight when wrk stops is
# answered after wrk stopped counting: up to one per connection per round).
slack=$((connections * rounds))
served_ping=$(http_count "GET /ping" 200)
served_pages=$(http_count unmatched 200)
within "pings answered 200 (server vs wrk)" "$served_ping" "${total[ping]}" $((total[ping] + slack))
pages=$((total[notice] + total[banner]))
within "pages answered 200 (server vs wrk)" "$served_pages" "$pages" $((pages + 2 * slack))
require_same_work
notice_median=$(printf '%s\n' "${notice_ratios[@]}" | median)
banner_median=$(printf '%s\n' "${banner_ratios[@]}" | median)
awk -v n="${total[notice]}" -v b="${total[banner]}" -v p="${total[ping]}" \
  -v nm="$notice_median" -v bm="$banner_median" 'BEGIN {
    printf "  notice:    %.0f %% of ping (median of rounds %.0f %%); goal >= 50 %%: %s\n", 100 * n / p, 100 * nm, (n / p >= 0.5 ? "met" : "NOT met")
    printf "  banner.js: %.0f %% of ping (median of rounds %.0f %%); goal >= 50 %%: %s\n", 100 * b / p, 100 * bm, (b / p >= 0.5 ? "met" : "NOT met")
  }'

echo "== what a browser downloads, gzipped (-9)"
gz() { curl -s "$url$1" | gzip -9 | wc -c; }
notice_gz=$(gz /notice)
centre_assets=$(curl -s "$url/notice" | grep -o '/assets/[^"]*' | sort -u)
centre_gz=0
for asset in $centre_assets; do centre_gz=$((centre_gz + $(gz "$asset"))); done
banner_gz=$(( $(gz /banner.js) + $(gz /banner.css) ))
awk -v c="$centre_gz" -v b="$banner_gz" -v n="$notice_gz" 'BEGIN {
  printf "  centre JS+CSS: %d bytes (%.2f x the notice page, %d bytes); goal <= 100 kB: %s\n", c, c / n, n, (c <= 102400 ? "met" : "NOT met")
  printf "  banner JS+CSS: %d bytes (%.2f x the notice page); with the centre: %d bytes; goal <= 100 kB: %s\n", b, b / n, b + c, (b + c <= 102400 ? "met" : "NOT met")
}'
