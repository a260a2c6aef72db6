#!/usr/bin/env bash
# Load benchmark of `custos serve` over loopback with wrk (issue 4), every figure against a
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
#     synchronous=FULL) in the same batches: the average group size the server's group
#     committer reached (from /metrics).
# Usage: bench/server_load.sh [BUILD_DIR=build] [SECONDS=10] [ROUNDS=3] [CONNECTIONS=64]
# wrk shares the machine's cores with the server, as a client on the same host would.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seconds=${2:-10}
rounds=${3:-3}
connections=${4:-64}
subjects=1000
bin=$build/custos
work=$(mktemp -d /tmp/custos-server-bench.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

data=$work/data
"$bin" --data "$data" init --policy policies/wig.yaml > /dev/null
token=$("$bin" --data "$data" token create --role admin --label bench)
"$bin" serve --data "$data" --listen 127.0.0.1:0 --rate-limit 0 --address-rate-limit 0 \
  --log-requests none --threads "${THREADS:-64}" > "$work/serve.out" 2> "$work/serve.err" &
server_pid=$!
for _ in $(seq 1 600); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/.*listening on //p' "$work/serve.out")
[ -n "$url" ] || { echo "server did not start"; cat "$work/serve.err"; exit 1; }

# Subjects b1..bN; half of them consent to the newsletter, so decisions both allow and deny.
{
  for i in $(seq 1 $subjects); do
    printf 'url = "%s/v1/subjects"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"id\\":\\"b%d\\",\\"types\\":[\\"non_member\\"]}"\noutput = "/dev/null"\nnext\n' "$url" "$token" "$i"
    if [ $((i % 2)) -eq 0 ]; then
      printf 'url = "%s/v1/subjects/b%d/consents"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"target\\":\\"newsletter\\",\\"given\\":true}"\noutput = "/dev/null"\nnext\n' "$url" "$i" "$token"
    fi
  done
} | sed '$d' > "$work/setup.curl"  # no "next" after the last request
curl -s --fail-early -K "$work/setup.curl"

# The requests are formatted once, in init(): wrk then spends on a decision what it spends on
# a ping (formatting each request in Lua cost the client ~3.5 us a request, on the same cores).
cat > "$work/decide.lua" <<LUA
local requests = {}
function init(args)
  for i = 1, $subjects do
    requests[i] = wrk.format("POST", "/v1/decisions", {["Authorization"] = "Bearer $token",
      ["Content-Type"] = "application/json"},
      '{"subject_id":"b' .. i .. '","purpose":"newsletter","categories":["user.contact.email"]}')
  end
end
request = function()
  return requests[math.random($subjects)]
end
LUA
cat > "$work/consent.lua" <<LUA
local requests = {}
local n = 0
function init(args)
  for i = 1, $subjects do
    for _, given in ipairs({"true", "false"}) do
      requests[#requests + 1] = wrk.format("POST", "/v1/subjects/b" .. i .. "/consents",
        {["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json"},
        '{"target":"newsletter","given":' .. given .. '}')
    end
  end
end
request = function()
  n = n + 1
  -- a random subject; given and withdrawn in turn
  return requests[2 * math.random($subjects) - (n % 2)]
end
LUA

# wrk's "Requests/sec" and the 99th percentile in ms.
run_wrk() {
  local out
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "non-2xx responses" >&2; exit 1; fi
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}')
  echo "$rps $p99"
}
median() { sort -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }

echo "== decisions vs ping: wrk -t2 -c$connections -d${seconds}s, $rounds rounds"
: > "$work/ping"; : > "$work/decide"
for r in $(seq 1 "$rounds"); do
  ping=$(run_wrk "$url/ping"); echo "$ping" >> "$work/ping"
  decide=$(run_wrk -s "$work/decide.lua" "$url"); echo "$decide" >> "$work/decide"
  echo "round $r: ping $ping | decisions $decide   (req/s p99-ms)"
done
ping_rps=$(awk '{print $1}' "$work/ping" | median); ping_p99=$(awk '{print $2}' "$work/ping" | median)
dec_rps=$(awk '{print $1}' "$work/decide" | median); dec_p99=$(awk '{print $2}' "$work/decide" | median)
paste -d' ' "$work/ping" "$work/decide" | awk '{print 100 * $3 / $1}' > "$work/ratios"
ratio=$(median < "$work/ratios")
echo "ping:      $ping_rps req/s, p99 $ping_p99 ms (median of $rounds)"
echo "decisions: $dec_rps req/s, p99 $dec_p99 ms (median of $rounds)"
echo "per-round ratios: $(awk '{printf "%s%.0f", (NR > 1 ? " " : ""), $1}' "$work/ratios") %"
echo "median of the per-round ratios: $(printf '%.0f' "$ratio") %"
total=$(paste -d' ' "$work/ping" "$work/decide" | awk '{p += $1; d += $3} END {print 100 * d / p}')
awk -v r="$total" -v l="$dec_p99" 'BEGIN {
  printf "ratio decisions/ping over the run (totals): %.0f %% (goal >= 70 %%); decisions p99 %.2f ms (goal <= 10 ms): %s\n",
  r, l, (r >= 70 && l <= 10) ? "MET" : "NOT MET" }'

