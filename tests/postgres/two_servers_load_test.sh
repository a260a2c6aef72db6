#!/usr/bin/env bash
# Two `custos serve` processes over one PostgreSQL schema, driven at full speed at the same time
# over the same people (the race on the audit chain's head that once answered 1 write in ~5,000
# with 422 "duplicate key value violates unique constraint"):
#  1. one deployment (one data directory for the key and tokens, one schema), LOAD_PEOPLE people
#     (default 200) added through one server; two servers, no rate or connection limits;
#  2. one wrk per server, both at once for LOAD_SECONDS (default 10): consent changes (given and
#     withdrawn) and decisions mixed on every connection, over the same people on both servers
#     (tests/postgres/two_servers_load.lua), every answer counted by kind, status and code;
#  3. every answer is 201 (consent) or 200 (decision), or 409 CONFLICT / 503 STORE_UNAVAILABLE
#     (retryable): no other 4xx, no other 5xx, no socket errors or timeouts; no answer's body
#     carries database text. The same holds for every answer the servers counted (/metrics),
#     those wrk stopped waiting for included;
#  4. nothing is lost or made up: the consent events stored, and the consent changes audited, are
#     exactly the consent changes the servers answered 201; every decision answered 200 is
#     audited (one answered 409/503 may be too: its entry stays buffered for a later commit);
#     wrk saw no more of either than the servers answered;
#  5. both stop cleanly on SIGTERM; the audit chain both wrote verifies.
# Prints the totals: requests/s per server, answers by status. A broken promise is printed as a
# VIOLATION and the checks go on, so one run shows every one; the test then fails at the end.
# Usage: two_servers_load_test.sh CUSTOS_BINARY SOURCE_DIR  (CUSTOS_TEST_DATABASE_URL from
# ctest's postgres fixture; without it, the test runs its own throwaway cluster)
set -euo pipefail
bin=$1
src=$2
psql=/usr/lib/postgresql/15/bin/psql
people=${LOAD_PEOPLE:-200}
seconds=${LOAD_SECONDS:-10}
# Connections per server. On two cores more connections bring fewer answers a second (and fewer
# transactions racing for the audit head): 8 drove the most.
connections=${LOAD_CONNECTIONS:-8}
wrk_threads=${LOAD_WRK_THREADS:-1}
consent_percent=${LOAD_CONSENT_PERCENT:-50}
lua=$src/tests/postgres/two_servers_load.lua

