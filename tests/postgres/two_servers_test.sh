#!/usr/bin/env bash
# Two `custos serve` processes over one PostgreSQL schema at once, driven over HTTP:
#  1. both add people and both change every person's consent at the same time (one gives, one
#     withdraws, four requests in flight on each): exact counts afterwards;
#  2. a consent given or withdrawn through one server is seen by the other's POST
#     /v1/decisions within a second (each server catches up every --refresh-every 200 ms);
#  3. rights requests (restriction, erasure) fulfilled through both servers at the same moment:
#     exactly one answers 200 and the other 409, and the data changes once; both servers'
#     decisions then see it;
#  4. the audit chain both servers wrote is one unbroken line; both stop cleanly on SIGTERM.
# Usage: two_servers_test.sh CUSTOS_BINARY SOURCE_DIR  (CUSTOS_TEST_DATABASE_URL from ctest)
set -euo pipefail
bin=$1
src=$2
url=${CUSTOS_TEST_DATABASE_URL:?CUSTOS_TEST_DATABASE_URL is not set: run under ctest (postgres fixture)}
psql=/usr/lib/postgresql/15/bin/psql
per_server=${PEOPLE_PER_SERVER:-10}
bound_ms=${COHERENCE_BOUND_MS:-1000}

work=$(mktemp -d)
schema=ts_$$
server_pids=()
cleanup() {
  for pid in "${server_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  "$psql" -q "$url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

custos() { "$bin" --data "$work/data" --database "$url" --schema "$schema" "$@"; }
sql() { "$psql" -qtA "$url" -c "$1"; }
fail() {
  echo "FAIL: $*" >&2
  for name in a b; do
    [ -f "$work/$name.log" ] && sed "s/^/server $name: /" "$work/$name.log" >&2
  done
  exit 1
}
expect() {  # expect WHAT ACTUAL WANTED
  [ "$2" = "$3" ] || fail "$1: $2, expected $3"
  echo "ok: $1 = $2"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

custos init --policy "$src/policies/wig.yaml" >/dev/null
admin=$("$bin" --data "$work/data" token create --role admin --label two-servers)

start_server() {  # start_server NAME: starts it on a free port, sets port_NAME
  # The binary itself in the background (not the shell function), so $! is the server's pid.
  "$bin" --data "$work/data" --database "$url" --schema "$schema" serve --listen 127.0.0.1:0 \
    --sweep-every 0 --deliver-every 0 --refresh-every 200 >"$work/$1.out" 2>"$work/$1.log" &
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
echo "servers on ports $port_a and $port_b"

# call PORT METHOD PATH [BODY]: prints the body, then the status on a line of its own.
call() {
  local args=(-s -X "$2" -H "Authorization: Bearer $admin" -w '\n%{http_code}\n')
  if [ -n "${4:-}" ]; then args+=(-H 'Content-Type: application/json' --data "$4"); fi
  curl "${args[@]}" "http://127.0.0.1:$1$3"
}
status_of() { tail -n 1; }

# 1. People and consents through both servers at once.
add_people() {  # add_people PORT PREFIX
  for i in $(seq 1 "$per_server"); do
    call "$1" POST /v1/subjects \
      "{\"id\":\"$2$i\",\"types\":[\"non_member\"],\"email\":\"$2$i@example.test\"}" | status_of
  done
}
add_people "$port_a" a >"$work/add_a" & job_a=$!
add_people "$port_b" b >"$work/add_b" & job_b=$!
wait $job_a
wait $job_b
total=$((2 * per_server))
expect "people added (201s)" "$(cat "$work/add_a" "$work/add_b" | grep -c '^201$')" "$total"
expect "people" "$(sql "SELECT count(*) FROM $schema.subjects")" "$total"

ids() { for p in a b; do for i in $(seq 1 "$per_server"); do echo "$p$i"; done; done; }
change_consents() {  # change_consents PORT true|false: four requests in flight at a time
  export -f call status_of
  export admin
  ids | xargs -P 4 -I{} bash -c "call $1 POST /v1/subjects/{}/consents \
    '{\"target\":\"newsletter\",\"given\":$2,\"channel\":\"web\"}' | status_of"
}
change_consents "$port_a" true >"$work/give" & job_a=$!
change_consents "$port_b" false >"$work/withdraw" & job_b=$!
wait $job_a
wait $job_b
expect "consents given through a (201s)" "$(grep -c '^201$' "$work/give")" "$total"
expect "consents withdrawn through b (201s)" "$(grep -c '^201$' "$work/withdraw")" "$total"
expect "consent events" "$(sql "SELECT count(*) FROM $schema.consent_events")" "$((2 * total))"
expect "consent events per person (fewest-most over people)" \
  "$(sql "SELECT min(n) || '-' || max(n) || ' over ' || count(*) FROM (SELECT count(*) n FROM $schema.consent_events GROUP BY subject_id) c")" \
  "2-2 over $total"
expect "withdrawals per person" \
  "$(sql "SELECT count(DISTINCT subject_id) FROM $schema.consent_events WHERE action = 'withdrawn'")" \
  "$total"

# 2. A change through one server reaches the other's decisions within the bound.
decide() {  # decide PORT SUBJECT: the decision's JSON
  call "$1" POST /v1/decisions \
    "{\"subject_id\":\"$2\",\"purpose\":\"newsletter\",\"categories\":[\"user.contact.email\"]}" |
    head -n 1
}
wait_for_decision() {  # wait_for_decision PORT SUBJECT PATTERN WHAT: ms until it matches
  local start deadline
  start=$(now_ms)
  deadline=$((start + 10000))
  until decide "$1" "$2" | grep -q "$3"; do
    [ "$(now_ms)" -lt "$deadline" ] || fail "$4: not seen within 10 s"
    sleep 0.02
  done
  echo $(($(now_ms) - start))
}
consent() {  # consent PORT SUBJECT true|false
  expect "consent $3 for $2 through :$1" \
    "$(call "$1" POST "/v1/subjects/$2/consents" "{\"target\":\"newsletter\",\"given\":$3}" | status_of)" 201
}
slowest=0
for subject in a1 b1 a2 b2; do
  for direction in ab ba; do
    if [ $direction = ab ]; then writer=$port_a reader=$port_b; else writer=$port_b reader=$port_a; fi
    consent "$writer" "$subject" true
    ms=$(wait_for_decision "$reader" "$subject" '"allow":true' "consent given for $subject")
    [ "$ms" -le "$bound_ms" ] || fail "consent given for $subject seen after $ms ms"
    [ "$ms" -gt "$slowest" ] && slowest=$ms
    # The reader has the person cached now; the withdrawal must make it forget them.
    consent "$writer" "$subject" false
    ms=$(wait_for_decision "$reader" "$subject" CONSENT_WITHDRAWN "withdrawal for $subject")
    [ "$ms" -le "$bound_ms" ] || fail "withdrawal for $subject seen after $ms ms"
    [ "$ms" -gt "$slowest" ] && slowest=$ms
  done
done
echo "ok: every change seen by the other server within $slowest ms (bound $bound_ms ms)"

# 3. One rights request fulfilled through both servers at the same moment.
race_fulfilment() {  # race_fulfilment SUBJECT TYPE: prints the request id
  local opened id
  opened=$(call "$port_a" POST "/v1/subjects/$1/requests" \
    "{\"type\":\"$2\",\"verified_by\":\"passport_seen\"}")
  [ "$(echo "$opened" | status_of)" = 201 ] || fail "opening a $2 request for $1: $opened"
  id=$(echo "$opened" | head -n 1 | sed -n 's/.*"request_id":"\([^"]*\)".*/\1/p')
  call "$port_a" POST "/v1/requests/$id/fulfilment" | status_of >"$work/fulfil_a" &
  local ja=$!
  call "$port_b" POST "/v1/requests/$id/fulfilment" | status_of >"$work/fulfil_b" &
  local jb=$!
  wait $ja
  wait $jb
  expect "$2 request for $1 fulfilled through both (answers)" \
    "$(sort "$work/fulfil_a" "$work/fulfil_b" | tr '\n' ' ')" "200 409 "
  expect "$2 request for $1: fulfilment started once" \
    "$(sql "SELECT count(*) FROM $schema.request_events WHERE request_id = '$id' AND event = 'fulfilment_started'")" 1
  expect "$2 request for $1: completed once" \
    "$(sql "SELECT count(*) FROM $schema.request_events WHERE request_id = '$id' AND event = 'completed'")" 1
}
for subject in a3 b3; do
  race_fulfilment "$subject" restriction
  expect "restrictions of $subject" \
    "$(sql "SELECT count(*) FROM $schema.restrictions WHERE subject_id = '$subject'")" 1
  for port in "$port_a" "$port_b"; do
    ms=$(wait_for_decision "$port" "$subject" RESTRICTED "restriction of $subject")
    [ "$ms" -le "$bound_ms" ] || fail "restriction of $subject seen after $ms ms"
  done
done
for subject in a4 b4; do
  race_fulfilment "$subject" erasure
  expect "$subject erased" \
    "$(sql "SELECT state FROM $schema.subjects WHERE subject_id = '$subject'")" erased
  expect "erasures of $subject audited" \
    "$(sql "SELECT count(*) FROM $schema.audit_log WHERE action = 'request_erase' AND subject_id = '$subject'")" 1
  for port in "$port_a" "$port_b"; do
    ms=$(wait_for_decision "$port" "$subject" SUBJECT_ERASED "erasure of $subject")
    [ "$ms" -le "$bound_ms" ] || fail "erasure of $subject seen after $ms ms"
  done
done
expect "people erased" "$(sql "SELECT count(*) FROM $schema.subjects WHERE state = 'erased'")" 2

# Each server forgot people for the other's writes, and only saw its own policy.
for name in a b; do
  port_var=port_$name
  forgotten=$(call "${!port_var}" GET /metrics | sed -n 's/^custos_catch_up_forgotten_total \([0-9]*\)$/\1/p')
  [ "${forgotten:-0}" -gt 0 ] || fail "server $name forgot nobody for the other's writes"
  echo "ok: server $name forgot $forgotten cached people for the other's writes"
done

# 4. Both stop cleanly; one audit line, intact.
for name in a b; do
  pid_var=pid_$name
  kill -TERM "${!pid_var}"
  code=0
  wait "${!pid_var}" || code=$?
  expect "server $name exit code after SIGTERM" "$code" 0
  if grep -q -E 'catch_up_failed|policy_loaded_elsewhere' "$work/$name.log"; then
    fail "server $name logged a catch-up problem"
  fi
done
server_pids=()
expect "audit seqs contiguous" "$(sql "SELECT count(*) = max(seq) FROM $schema.audit_log")" t
custos audit verify
echo "two servers: ok"
