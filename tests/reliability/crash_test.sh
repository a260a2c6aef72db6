#!/usr/bin/env bash
# Crash test of `custos serve` (docs/RELIABILITY.md): clients write and ask for decisions
# concurrently, the server is killed with SIGKILL at a random moment, restarted, and then:
#  1. every acknowledged write (POST /v1/subjects answered 201) is in the store;
#  2. every acknowledged decision (POST /v1/decisions answered 200) has its audit entry (each
#     decision carries its own `at`, so its entry is found by subject and time);
#  3. `custos audit verify` passes (the chain is whole);
#  4. the store's own integrity check passes (SQLite: PRAGMA integrity_check; PostgreSQL:
#     amcheck's bt_index_check on every index of the schema);
#  5. the restarted server answers, and stops cleanly on SIGTERM.
# A response counts as acknowledged only when the client read all of it (curl exit 0) with
# a 2xx status. The same data directory (or schema) carries over from run to run, so later runs
# crash a server that has restarted from earlier crashes.
# Usage: crash_test.sh CUSTOS_BINARY SOURCE_DIR sqlite|postgres RUNS [CLIENTS=4]
#        [MAX_KILL_MS=1500] [--audit-decisions durable|buffered]
#   postgres needs CUSTOS_TEST_DATABASE_URL (ctest's postgres fixture sets it).
# Exit 0 when every run kept every promise; 1 with the broken promise named otherwise.
set -euo pipefail
bin=$1
src=$2
backend=$3
runs=$4
clients=${5:-4}
max_kill_ms=${6:-1500}
audit_mode=durable
if [ "${7:-}" = "--audit-decisions" ]; then audit_mode=${8:?durable or buffered}; fi
# "unset" passes no option (for a build that has none).
mode_args=(--audit-decisions "$audit_mode")
[ "$audit_mode" != unset ] || mode_args=()
[ "$clients" -le 12 ] || { echo "at most 12 clients" >&2; exit 2; }
case $backend in
  sqlite | postgres) ;;
  *) echo "backend is sqlite or postgres" >&2; exit 2 ;;
esac

work=$(mktemp -d /tmp/custos-crash.XXXXXX)
schema=crash_$$
server_pid=
client_pids=()
psql=/usr/lib/postgresql/15/bin/psql
db_args=()
if [ "$backend" = postgres ]; then
  url=${CUSTOS_TEST_DATABASE_URL:?CUSTOS_TEST_DATABASE_URL is not set: run under ctest (postgres fixture)}
  db_args=(--database "$url" --schema "$schema")
fi
cleanup() {
  for pid in "${client_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ -n "$server_pid" ]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  if [ "$backend" = postgres ]; then
    "$psql" -q "$url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL ($backend, run $run): $*" >&2
  [ -f "$work/serve.log" ] && tail -n 20 "$work/serve.log" | sed 's/^/server: /' >&2
  exit 1
}
custos() { "$bin" --data "$work/data" "${db_args[@]}" "$@"; }
# sql QUERY: one column per line, the same SQL on both backends.
sql() {
  if [ "$backend" = sqlite ]; then
    sqlite3 "$work/data/custos.db" "$1"
  else
    "$psql" -qtA "$url" -c "SET search_path TO $schema" -c "$1"
  fi
}
at_iso() {  # the audit time in seconds as the ISO text the clients sent
  if [ "$backend" = sqlite ]; then
    echo "strftime('%Y-%m-%dT%H:%M:%SZ', at / 1000000, 'unixepoch')"
  else
    echo "to_char(to_timestamp(at / 1000000) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
  fi
}

custos init --policy "$src/policies/wig.yaml" >/dev/null
token=$("$bin" --data "$work/data" token create --role admin --label crash-test)

