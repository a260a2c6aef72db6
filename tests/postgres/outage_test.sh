#!/usr/bin/env bash
# A real PostgreSQL stopped and started again under load, `custos serve` running throughout:
#  1. before the outage /healthz and /readyz answer 200;
#  2. four curl workers keep changing the consents of 20 people (each worker owns five people and
#     alternates giving and withdrawing), recording every answer;
#  3. the database is stopped (fast shutdown) for about 3 s: every consent change meanwhile is
#     answered 503 application/problem+json, code STORE_UNAVAILABLE, with Retry-After (one of each
#     kind of data request is also checked directly with curl -i); /healthz stays 200, /readyz
#     is 503; no answer of the whole run is a 4xx or a 500;
#  4. once it is started again, /readyz is 200 and writes are answered 201 within 10 s, without
#     restarting custos;
#  5. the server logged one `database_unavailable` and one `database_available` (with outage_ms),
#     and every line it wrote on stderr is a JSON object (no raw libpq text);
#  6. every consent change answered 201 is in consent_events (per person, in order), nothing else
#     is, and the audit chain verifies;
#  7. SIGTERM stops the server with exit 0.
# It stops its database, so it runs its own throwaway cluster (scripts/pg-test-cluster.sh), not
# the shared ctest one.
# Usage: outage_test.sh CUSTOS_BINARY SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
pg_bin=/usr/lib/postgresql/15/bin
psql=$pg_bin/psql
workers=${OUTAGE_WORKERS:-4}
people=${OUTAGE_PEOPLE:-20}
outage_s=${OUTAGE_SECONDS:-3}

work=$(mktemp -d)
pgdir=$work/pg
schema=outage
server_pid=
worker_pids=()
cleanup() {
  for pid in "${worker_pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  [ -n "$server_pid" ] && kill -KILL "$server_pid" 2>/dev/null || true
  "$src/scripts/pg-test-cluster.sh" stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  [ -f "$work/server.log" ] && tail -n 40 "$work/server.log" | sed 's/^/server: /' >&2
  exit 1
}
expect() {  # expect WHAT ACTUAL WANTED
  [ "$2" = "$3" ] || fail "$1: $2, expected $3"
  echo "ok: $1 = $2"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
started=$(now_ms)

# The cluster's server runs as the user pg-test-cluster.sh runs it as.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
pg_stop() { as_owner "$pg_bin/pg_ctl" -D "$pgdir/data" -m fast -w -t 30 stop >/dev/null; }
# Same data directory, so the same port (it is in postgresql.conf).
pg_start() {
  as_owner "$pg_bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 30 start >/dev/null ||
    { cat "$pgdir/server.log" >&2; fail "could not start PostgreSQL again"; }
}

"$src/scripts/pg-test-cluster.sh" start "$pgdir" 0 >/dev/null
url=$(cat "$pgdir/url")
sql() { "$psql" -qtA "$url" -c "$1"; }

custos() { "$bin" --data "$work/data" --database "$url" --schema "$schema" "$@"; }
custos init --policy "$src/policies/wig.yaml" >/dev/null
admin=$("$bin" --data "$work/data" token create --role admin --label outage)

# The binary itself in the background, so $! is the server's pid. No rate limits: the load and
# the probes must never be answered 429.
"$bin" --data "$work/data" --database "$url" --schema "$schema" serve --listen 127.0.0.1:0 \
  --sweep-every 0 --deliver-every 0 --rate-limit 0 --address-rate-limit 0 \
  >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 1 300); do
  grep -q 'listening on' "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.out")
[ -n "$port" ] || fail "the server did not start"
base=http://127.0.0.1:$port
echo "server on port $port, PostgreSQL at $url"

# call METHOD PATH [BODY]: prints the body, then the status on a line of its own.
call() {
  local args=(-s -m 10 -X "$1" -H "Authorization: Bearer $admin" -w '\n%{http_code}\n')
  if [ -n "${3:-}" ]; then args+=(-H 'Content-Type: application/json' --data "$3"); fi
  curl "${args[@]}" "$base$2"
}
status_of() { tail -n 1; }
probe() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$base$1" || true; }  # probe PATH: status

# 1. Before the outage.
expect "/healthz before the outage" "$(probe /healthz)" 200
expect "/readyz before the outage" "$(probe /readyz)" 200

for i in $(seq 1 "$people"); do
  code=$(call POST /v1/subjects \
    "{\"id\":\"p$i\",\"types\":[\"non_member\"],\"email\":\"p$i@example.test\"}" | status_of)
  [ "$code" = 201 ] || fail "adding p$i: $code"
