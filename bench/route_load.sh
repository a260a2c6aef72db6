#!/usr/bin/env bash
# One route of `custos serve` under wrk, with what the server spent on it: for comparing two
# builds (run their binaries in turn, several times: this machine drifts) or finding where a
# route's time goes. Prints wrk's requests/s and p50/p99, the server's CPU per request (perf stat
# task-clock, when perf is installed), the share of the machine left idle, and for writes the
# group commits (writes per commit, from /metrics).
# Usage: bench/route_load.sh [BUILD_DIR=build] [ROUTE=decide|consent|ping] [SECONDS=6]
#        environment: CONNS (64), THREADS (the server's --threads, 64), SERVE_OPTIONS (more
#        options for `custos serve`, e.g. "--audit-decisions buffered"), STORE (sqlite, or
#        postgres: a throwaway PostgreSQL 15 cluster, fsync on, started for the run).
# Decisions and consent writes are the requests of bench/server_load.sh (1000 people, half
# consenting, a random person each request). Not a verdict: server_load.sh gives those.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
route=${2:-decide}
seconds=${3:-6}
connections=${CONNS:-64}
subjects=1000
bin=$build/custos
source bench/load_util.sh
prepare_deployment route-load policies/wig.yaml
# shellcheck disable=SC2086
start_server ${SERVE_OPTIONS:-}
make_subjects "$subjects"
write_request_scripts
case "$route" in
  ping) args=("$url/ping") ;;
  decide) args=(-s "$work/decide.lua" "$url") ;;
  consent) args=(-s "$work/consent.lua" "$url") ;;
  *) echo "route: ping, decide or consent" >&2; exit 2 ;;
esac
wrk -t2 -c"$connections" -d2s "$url/ping" > /dev/null  # warm the connections' threads
stat_pid=
if command -v perf > /dev/null; then
  perf stat -e task-clock -p "$server_pid" -o "$work/stat" -- sleep "$seconds" 2> /dev/null &
  stat_pid=$!
fi
writes0=$(metric custos_writes_total); commits0=$(metric custos_write_transactions_total)
read -r -a cpu0 < /proc/stat
out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "${args[@]}")
read -r -a cpu1 < /proc/stat
writes=$(( $(metric custos_writes_total) - writes0 ))
commits=$(( $(metric custos_write_transactions_total) - commits0 ))
[ -n "$stat_pid" ] && wait "$stat_pid" || true
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
echo "$route, $connections connections, ${seconds}s: $rps req/s; latency $(echo "$out" | awk '$1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2} END {print "p50 " p50 ", p99 " p99}')"
total=0; for i in $(seq 1 $((${#cpu1[@]} - 1))); do total=$((total + cpu1[i] - cpu0[i])); done
idle=$(( cpu1[4] - cpu0[4] + cpu1[5] - cpu0[5] ))
echo "machine idle (idle + iowait): $((100 * idle / total)) %"
if [ -n "$stat_pid" ] && [ -s "$work/stat" ]; then
  awk -v r="$rps" -v s="$seconds" '/task-clock/ {gsub(",", "", $1); printf "server CPU: %.1f us per request\n", 1000 * $1 / (r * s)}' "$work/stat"
fi
if [ "$route" = consent ] && [ "$commits" -gt 0 ]; then
  awk -v w="$writes" -v c="$commits" 'BEGIN {printf "writes: %d in %d commits (%.1f a commit)\n", w, c, w / c}'
fi
