#!/usr/bin/env bash
# Load benchmark of `custos serve` over loopback with wrk, every figure against a
# baseline measured in the same run:
#  1. POST /v1/decisions against GET /ping of the same server (goal: decisions >= 70 % of
#     ping's requests/s, and p99 <= 10 ms, at 64 connections). Rounds alternate ping and
#     decisions of equal length, so the ratio of the totals is the ratio of the two
#     requests/s over the whole run: that is the result. Each decisions round is also set
#     against the ping round just before it (this machine's speed drifts by a third within
#     minutes), and the median of those per-round ratios is printed beside it.
#  2. Durable consent writes per second over HTTP (POST /v1/subjects/{id}/consents, each one a
#     consent event plus its audit entry, synchronous=FULL, acknowledged only once committed)
#     against the same rows inserted by raw SQLite (the sqlite3 shell, same schema, WAL,
#     synchronous=FULL) in the same transactions: as many as the server's group committer
#     used (from /metrics), the rows spread evenly over them.
#  3. Scaling: ping and decisions again with the server pinned to 1, 2 and all cores
#     (taskset), each decision figure against the ping of the same core count.
# Each part gives its verdict only after checking that both sides did the same work, counted
# after the run: the server answered (per /metrics) as many requests as wrk saw, give or take
# those in flight when wrk stopped; every decision answered left its audit row; the raw
# baseline stored as many consent events and audit rows, in as many transactions, as the
# server did. Otherwise it prints MISMATCH and exits 3 without a verdict.
# Decisions are durable (answered once their audit entry is committed) unless AUDIT_DECISIONS=
# buffered is set in the environment (passed to `custos serve --audit-decisions`).
# Usage: bench/server_load.sh [BUILD_DIR=build] [SECONDS=10] [ROUNDS=3] [CONNECTIONS=64]
#        [--mismatch-for-testing]  (the raw baseline inserts one write fewer: no verdict)
# One client (wrk) at a time, which opens its connections itself: no timed phases to line up.
# wrk shares the machine's cores with the server, as a client on the same host would.
set -euo pipefail
cd "$(dirname "$0")/.."
mismatch=0
args=()
for arg in "$@"; do
  if [ "$arg" = "--mismatch-for-testing" ]; then mismatch=1; else args+=("$arg"); fi
done
set -- ${args[@]+"${args[@]}"}
build=${1:-build}
seconds=${2:-10}
rounds=${3:-3}
connections=${4:-64}
subjects=1000
bin=$build/custos
source bench/load_util.sh
prepare_deployment server-bench policies/wig.yaml
start_server ${AUDIT_DECISIONS:+--audit-decisions "$AUDIT_DECISIONS"}

make_subjects "$subjects"

write_request_scripts

# The "same work" checks, the /metrics reader and wrk's figures come from bench/load_util.sh.

echo "== decisions vs ping: wrk -t2 -c$connections -d${seconds}s, $rounds rounds"
: > "$work/ping"; : > "$work/decide"
pings0=$(http_count "GET /ping" 200); decisions0=$(http_count "POST /v1/decisions" 200)
audited0=$(count_rows "$data/custos.db" "SELECT COUNT(*) FROM audit_log WHERE action = 'decide'")
for r in $(seq 1 "$rounds"); do
  ping=$(run_wrk "$url/ping"); echo "$ping" >> "$work/ping"
  decide=$(run_wrk -s "$work/decide.lua" "$url"); echo "$decide" >> "$work/decide"
  echo "round $r: ping $ping | decisions $decide   (req/s p99-ms requests)"
done
sleep 1  # requests in flight when wrk stopped are answered, and decisions' audit rows flushed
pings=$(( $(http_count "GET /ping" 200) - pings0 ))
decisions=$(( $(http_count "POST /v1/decisions" 200) - decisions0 ))
audited=$(( $(count_rows "$data/custos.db" "SELECT COUNT(*) FROM audit_log WHERE action = 'decide'") - audited0 ))
wrk_pings=$(awk '{n += $3} END {print n}' "$work/ping")
wrk_decisions=$(awk '{n += $3} END {print n}' "$work/decide")
ping_rps=$(awk '{print $1}' "$work/ping" | median); ping_p99=$(awk '{print $2}' "$work/ping" | median)
dec_rps=$(awk '{print $1}' "$work/decide" | median); dec_p99=$(awk '{print $2}' "$work/decide" | median)
paste -d' ' "$work/ping" "$work/decide" | awk '{print 100 * $4 / $1}' > "$work/ratios"
ratio=$(median < "$work/ratios")
echo "ping:      $ping_rps req/s, p99 $ping_p99 ms (median of $rounds)"
echo "decisions: $dec_rps req/s, p99 $dec_p99 ms (median of $rounds)"
same "rounds of ${seconds}s (decisions; ping)" "$(wc -l < "$work/decide")" "$(wc -l < "$work/ping")"
within "pings answered 200 by the server (wrk saw $wrk_pings; up to $connections a round in flight)" \
  "$pings" "$wrk_pings" $((wrk_pings + connections * rounds))
