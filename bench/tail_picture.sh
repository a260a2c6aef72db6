#!/usr/bin/env bash
# A picture of the tail: `custos serve` under load over loopback, every request's latency kept
# (bench/latency_timeline.cc) and drawn per 100 ms window as p50 and p99 over time, for GET
# /ping, POST /v1/decisions (durable: answered once their audit entry is committed) and durable
# consent writes, one after the other against the same server, so a stall shows at a glance.
# Writes OUT.svg (tools/timeline_plot.py) and prints each load's requests/s, p50, p99, p99.9
# and worst window. The same work is checked after the run, as bench/server_load.sh does: the
# server answered (per /metrics) as many decisions and consent writes as the client saw, and
# every decision answered left its audit row.
# Usage: bench/tail_picture.sh [BUILD_DIR=build] [SECONDS=10] [CONNECTIONS=64] [OUT=tail.svg]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-10}
connections=${3:-64}
out=${4:-tail.svg}
subjects=1000
bin=$build/custos
client=$build/bench/latency_timeline
[ -x "$client" ] || { echo "build $client first (cmake -DCUSTOS_BENCH=ON)"; exit 2; }
source bench/load_util.sh
prepare_deployment tail policies/wig.yaml
start_server ${AUDIT_DECISIONS:+--audit-decisions "$AUDIT_DECISIONS"}
make_subjects "$subjects"
port=${url##*:}

echo "== $connections connections, ${seconds}s each, 100 ms windows"
decisions0=$(http_count "POST /v1/decisions" 200)
consents0=$(http_count "POST /v1/subjects/{id}/consents" 201)
audited0=$(count_rows "$data/custos.db" "SELECT COUNT(*) FROM audit_log WHERE action = 'decide'")
for kind in ping decide consent; do
  "$client" "$port" "$seconds" "$connections" "$kind" "$token" "$subjects" "$work/$kind.tsv" \
    | tee "$work/$kind.summary"
done
sleep 1  # answers in flight when the client stopped are committed
answered() { awk '{n += $2} END {print n}' "$work/$1.tsv"; }
decisions=$(( $(http_count "POST /v1/decisions" 200) - decisions0 ))
consents=$(( $(http_count "POST /v1/subjects/{id}/consents" 201) - consents0 ))
audited=$(( $(count_rows "$data/custos.db" "SELECT COUNT(*) FROM audit_log WHERE action = 'decide'") - audited0 ))
within "decisions answered 200 by the server (the client saw $(answered decide))" \
  "$decisions" "$(answered decide)" $(( $(answered decide) + connections ))
within "consent writes answered 201 by the server (the client saw $(answered consent))" \
  "$consents" "$(answered consent)" $(( $(answered consent) + connections ))
same "decisions answered; their audit rows stored" "$decisions" "$audited"
require_same_work
python3 tools/timeline_plot.py "$out" "ping=$work/ping.tsv" "decisions=$work/decide.tsv" \
  "consent writes=$work/consent.tsv"
echo "wrote $out"