work=$(mktemp -d)
schema=tl_$$
server_pids=()
own_cluster=
cleanup() {
  for pid in "${server_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ -n "$own_cluster" ]; then
    "$src/scripts/pg-test-cluster.sh" stop "$work/pg" >/dev/null 2>&1 || true
  else
    "$psql" -q "$url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "FAIL: wrk is not installed" >&2; exit 1; }
url=${CUSTOS_TEST_DATABASE_URL:-}
if [ -z "$url" ]; then
  own_cluster=1
  "$src/scripts/pg-test-cluster.sh" start "$work/pg" 0 >/dev/null
  url=$(cat "$work/pg/url")
fi

custos() { "$bin" --data "$work/data" --database "$url" --schema "$schema" "$@"; }
sql() { "$psql" -qtA "$url" -c "$1"; }
fail() {
  echo "FAIL: $*" >&2
  for name in a b; do
    [ -f "$work/$name.log" ] && tail -n 20 "$work/$name.log" | sed "s/^/server $name: /" >&2
    [ -f "$work/wrk_$name" ] && sed "s/^/wrk $name: /" "$work/wrk_$name" >&2
  done
  exit 1
}
expect() {  # expect WHAT ACTUAL WANTED
  [ "$2" = "$3" ] || fail "$1: $2, expected $3"
  echo "ok: $1 = $2"
}
# A broken promise is noted and the checks go on, so one run shows all of them; the test fails
# at the end. fail is for the harness's own trouble (a server that does not start, ...).
violations=0
violation() {
  echo "VIOLATION: $*" >&2
  violations=$((violations + 1))
}
check() {  # check WHAT ACTUAL WANTED
  if [ "$2" = "$3" ]; then echo "ok: $1 = $2"; else violation "$1: $2, expected $3"; fi
}
started=$(date +%s)

custos init --policy "$src/policies/wig.yaml" >/dev/null
admin=$("$bin" --data "$work/data" token create --role admin --label two-servers-load)

start_server() {  # start_server NAME: starts it on a free port, sets port_NAME and pid_NAME
  # The binary itself in the background (not the shell function), so $! is the server's pid.
  # wrk is one client address holding all its connections: no limits per address or token.
  "$bin" --data "$work/data" --database "$url" --schema "$schema" serve --listen 127.0.0.1:0 \
    --rate-limit 0 --address-rate-limit 0 --connections-per-address 0 --log-requests none \
    --sweep-every 0 --deliver-every 0 >"$work/$1.out" 2>"$work/$1.log" &
  server_pids+=($!)
  eval "pid_$1=$!"
  for _ in $(seq 1 300); do
    grep -q 'listening on' "$work/$1.out" 2>/dev/null && break
    sleep 0.1
  done
  local port
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/$1.out")
  [ -n "$port" ] || fail "server $1 did not start"
  eval "port_$1=$port"
}
start_server a
start_server b
echo "servers on ports $port_a and $port_b; $people people, wrk -t$wrk_threads" \
  "-c$connections -d${seconds}s on each, $consent_percent % consent changes"

# 1. The people, through a (one curl, one kept-alive connection).
for i in $(seq 1 "$people"); do
  printf 'url = "http://127.0.0.1:%s/v1/subjects"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"id\\":\\"p%d\\",\\"types\\":[\\"non_member\\"],\\"email\\":\\"p%d@example.test\\"}"\nwrite-out = "%%{http_code}\\n"\noutput = "/dev/null"\nnext\n' \
    "$port_a" "$admin" "$i" "$i"
done | sed '$d' >"$work/people.curl"
curl -s -K "$work/people.curl" >"$work/people.codes" || fail "adding people: curl failed"
expect "people added through a (201s)" "$(grep -c '^201$' "$work/people.codes")" "$people"
expect "people" "$(sql "SELECT count(*) FROM $schema.subjects")" "$people"
events0=$(sql "SELECT count(*) FROM $schema.consent_events")
decide0=$(sql "SELECT count(*) FROM $schema.audit_log WHERE action = 'decide'")
consent_audit_sql="SELECT count(*) FROM $schema.audit_log WHERE action IN ('consent_given', 'consent_withdrawn')"
consent_audit0=$(sql "$consent_audit_sql")

# 2. Both servers at once, as fast as they go.
wrk -t"$wrk_threads" -c"$connections" -d"${seconds}s" --timeout 10s -s "$lua" \
  "http://127.0.0.1:$port_a" -- "$admin" "$people" "$consent_percent" >"$work/wrk_a" 2>&1 &
wrk_a=$!
wrk -t"$wrk_threads" -c"$connections" -d"${seconds}s" --timeout 10s -s "$lua" \
  "http://127.0.0.1:$port_b" -- "$admin" "$people" "$consent_percent" >"$work/wrk_b" 2>&1 &
wrk_b=$!
wait $wrk_a || fail "wrk against a failed"
wait $wrk_b || fail "wrk against b failed"
sleep 1  # answers wrk stopped waiting for are sent, their writes committed

# 3. What wrk saw. count_of FILE 'KIND STATUS': the sum of those counters.
count_of() { awk -v k="$2" '$1 == "count" && ($2 " " $3) == k { n += $NF } END { print n + 0 }' "$1"; }
for name in a b; do
  f=$work/wrk_$name
  grep -q '^total ' "$f" || fail "wrk against $name printed no totals"
  read -r _ requests duration socket_errors timeouts < <(grep '^total ' "$f")
  rps=$(awk -v r="$requests" -v d="$duration" 'BEGIN { printf "%.0f", r / d }')
  echo "server $name: $requests answers in ${duration}s = $rps requests/s, p99 $(awk '/^latency_p99_ms/ {print $2}' "$f") ms"
  sed -n 's/^count /  /p' "$f"
  check "server $name: socket errors" "$socket_errors" 0
  check "server $name: timeouts" "$timeouts" 0
  [ "$requests" -gt 0 ] || fail "server $name answered nothing"
  bad=$(awk '$1 == "count" && !(($2 == "consent" && $3 == "201") || ($2 == "decision" && $3 == "200") || ($3 == "409" && $4 == "CONFLICT") || ($3 == "503" && $4 == "STORE_UNAVAILABLE"))' "$f")
  if [ -n "$bad" ]; then
    violation "server $name: answers neither success nor retryable: $(echo "$bad" | sed 's/^count //' | tr '\n' ';')"
  else
    echo "ok: server $name: every answer 200/201 or 409 CONFLICT / 503 STORE_UNAVAILABLE"
  fi
  leaks=$(sed -n 's/^leak //p' "$f")
  if [ -n "$leaks" ]; then
    violation "server $name: $(echo "$leaks" | wc -l) answers carrying database text (at most 20 kept per thread):"
    echo "$leaks" | sort | uniq -c | sed 's/^/  /' >&2
  else
    echo "ok: server $name: no answer carries database text"
  fi
  counted=$(awk '$1 == "count" {n += $NF} END {print n + 0}' "$f")
  expect "server $name: answers counted by kind and status" "$counted" "$requests"
done

# The same from the servers' side (/metrics), answers wrk no longer waited for included.
for name in a b; do
  port_var=port_$name
  curl -s -H "Authorization: Bearer $admin" "http://127.0.0.1:${!port_var}/metrics" |
    sed -n 's/^custos_http_requests_total{route="\([^"]*\)",status="\([0-9]*\)"} \([0-9]*\)$/\1|\2|\3/p' \
      >"$work/metrics_$name"
  [ -s "$work/metrics_$name" ] || fail "server $name: no request counters in /metrics"
  bad=$(awk -F'|' '($1 == "POST /v1/subjects/{id}/consents" && $2 != "201" && $2 != "409" && $2 != "503") ||
                   ($1 == "POST /v1/decisions" && $2 != "200" && $2 != "409" && $2 != "503")' "$work/metrics_$name")
  if [ -n "$bad" ]; then
    violation "server $name counted answers neither success nor retryable (route|status|count): $(echo "$bad" | tr '\n' ';')"
  else
    echo "ok: server $name: /metrics counts no consent or decision answer but 200/201/409/503"
  fi
done
served() {  # served ROUTE STATUS: answers both servers counted
  cat "$work/metrics_a" "$work/metrics_b" | awk -F'|' -v r="$1" -v s="$2" '$1 == r && $2 == s {n += $3} END {print n + 0}'
}
consents_201=$(served "POST /v1/subjects/{id}/consents" 201)
decisions_200=$(served "POST /v1/decisions" 200)
retryable=$(($(served "POST /v1/subjects/{id}/consents" 409) + $(served "POST /v1/subjects/{id}/consents" 503) +
  $(served "POST /v1/decisions" 409) + $(served "POST /v1/decisions" 503)))
wrk_consents=$(($(count_of "$work/wrk_a" 'consent 201') + $(count_of "$work/wrk_b" 'consent 201')))
wrk_decisions=$(($(count_of "$work/wrk_a" 'decision 200') + $(count_of "$work/wrk_b" 'decision 200')))
echo "servers answered $consents_201 consent changes 201 (wrk saw $wrk_consents)," \
  "$decisions_200 decisions 200 (wrk saw $wrk_decisions), $retryable retryable 409/503"
[ "$consents_201" -gt 0 ] && [ "$decisions_200" -gt 0 ] || fail "no consent change or no decision answered"
if [ "$wrk_consents" -le "$consents_201" ] && [ "$wrk_consents" -ge $((consents_201 - 2 * connections)) ] &&
  [ "$wrk_decisions" -le "$decisions_200" ] && [ "$wrk_decisions" -ge $((decisions_200 - 2 * connections)) ]; then
  echo "ok: wrk's successes match the servers' (up to the $((2 * connections)) in flight when it stopped)"
else
  violation "wrk saw $wrk_consents consent 201s and $wrk_decisions decision 200s; the servers answered $consents_201 and $decisions_200"
fi

# 4. Nothing lost, nothing made up.
check "consent events stored (= consent changes answered 201)" \
  "$(($(sql "SELECT count(*) FROM $schema.consent_events") - events0))" "$consents_201"
check "consent changes audited (= consent changes answered 201)" \
  "$(($(sql "$consent_audit_sql") - consent_audit0))" "$consents_201"
# Decisions fail closed: every decision answered 200 is audited. One answered 409/503 may still
# be audited: its entry stays buffered and a later commit stores it (docs/RELIABILITY.md).
decisions_retryable=$(($(served "POST /v1/decisions" 409) + $(served "POST /v1/decisions" 503)))
decisions_audited=$(($(sql "SELECT count(*) FROM $schema.audit_log WHERE action = 'decide'") - decide0))
if [ "$decisions_audited" -ge "$decisions_200" ] &&
  [ "$decisions_audited" -le $((decisions_200 + decisions_retryable)) ]; then
  echo "ok: decisions audited: $decisions_audited (answered 200: $decisions_200, retryable: $decisions_retryable)"
else
  violation "decisions audited: $decisions_audited, not within $decisions_200..$((decisions_200 + decisions_retryable))"
fi

# 5. Both stop cleanly; one audit line, intact.
for name in a b; do
  pid_var=pid_$name
  kill -TERM "${!pid_var}"
  code=0
  wait "${!pid_var}" || code=$?
  check "server $name exit code after SIGTERM" "$code" 0
  if grep -q -E 'catch_up_failed|policy_loaded_elsewhere' "$work/$name.log"; then
    violation "server $name logged a catch-up problem"
  fi
done
server_pids=()
check "audit seqs contiguous" "$(sql "SELECT count(*) = max(seq) FROM $schema.audit_log")" t
custos audit verify || violation "the audit chain does not verify"
if [ "$violations" -gt 0 ]; then
  fail "$violations broken promises (VIOLATION above) in $(($(date +%s) - started)) s"
fi
echo "two servers under load: ok ($(($(date +%s) - started)) s)"