start_server() {
  : >"$work/serve.out"
  "$bin" --data "$work/data" "${db_args[@]}" serve --listen 127.0.0.1:0 --threads 16 \
    --rate-limit 0 --address-rate-limit 0 --log-requests none --sweep-every 0 \
    --deliver-every 0 --refresh-every 0 "${mode_args[@]}" \
    >"$work/serve.out" 2>>"$work/serve.log" &
  server_pid=$!
  for _ in $(seq 1 600); do
    grep -q 'listening on' "$work/serve.out" 2>/dev/null && break
    kill -0 "$server_pid" 2>/dev/null || fail "the server exited while starting"
    sleep 0.05
  done
  base=$(sed -n 's/.*listening on //p' "$work/serve.out")
  [ -n "$base" ] || fail "the server did not start"
}

# Subjects the decisions are about: d1 consents to the newsletter, d2 does not.
start_server
run=0
for id in d1 d2; do
  curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data "{\"id\":\"$id\",\"types\":[\"non_member\"]}" "$base/v1/subjects" ||
    fail "cannot add $id"
done
curl -sf -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  --data '{"target":"newsletter","given":true}' "$base/v1/subjects/d1/consents" ||
  fail "cannot record d1's consent"

# client RUN C: sends requests until the server is gone, alternating a write (a new subject
# w-RUN-C-N) and a decision (at a time unique per run, client and request), one curl per chunk
# of requests over one kept-alive connection. Each transfer's outcome is one line in
# $work/c$C.log: "write ID CODE CURL_EXIT" or "decision SUBJECT AT CODE CURL_EXIT".
client() {
  local run=$1 c=$2 chunk=500 offset=0
  : >"$work/c$c.log"
  while :; do
    local config=$work/c$c.curl
    awk -v base="$base" -v token="$token" -v run="$run" -v c="$c" -v from="$offset" \
      -v count="$chunk" 'BEGIN {
      q = "\\\""
      for (n = from; n < from + count; n++) {
        if (n > from) print "next"
        print "header = \"Authorization: Bearer " token "\""
        print "header = \"Content-Type: application/json\""
        print "output = \"/dev/null\""
        if (c % 2 == 1 && n % 2 == 0) {  # odd clients write and decide, even ones decide
          id = "w-" run "-" c "-" n
          print "url = \"" base "/v1/subjects\""
          print "data = \"{" q "id" q ":" q id q "," q "types" q ":[" q "non_member" q "]}\""
          print "write-out = \"write " id " %{http_code} %{exitcode}\\n\""
        } else {
          # Year 2100 + run, month = client, then the request number as days and seconds.
          at = sprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", 2100 + run, c, int(n / 86400) + 1,
                       int(n / 3600) % 24, int(n / 60) % 60, n % 60)
          subject = (n % 4 == 1) ? "d1" : "d2"
          print "url = \"" base "/v1/decisions\""
          print "data = \"{" q "subject_id" q ":" q subject q "," q "purpose" q ":" q "newsletter" q "," q "categories" q ":[" q "user.contact.email" q "]," q "at" q ":" q at q "}\""
          print "write-out = \"decision " subject " " at " %{http_code} %{exitcode}\\n\""
        }
      }
    }' >"$config"
    touch "$work/c$c.sending"
    # The first transfer error (the server gone) ends the client; curl is not killed, so what
    # it printed reaches the log.
    curl -s --fail-early -K "$config" >>"$work/c$c.log" 2>/dev/null || return 0
    offset=$((offset + chunk))
  done
}