within "decisions answered 200 by the server (wrk saw $wrk_decisions)" \
  "$decisions" "$wrk_decisions" $((wrk_decisions + connections * rounds))
same "decisions answered; their audit rows stored" "$decisions" "$audited"
require_same_work
echo "per-round ratios: $(awk '{printf "%s%.0f", (NR > 1 ? " " : ""), $1}' "$work/ratios") %"
echo "median of the per-round ratios: $(printf '%.0f' "$ratio") %"
total=$(paste -d' ' "$work/ping" "$work/decide" | awk '{p += $1; d += $4} END {print 100 * d / p}')
awk -v r="$total" -v l="$dec_p99" -v p="$ping_p99" 'BEGIN {
  printf "ratio decisions/ping over the run (totals): %.0f %% (goal >= 70 %%); decisions p99 %.2f ms, %.1fx ping'"'"'s (goals <= 10 ms, <= 3x): %s\n",
  r, l, l / p, (r >= 70 && l <= 10 && l <= 3 * p) ? "MET" : "NOT MET" }'

echo
echo "== durable consent writes over HTTP vs raw SQLite, same rows, same batches"
sqlite3 "$data/custos.db" ".backup $work/baseline.db"
consents_sql="SELECT COUNT(*) FROM consent_events"
audit_sql="SELECT COUNT(*) FROM audit_log"
b0=$(metric custos_writes_total); c0=$(metric custos_write_transactions_total)
answered0=$(http_count "POST /v1/subjects/{id}/consents" 201)
server_consents0=$(count_rows "$data/custos.db" "$consents_sql")
server_audit0=$(count_rows "$data/custos.db" "$audit_sql")
consent=$(run_wrk -s "$work/consent.lua" "$url")
sleep 1  # writes in flight when wrk stopped are committed
b1=$(metric custos_writes_total); c1=$(metric custos_write_transactions_total)
answered=$(( $(http_count "POST /v1/subjects/{id}/consents" 201) - answered0 ))
server_consents=$(( $(count_rows "$data/custos.db" "$consents_sql") - server_consents0 ))
server_audit=$(( $(count_rows "$data/custos.db" "$audit_sql") - server_audit0 ))
http_rps=$(echo "$consent" | awk '{print $1}')
wrk_writes=$(echo "$consent" | awk '{print $3}')
rows=$((b1 - b0)); commits=$((c1 - c0))
group=$(awk -v r="$rows" -v c="$commits" 'BEGIN {printf "%.1f", r / c}')
echo "HTTP: $http_rps consent writes/s (p99 $(echo "$consent" | awk '{print $2}') ms); $rows writes in $commits commits (avg group $group)"

# The same rows: a consent event and an audit entry per write, spread evenly over as many
# transactions as the server committed. Untimed first, the baseline's WAL is grown past the
# autocheckpoint and restarted, as the server's is by then (the decision rounds wrote to it):
# its commits then overwrite WAL pages in place, as the server's do, instead of growing a fresh
# WAL file, whose fdatasync also has the file's size to write.
baseline_rows=$rows
[ "$mismatch" = 1 ] && baseline_rows=$((rows - 1))
baseline_consents0=$(count_rows "$work/baseline.db" "$consents_sql")
baseline_audit0=$(count_rows "$work/baseline.db" "$audit_sql")
{
  echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
  echo "CREATE TABLE bench_warm (b BLOB); INSERT INTO bench_warm VALUES (zeroblob(5000000));"
  echo "DROP TABLE bench_warm; PRAGMA wal_checkpoint(RESTART);"
  echo ".shell date +%s.%N > $work/baseline.start"
  awk -v rows="$baseline_rows" -v commits="$commits" -v subjects="$subjects" 'BEGIN {
    srand(1);
    for (i = 1; i <= rows; i++) {
      # transaction t holds writes t*rows/commits+1 .. (t+1)*rows/commits
      t = int((i - 1) * commits / rows);
      if (i == 1 || t != last) { if (i > 1) print "COMMIT;"; print "BEGIN;"; last = t }
      s = int(rand() * subjects) + 1;
      printf "INSERT INTO consent_events VALUES (%s,%s,%d,%s,%s,%s,%s,%s,%d,randomblob(40));\n",
        "'\''wig'\''", "'\''b" s "'\''", 1000000 + i, "'\''purpose'\''", "'\''newsletter'\''",
        (i % 2 ? "'\''given'\''" : "'\''withdrawn'\''"), "'\''2022-02-10'\''", "'\''api'\''", 1700000000000000 + i;
      printf "INSERT INTO audit_log VALUES (%d,%s,%d,%s,%s,%s,%s,%s,randomblob(32),randomblob(32));\n",
        10000000 + i, "'\''wig'\''", 1700000000000000 + i, "'\''token:0123456789abcdef'\''",
        "'\''consent'\''", "'\''newsletter'\''", "'\''b" s "'\''", "'\''given newsletter'\''";
    }
    if (rows > 0) print "COMMIT;";
  }'
  echo ".shell date +%s.%N > $work/baseline.end"
} > "$work/baseline.sql"
sqlite3 "$work/baseline.db" < "$work/baseline.sql" > /dev/null
start=$(cat "$work/baseline.start"); end=$(cat "$work/baseline.end")
baseline_consents=$(( $(count_rows "$work/baseline.db" "$consents_sql") - baseline_consents0 ))
baseline_audit=$(( $(count_rows "$work/baseline.db" "$audit_sql") - baseline_audit0 ))
baseline_commits=$(grep -c '^BEGIN;$' "$work/baseline.sql" || true)
awk -v rows="$baseline_rows" -v s="$start" -v e="$end" -v g="$group" 'BEGIN {
  printf "raw SQLite: %.0f rows/s (%d writes, %.1f per transaction, synchronous=FULL)\n", rows / (e - s), rows, g }'