echo
echo "== durable consent writes over HTTP vs raw SQLite, same rows, same batches"
sqlite3 "$data/custos.db" ".backup $work/baseline.db"
metric() { curl -s -H "Authorization: Bearer $token" "$url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
b0=$(metric custos_writes_total); c0=$(metric custos_write_transactions_total)
consent=$(run_wrk -s "$work/consent.lua" "$url")
b1=$(metric custos_writes_total); c1=$(metric custos_write_transactions_total)
http_rps=$(echo "$consent" | awk '{print $1}')
rows=$((b1 - b0)); commits=$((c1 - c0))
group=$(( (rows + commits - 1) / commits ))
echo "HTTP: $http_rps consent writes/s (p99 $(echo "$consent" | awk '{print $2}') ms); $rows writes in $commits commits (avg group $group)"

# The same rows: a consent event and an audit entry per write, $group writes per transaction.
{
  echo "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
  awk -v rows="$rows" -v group="$group" -v subjects="$subjects" 'BEGIN {
    srand(1);
    for (i = 1; i <= rows; i++) {
      if ((i - 1) % group == 0) print "BEGIN;";
      s = int(rand() * subjects) + 1;
      printf "INSERT INTO consent_events VALUES (%s,%s,%d,%s,%s,%s,%s,%s,%d,randomblob(40));\n",
        "'\''wig'\''", "'\''b" s "'\''", 1000000 + i, "'\''purpose'\''", "'\''newsletter'\''",
        (i % 2 ? "'\''given'\''" : "'\''withdrawn'\''"), "'\''2022-02-10'\''", "'\''api'\''", 1700000000000000 + i;
      printf "INSERT INTO audit_log VALUES (%d,%s,%d,%s,%s,%s,%s,%s,randomblob(32),randomblob(32));\n",
        10000000 + i, "'\''wig'\''", 1700000000000000 + i, "'\''token:0123456789abcdef'\''",
        "'\''consent'\''", "'\''newsletter'\''", "'\''b" s "'\''", "'\''given newsletter'\''";
      if (i % group == 0 || i == rows) print "COMMIT;";
    }
  }'
} > "$work/baseline.sql"
start=$(date +%s.%N)
sqlite3 "$work/baseline.db" < "$work/baseline.sql" > /dev/null
end=$(date +%s.%N)
awk -v rows="$rows" -v s="$start" -v e="$end" -v h="$http_rps" -v g="$group" 'BEGIN {
  raw = rows / (e - s);
  printf "raw SQLite: %.0f rows/s (same %d writes, %d per transaction, synchronous=FULL)\n", raw, rows, g;
  printf "ratio HTTP/raw: %.0f %%\n", 100 * h / raw }'
