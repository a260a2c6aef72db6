#!/usr/bin/env bash
# Soak of `custos serve` (docs/RELIABILITY.md): measures the peak of a mixed load (nine
# decisions to one consent write, durable audit) with wrk, then holds FRACTION of that peak for
# MINUTES, one wrk run a minute, printing each minute's requests/s, p99, errors and the
# server's RSS. Fails when the server dies, answers anything but 2xx, or its RSS at the end is
# more than twice its RSS after the first minute (a leak).
# Usage: soak.sh CUSTOS_BINARY SOURCE_DIR [MINUTES=10] [FRACTION=0.8] [CONNECTIONS=64]
# The rate is held with wrk's per-request delay between a connection's answer and its next
# request: it starts at CONNECTIONS / (FRACTION * peak) seconds and is corrected after each
# minute by what that minute's rate was off (whole milliseconds; the first minute may miss).
set -euo pipefail
bin=$1
src=$2
minutes=${3:-10}
fraction=${4:-0.8}
connections=${5:-64}
minute_s=${SOAK_MINUTE_SECONDS:-60}
subjects=1000
work=$(mktemp -d /tmp/custos-soak.XXXXXX)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$work/serve.err" >&2 || true; exit 1; }

"$bin" --data "$work/data" init --policy "$src/policies/wig.yaml" >/dev/null
token=$("$bin" --data "$work/data" token create --role admin --label soak)
"$bin" serve --data "$work/data" --listen 127.0.0.1:0 --rate-limit 0 --address-rate-limit 0 \
  --log-requests none --threads 64 --sweep-every 0 --deliver-every 0 --refresh-every 0 \
  >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 1 600); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
url=$(sed -n 's/.*listening on //p' "$work/serve.out")
[ -n "$url" ] || fail "server did not start"

for i in $(seq 1 $subjects); do
  printf 'url = "%s/v1/subjects"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"id\\":\\"b%d\\",\\"types\\":[\\"non_member\\"]}"\noutput = "/dev/null"\nnext\n' "$url" "$token" "$i"
done | sed '$d' >"$work/setup.curl"
curl -s --fail-early -K "$work/setup.curl"

# mix.lua: nine decisions to one consent change (given and withdrawn in turn), requests
# formatted once; DELAY_MS (0: none) between a connection's requests.
write_lua() {
  cat >"$work/mix.lua" <<LUA
local decisions, writes = {}, {}
local n = 0
function init(args)
  for i = 1, $subjects do
    decisions[i] = wrk.format("POST", "/v1/decisions", {["Authorization"] = "Bearer $token",
      ["Content-Type"] = "application/json"},
      '{"subject_id":"b' .. i .. '","purpose":"newsletter","categories":["user.contact.email"]}')
    writes[i] = wrk.format("POST", "/v1/subjects/b" .. i .. "/consents",
      {["Authorization"] = "Bearer $token", ["Content-Type"] = "application/json"},
      '{"target":"newsletter","given":' .. ((i % 2 == 0) and "true" or "false") .. '}')
  end
end
request = function()
  n = n + 1
  if n % 10 == 0 then return writes[math.random($subjects)] end
  return decisions[math.random($subjects)]
end
function delay() return $1 end
LUA
}
# run SECONDS: one wrk run; prints "RPS P99_MS NON2XX".
run() {
  local out rps p99 non2xx
  out=$(wrk -t2 -c"$connections" -d"$1s" --latency -s "$work/mix.lua" "$url")
  rps=$(awk '/Requests\/sec/ { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us/, "", v); v /= 1000 }
        else if (v ~ /ms$/) { sub(/ms/, "", v) } else if (v ~ /s$/) { sub(/s/, "", v); v *= 1000 }
        print v }' <<<"$out")
  non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out")
  echo "$rps $p99 ${non2xx:-0}"
}
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status"; }

write_lua 0
read -r peak peak_p99 peak_errors < <(run 10)
[ "${peak_errors}" = 0 ] || fail "$peak_errors answers other than 2xx while measuring the peak"
target=$(awk -v p="$peak" -v f="$fraction" 'BEGIN { printf "%d", p * f }')
delay_ms=$(awk -v c="$connections" -v t="$target" 'BEGIN { d = c * 1000 / t; printf "%d", (d < 1 ? 1 : d + 0.5) }')
echo "peak (10 s, no delay): $peak req/s, p99 $peak_p99 ms; target $target req/s" \
  "(${fraction} of peak): $connections connections, ${delay_ms} ms between requests"
write_lua "$delay_ms"
echo "minute  req/s  of_peak  p99_ms  non_2xx  rss_mib  delay_ms"
first_rss=
for m in $(seq 1 "$minutes"); do
  kill -0 "$server_pid" 2>/dev/null || fail "the server died in minute $m"
  read -r rps p99 errors < <(run "$minute_s")
  rss=$(rss_kib)
  [ -n "$first_rss" ] || first_rss=$rss
  printf '%6d  %5.0f  %6.2f  %6.2f  %7s  %7.1f  %8d\n' "$m" "$rps" \
    "$(awk -v r="$rps" -v p="$peak" 'BEGIN { print r / p }')" "$p99" "$errors" \
    "$(awk -v r="$rss" 'BEGIN { print r / 1024 }')" "$delay_ms"
  [ "$errors" = 0 ] || fail "$errors answers other than 2xx in minute $m"
  # Each connection's time per request was CONNECTIONS / rps; it should be CONNECTIONS / target.
  delay_ms=$(awk -v d="$delay_ms" -v c="$connections" -v t="$target" -v r="$rps" \
    'BEGIN { d += c * 1000 / t - c * 1000 / r; printf "%d", (d < 0 ? 0 : d + 0.5) }')
  write_lua "$delay_ms"
done
[ "$rss" -le $((first_rss * 2)) ] || fail "RSS grew from $first_rss KiB to $rss KiB"
"$bin" --data "$work/data" audit verify >/dev/null || fail "audit verify after the soak"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the server did not stop cleanly"
server_pid=
echo "soak: $minutes minutes at $fraction of peak; audit verified; clean stop"