within "consent writes answered 201 by the server (wrk saw $wrk_writes)" \
  "$answered" "$wrk_writes" $((wrk_writes + connections))
same "consent writes stored by the server (writes committed; consents answered)" "$rows" "$answered"
same "consent events stored (server; raw)" "$server_consents" "$baseline_consents"
same "audit rows stored (server; raw)" "$server_audit" "$baseline_audit"
same "transactions (server; raw)" "$commits" "$baseline_commits"
same "consent events stored by the server; writes it committed" "$server_consents" "$rows"
require_same_work
awk -v rows="$rows" -v s="$start" -v e="$end" -v h="$http_rps" 'BEGIN {
  printf "ratio HTTP/raw: %.0f %%\n", 100 * h / (rows / (e - s)) }'

# 3. Scaling: the same ping and decision rounds with the server's threads pinned (taskset) to
# 1, 2 and all of this machine's cores, so a larger machine's figures can be predicted from
# these and set against them. wrk is not pinned: it runs on whatever the server leaves.
echo
cores=$(nproc)
counts=$(printf '%s\n' 1 2 "$cores" | awk -v n="$cores" '$1 <= n' | sort -un | tr '\n' ' ')
echo "== scaling: the server on ${counts}core(s) of $cores (taskset), wrk -t2 -c$connections -d${seconds}s"
: > "$work/scale_ping"; : > "$work/scale_decide"
decisions0=$(http_count "POST /v1/decisions" 200)
audited0=$(count_rows "$data/custos.db" "SELECT COUNT(*) FROM audit_log WHERE action = 'decide'")
for n in $counts; do
  taskset -a -p -c "0-$((n - 1))" "$server_pid" > /dev/null
  ping=$(run_wrk "$url/ping"); echo "$ping" >> "$work/scale_ping"
  decide=$(run_wrk -s "$work/decide.lua" "$url"); echo "$decide" >> "$work/scale_decide"
  echo "$ping $decide" | awk -v n="$n" '{
    printf "cores %d: ping %.0f req/s p99 %.2f ms | decisions %.0f req/s p99 %.2f ms | decisions/ping %.0f %%, p99 %.1fx ping'"'"'s\n",
    n, $1, $2, $4, $5, 100 * $4 / $1, $5 / $2 }'
done
taskset -a -p -c "0-$((cores - 1))" "$server_pid" > /dev/null
sleep 1
decisions=$(( $(http_count "POST /v1/decisions" 200) - decisions0 ))
audited=$(( $(count_rows "$data/custos.db" "SELECT COUNT(*) FROM audit_log WHERE action = 'decide'") - audited0 ))
wrk_decisions=$(awk '{n += $3} END {print n}' "$work/scale_decide")
runs=$(wc -l < "$work/scale_decide")
same "core counts measured (decisions; ping)" "$runs" "$(wc -l < "$work/scale_ping")"
within "decisions answered 200 by the server (wrk saw $wrk_decisions)" \
  "$decisions" "$wrk_decisions" $((wrk_decisions + connections * runs))
same "decisions answered; their audit rows stored" "$decisions" "$audited"
require_same_work