done
echo "ok: $people people added"
setup_events=$(sql "SELECT count(*) FROM $schema.consent_events")

# 2. The load. Worker W owns the people p(W+1), p(W+1+workers), ... and alternates given
# true/false per person, so each person's changes are made one at a time in a known order. Each
# answer is one line: start_ms end_ms worker seq subject given status content_type retry_after
# curl's time_total body.
worker() {  # worker W
  local w=$1 seq=0 i out meta body t0 t1
  local mine=()
  for ((i = w + 1; i <= people; i += workers)); do mine+=("p$i"); done
  local n=${#mine[@]}
  declare -A given
  while [ ! -f "$work/stop" ]; do
    local s=${mine[$((seq % n))]}
    local g=${given[$s]:-false}
    if [ "$g" = true ]; then g=false; else g=true; fi
    t0=$(now_ms)
    out=$(curl -s -m 10 -X POST -H "Authorization: Bearer $admin" \
      -H 'Content-Type: application/json' \
      --data "{\"target\":\"newsletter\",\"given\":$g,\"channel\":\"web\"}" \
      -w '\n%{http_code}\t%{content_type}\t%header{retry-after}\t%{time_total}' \
      "$base/v1/subjects/$s/consents" || true)
    t1=$(now_ms)
    meta=${out##*$'\n'}
    body=${out%"$meta"}
    body=$(printf '%s' "$body" | tr -d '\n\t')
    [ -n "$meta" ] || meta=$'000\t\t\t'
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t0" "$t1" "$w" "$seq" "$s" "$g" "$meta" "$body"
    # The next change of this person flips the state only if this one was stored.
    case "$meta" in 201*) given[$s]=$g ;; esac
    seq=$((seq + 1))
  done
}
rm -f "$work/stop"
prober() {  # /healthz and /readyz every 100 ms: start_ms end_ms path status
  local t0 path code
  while [ ! -f "$work/stop" ]; do
    for path in /healthz /readyz; do
      t0=$(now_ms)
      code=$(probe "$path")
      printf '%s\t%s\t%s\t%s\n' "$t0" "$(now_ms)" "$path" "$code"
    done
    sleep 0.1
  done
}
prober >"$work/probes" &
worker_pids+=($!)
for w in $(seq 0 $((workers - 1))); do
  worker "$w" >"$work/load.$w" &
  worker_pids+=($!)
done
sleep 2
expect "/readyz under load, before the outage" "$(probe /readyz)" 200

# 3. The outage.
stopping_at=$(now_ms)
pg_stop
down_at=$(now_ms)
echo "database stopped (fast, $((down_at - stopping_at)) ms) at +$((down_at - started)) ms"
sleep 0.2
# Only the requests during the outage; what they answered is checked once the database is back.
healthz_during=$(probe /healthz)
readyz_during=$(probe /readyz)
direct_n=0
direct() {  # direct WHAT METHOD PATH [BODY]: one data request, answer kept whole (curl -i)
  local args=(-s -i -m 10 -X "$2" -H "Authorization: Bearer $admin")
  if [ -n "${4:-}" ]; then args+=(-H 'Content-Type: application/json' --data "$4"); fi
  direct_n=$((direct_n + 1))
  echo "$1" >"$work/direct.$direct_n.what"
  curl "${args[@]}" -w '%{stderr}%{time_total}' "$base$3" >"$work/direct.$direct_n" \
    2>"$work/direct.$direct_n.time" || true
}
direct "consent change" POST /v1/subjects/p1/consents \
  '{"target":"newsletter","given":true,"channel":"web"}'
direct "new person" POST /v1/subjects \
  '{"id":"during-outage","types":["non_member"],"email":"during@example.test"}'
direct "decision" POST /v1/decisions \
  '{"subject_id":"p2","purpose":"newsletter","categories":["user.contact.email"]}'
direct "unknown person's decision" POST /v1/decisions \
  '{"subject_id":"nobody","purpose":"newsletter","categories":["user.contact.email"]}'
direct "person read" GET /v1/subjects/p3
now=$(now_ms)
sleep "$(awk -v ms=$((outage_s * 1000 - (now - down_at))) 'BEGIN { print (ms > 0 ? ms : 0) / 1000 }')"
expect "/readyz at the end of the outage" "$(probe /readyz)" 503
up_from=$(now_ms)
pg_start
up_at=$(now_ms)
echo "database down for $((up_from - down_at)) ms; started again ($((up_at - up_from)) ms) at +$((up_at - started)) ms"

# 4. Recovery without a restart.
until [ "$(probe /readyz)" = 200 ]; do
  [ $(($(now_ms) - up_at)) -lt 10000 ] || fail "/readyz not 200 within 10 s of the restart"
  sleep 0.1
done
ready_ms=$(($(now_ms) - up_at))
echo "ok: /readyz 200 again $ready_ms ms after the database was back"
# Writes: a 201 from the load that started after the database was back.
until awk -F'\t' -v t="$up_at" '$1 >= t && $7 == 201 { found = 1 } END { exit !found }' \
  "$work"/load.*; do
  [ $(($(now_ms) - up_at)) -lt 10000 ] || fail "no write answered 201 within 10 s of the restart"
  sleep 0.1
done
echo "ok: writes answered 201 again $(($(now_ms) - up_at)) ms after the database was back"

sleep 1
touch "$work/stop"
for pid in "${worker_pids[@]}"; do wait "$pid"; done
worker_pids=()
kill -0 "$server_pid" 2>/dev/null || fail "the server died"
expect "/healthz during the outage" "$healthz_during" 200
expect "/readyz during the outage" "$readyz_during" 503
for n in $(seq 1 "$direct_n"); do
  what=$(cat "$work/direct.$n.what")
  answer=$(tr -d '\r' <"$work/direct.$n")
  status=$(echo "$answer" | head -n 1 | cut -d ' ' -f 2)
  head=$(echo "$answer" | sed '/^$/q')
  body=$(echo "$answer" | sed '1,/^$/d')
  [ "$status" = 503 ] || fail "$what during the outage: $answer"
  echo "$head" | grep -qi '^retry-after: [0-9][0-9]*$' ||
    fail "$what during the outage: no Retry-After: $answer"
  echo "$head" | grep -qi '^content-type: application/problem+json' ||
    fail "$what during the outage: not application/problem+json: $answer"
  [ "$(echo "$body" | python3 -c 'import json, sys; print(json.load(sys.stdin).get("code"))' \
    2>/dev/null)" = STORE_UNAVAILABLE ] ||
    fail "$what during the outage: not STORE_UNAVAILABLE: $body"
  echo "ok: $what during the outage = 503 STORE_UNAVAILABLE, Retry-After $(echo "$head" |
    sed -n 's/^[Rr]etry-[Aa]fter: //p') (answered in $(cat "$work/direct.$n.time") s)"
