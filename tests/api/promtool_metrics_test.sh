#!/usr/bin/env bash
# A started `custos serve`, scraped over HTTP as Prometheus scrapes it, its body checked by
# `promtool check metrics` (Debian's prometheus package; scripts/setup-deps.sh installs it).
# Along the way: the allow-list lets 127.0.0.1 scrape without a token, a scrape token from
# --metrics-token-file reads /metrics when both are set, every response carries X-Request-Id and
# the JSON log lines carry it with their level.
# Usage: promtool_metrics_test.sh CUSTOS_BINARY SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
if ! command -v promtool >/dev/null; then
  echo "FAIL: promtool is not installed (apt-get install prometheus; scripts/setup-deps.sh does)" >&2
  exit 1
fi
work=$(mktemp -d)
pid=""
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$work/server.log" ] && sed 's/^/server: /' "$work/server.log" >&2
  exit 1
}

start() {  # start OPTIONS...: a server on a free port; sets port and pid
  "$bin" serve --data "$work/data" --listen 127.0.0.1:0 --sweep-every 0 --deliver-every 0 \
    --refresh-every 0 "$@" >"$work/server.out" 2>"$work/server.log" &
  pid=$!
  for _ in $(seq 1 300); do
    grep -q 'listening on' "$work/server.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || fail "the server exited"
    sleep 0.1
  done
  port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.out")
  [ -n "$port" ] || fail "the server did not start"
}
stop() {
  kill -TERM "$pid"
  wait "$pid" || fail "the server did not stop cleanly"
  pid=""
}

"$bin" --data "$work/data" init --policy "$src/policies/wig.yaml" >/dev/null

# 1. The allow-list alone: 127.0.0.1 scrapes without a token; the body passes promtool.
start --metrics-allow 127.0.0.1/32,::1/128 --log-requests all --log-level debug
curl -fsS "http://127.0.0.1:$port/ping" >/dev/null
curl -sS -D "$work/headers" -o "$work/metrics" -w '%{http_code}' \
  -H 'X-Request-Id: scrape-0001-test' "http://127.0.0.1:$port/metrics" >"$work/code"
[ "$(cat "$work/code")" = 200 ] || fail "/metrics answered $(cat "$work/code")"
promtool check metrics <"$work/metrics" || fail "promtool check metrics refused the body"
echo "ok: promtool check metrics passes"
for family in process_resident_memory_bytes process_virtual_memory_bytes \
  process_cpu_seconds_total process_open_fds process_start_time_seconds custos_build_info \
  custos_http_requests_total; do
  grep -q "^# HELP $family " "$work/metrics" || fail "no # HELP for $family"
  grep -q "^# TYPE $family " "$work/metrics" || fail "no # TYPE for $family"
done
grep -qi '^x-request-id: scrape-0001-test' "$work/headers" || fail "the request id was not echoed"
grep -q '"level":"info","event":"request".*"request_id":"scrape-0001-test"' "$work/server.log" ||
  fail "no log line with the request id"
echo "ok: X-Request-Id echoed and logged"
stop

# 2. A scrape token and the allow-list: the token is needed, and it is enough.
printf 'scrape-%s\n' "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$work/scrape.token"
chmod 600 "$work/scrape.token"
start --metrics-token-file "$work/scrape.token" --metrics-allow 127.0.0.1/32 --log-level warn
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
[ "$code" = 401 ] || fail "without the scrape token /metrics answered $code"
curl -fsS -H "Authorization: Bearer $(head -n1 "$work/scrape.token")" \
  "http://127.0.0.1:$port/metrics" | promtool check metrics || fail "scrape with the token"
echo "ok: the scrape token reads /metrics"
# --log-level warn: the 401 (a client's mistake) is logged, the 200 is not.
grep -q '"level":"warn","event":"request".*"status":401' "$work/server.log" || fail "no warn line"
if grep -q '"status":200' "$work/server.log"; then fail "an info line under --log-level warn"; fi
if grep -q "$(head -n1 "$work/scrape.token")" "$work/server.log"; then fail "the token was logged"; fi
stop
echo "passed"