verify() {  # checks every promise after a restart
  # Acknowledged requests: a 2xx read whole. Anything else is unknown (maybe done, maybe not).
  : >"$work/acked_writes"
  : >"$work/acked_decisions"
  for c in $(seq 1 "$clients"); do
    awk '$1 == "write" && $3 == 201 && $4 == 0 { print $2 }' "$work/c$c.log" >>"$work/acked_writes"
    awk '$1 == "decision" && $4 == 200 && $5 == 0 { print $2, $3 }' "$work/c$c.log" \
      >>"$work/acked_decisions"
  done
  sort -u -o "$work/acked_writes" "$work/acked_writes"
  sort -u -o "$work/acked_decisions" "$work/acked_decisions"
  sql "SELECT subject_id FROM subjects WHERE subject_id LIKE 'w-$run-%'" | sort -u >"$work/stored_writes"
  sql "SELECT subject_id || ' ' || $(at_iso) FROM audit_log WHERE action = 'decide' AND at >= $(( ($(date -u -d "$((2100 + run))-01-01" +%s)) * 1000000 )) AND at < $(( ($(date -u -d "$((2101 + run))-01-01" +%s)) * 1000000 ))" |
    sort -u >"$work/stored_decisions"
  local lost_writes lost_decisions
  lost_writes=$(comm -23 "$work/acked_writes" "$work/stored_writes" | wc -l)
  lost_decisions=$(comm -23 "$work/acked_decisions" "$work/stored_decisions" | wc -l)
  acked_w=$(wc -l <"$work/acked_writes")
  acked_d=$(wc -l <"$work/acked_decisions")
  total_acked_writes=$((total_acked_writes + acked_w))
  total_acked_decisions=$((total_acked_decisions + acked_d))
  total_lost_writes=$((total_lost_writes + lost_writes))
  total_lost_decisions=$((total_lost_decisions + lost_decisions))
  echo "run $run: killed after ${kill_ms} ms; acknowledged $acked_w writes, $acked_d decisions;" \
    "lost $lost_writes writes, $lost_decisions decisions unaudited"
  if [ "$audit_mode" = durable ] || [ "${REPORT_ONLY:-0}" = 0 ]; then
    [ "$lost_writes" -eq 0 ] || fail "$lost_writes acknowledged writes are missing"
    [ "$lost_decisions" -eq 0 ] || fail "$lost_decisions acknowledged decisions have no audit entry"
  fi
  custos audit verify >"$work/verify.out" 2>&1 || fail "audit verify: $(cat "$work/verify.out")"
  if [ "$backend" = sqlite ]; then
    local check
    check=$(sql "PRAGMA integrity_check")
    [ "$check" = ok ] || fail "SQLite integrity_check: $check"
  else
    sql "CREATE EXTENSION IF NOT EXISTS amcheck WITH SCHEMA public" >/dev/null
    sql "SELECT public.bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am a ON a.oid = c.relam
         WHERE n.nspname = '$schema' AND a.amname = 'btree'" >/dev/null ||
      fail "amcheck found a broken index"
  fi
}

total_acked_writes=0
total_acked_decisions=0
total_lost_writes=0
total_lost_decisions=0
for run in $(seq 1 "$runs"); do
  [ "$run" -eq 1 ] || start_server
  client_pids=()
  rm -f "$work"/c*.sending
  for c in $(seq 1 "$clients"); do
    client "$run" "$c" &
    client_pids+=($!)
  done
  # The random moment is counted from when every client is sending.
  for _ in $(seq 1 600); do
    [ "$(ls "$work"/c*.sending 2>/dev/null | wc -l)" -ge "$clients" ] && break
    sleep 0.02
  done
  kill_ms=$((200 + RANDOM % max_kill_ms))
  sleep "$(printf '%d.%03d' $((kill_ms / 1000)) $((kill_ms % 1000)))"
  kill -KILL "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=
  for pid in "${client_pids[@]}"; do wait "$pid" || true; done
  client_pids=()
  start_server
  verify
  curl -sf -o /dev/null "$base/ping" || fail "the restarted server does not answer"
  kill -TERM "$server_pid"
  wait "$server_pid" || fail "the restarted server did not stop cleanly"
  server_pid=
done
echo "$backend, $runs runs, $clients clients, --audit-decisions $audit_mode:" \
  "$total_acked_writes acknowledged writes, $total_lost_writes lost;" \
  "$total_acked_decisions acknowledged decisions, $total_lost_decisions unaudited"