done

cat "$work"/load.* >"$work/load"
total=$(wc -l <"$work/load")
echo "load: $total consent changes: $(cut -f 7 "$work/load" | sort | uniq -c | awk '{ printf "%s x %s, ", $1, $2 }')"
for code in 201 503; do
  awk -F'\t' -v c=$code '$7 == c { print int($10 * 1000) }' "$work/load" | sort -n |
    awk -v c=$code '{ v[NR] = $1 } END { if (NR) printf "load: %s answered in %d ms (median), %d ms (slowest)\n", c, v[int((NR + 1) / 2)], v[NR] }'
done
bad=$(awk -F'\t' '$7 != 201 && $7 != 503' "$work/load")
[ -z "$bad" ] || fail "answers other than 201 or 503 under load:
$(echo "$bad" | head -n 10)"
echo "ok: every answer of the run was 201 or 503 (no 4xx, no 500, no connection error)"
unavailable=$(awk -F'\t' '$7 == 503' "$work/load" | wc -l)
[ "$unavailable" -gt 0 ] || fail "no consent change was answered 503 during the outage"
bad=$(awk -F'\t' '$7 == 503 && !($8 ~ /^application\/problem\+json/ && $9 ~ /^[0-9]+$/ &&
  $11 ~ /"code":"STORE_UNAVAILABLE"/)' "$work/load")
[ -z "$bad" ] || fail "503s that are not problem+json STORE_UNAVAILABLE with Retry-After:
$(echo "$bad" | head -n 10)"
echo "ok: all $unavailable 503s are application/problem+json STORE_UNAVAILABLE with Retry-After"
# A request sent after the stop had finished and answered before the start began met no database.
during=$(awk -F'\t' -v a="$down_at" -v b="$up_from" '$1 >= a && $2 <= b' "$work/load")
during_n=$(echo "$during" | grep -c . || true)
[ "$during_n" -gt 0 ] || fail "no consent change was made wholly within the outage"
expect "consent changes wholly within the outage not answered 503" \
  "$(echo "$during" | awk -F'\t' '$7 != 503' | wc -l)" 0
echo "ok: all $during_n consent changes made wholly within the outage were answered 503"
before=$(awk -F'\t' -v a="$down_at" '$2 < a && $7 == 201' "$work/load" | wc -l)
after=$(awk -F'\t' -v b="$up_at" '$1 >= b && $7 == 201' "$work/load" | wc -l)
[ "$before" -gt 0 ] || fail "no write answered 201 before the outage"
[ "$after" -gt 0 ] || fail "no write answered 201 after the outage"
echo "ok: $before writes answered 201 before the outage, $after after it"

healthz=$(awk -F'\t' '$3 == "/healthz"' "$work/probes")
expect "/healthz probes (every 100 ms through the run) not 200" \
  "$(echo "$healthz" | awk -F'\t' '$4 != 200' | wc -l)" 0
expect "/readyz probes (through the run) neither 200 nor 503" \
  "$(awk -F'\t' '$3 == "/readyz" && $4 != 200 && $4 != 503' "$work/probes" | wc -l)" 0
readyz=$(awk -F'\t' -v a="$down_at" -v b="$up_from" '$3 == "/readyz" && $1 >= a && $2 <= b' \
  "$work/probes")
[ -n "$readyz" ] || fail "no /readyz probe within the outage"
expect "/readyz probes within the outage not 503" "$(echo "$readyz" | awk -F'\t' '$4 != 503' | wc -l)" 0
echo "ok: $(echo "$healthz" | wc -l) /healthz probes all 200; $(echo "$readyz" | wc -l) /readyz probes within the outage all 503"

# 5. The server's log.
not_json=$(python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8", errors="replace").read().split("\n")[:-1]:
    try:
        ok = isinstance(json.loads(line), dict)
    except ValueError:
        ok = False
    if not ok:
        print(line)
' "$work/server.log") || fail "could not read the server's stderr"
[ -z "$not_json" ] || fail "lines on the server's stderr that are not JSON objects:
$(echo "$not_json" | head -n 10)"
[ -z "$(tail -c 1 "$work/server.log")" ] || fail "the server's stderr ends in an unfinished line"
echo "ok: all $(wc -l <"$work/server.log") lines on the server's stderr are JSON objects"
# events EVENT: the server's log lines of that event, one compact JSON object a line.
events() {
  python3 -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    entry = json.loads(line)
    if entry.get("event") == sys.argv[2]:
        print(json.dumps(entry))
' "$work/server.log" "$1"
}
events database_unavailable >"$work/unavailable"
events database_available >"$work/available"
sed 's/^/server: /' "$work/unavailable" "$work/available"
expect "database_unavailable events" "$(wc -l <"$work/unavailable")" 1
expect "database_available events" "$(wc -l <"$work/available")" 1
outage_ms=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1]).get("outage_ms"))' \
  "$(cat "$work/available")")
[[ "$outage_ms" =~ ^[0-9]+$ ]] || fail "database_available has no numeric outage_ms: $outage_ms"
echo "ok: database_available reports outage_ms $outage_ms"

# 6. Every 201 is stored, in order, and nothing else.
awk -F'\t' '$7 == 201 { print $5 "\t" $3 "\t" $4 "\t" ($6 == "true" ? "given" : "withdrawn") }' \
  "$work/load" | sort -t $'\t' -k1,1 -k2,2n -k3,3n | cut -f 1,4 >"$work/acknowledged"
acknowledged=$(wc -l <"$work/acknowledged")
expect "consent events (setup $setup_events + $acknowledged answered 201)" \
  "$(sql "SELECT count(*) FROM $schema.consent_events")" "$((setup_events + acknowledged))"
sql "SELECT subject_id || E'\t' || action FROM $schema.consent_events
     WHERE target = 'newsletter' AND channel = 'web' ORDER BY subject_id, seq" >"$work/stored"
sort -s -t $'\t' -k1,1 "$work/stored" >"$work/stored.sorted"
sort -s -t $'\t' -k1,1 "$work/acknowledged" >"$work/acknowledged.sorted"
diff "$work/acknowledged.sorted" "$work/stored.sorted" >"$work/diff" ||
  fail "the stored consent changes are not the ones answered 201: $(head -n 20 "$work/diff")"
echo "ok: each person's stored consent changes are exactly those answered 201, in order"

# 7. SIGTERM.
kill -TERM "$server_pid"
for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null && fail "the server did not stop within 10 s of SIGTERM"
code=0
wait "$server_pid" || code=$?
server_pid=
expect "server exit code after SIGTERM" "$code" 0
verify=$(custos audit verify) || fail "audit verify: $verify"
echo "ok: $verify"
echo "outage: ok ($(($(now_ms) - started)) ms)"
