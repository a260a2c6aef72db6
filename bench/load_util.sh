# Shell helpers the load benchmarks share (bench/server_load.sh, bench/pages_load.sh,
# bench/tail_picture.sh), sourced after they set bin (the custos binary); prepare_deployment
# sets work, data and token, start_server url; connections and seconds are wrk's.
# "same work" checks; require_same_work ends the run, without a verdict, after a failed one.
mismatches=0
same() {  # WHAT MEASURED BASELINE
  if [ "$2" = "$3" ]; then echo "  same work: $1: $2 on both sides"
  else echo "  MISMATCH:  $1: $2 against $3"; mismatches=$((mismatches + 1)); fi
}
within() {  # WHAT VALUE LOW HIGH
  if [ "$2" -ge "$3" ] && [ "$2" -le "$4" ]; then echo "  same work: $1: $2 (within $3..$4)"
  else echo "  MISMATCH:  $1: $2, not within $3..$4"; mismatches=$((mismatches + 1)); fi
}
require_same_work() {
  if [ "$mismatches" -gt 0 ]; then
    echo "  no verdict: the two sides did not do the same work"
    echo "no verdict: the two sides did not do the same work (see MISMATCH)" >&2
    exit 3
  fi
}
# A counter from /metrics; $1 is the whole series name with its labels.
metric() { curl -s -H "Authorization: Bearer $token" "$url/metrics" | awk -v m="$1" 'index($0, m " ") == 1 {print $NF}'; }
count_rows() { sqlite3 "$1" "$2"; }
http_count() { metric "custos_http_requests_total{route=\"$1\",status=\"$2\"}" | sed 's/^$/0/'; }

# wrk's "Requests/sec", the 99th percentile in ms, and the requests it completed.
run_wrk() {
  local out
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@")
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "non-2xx responses" >&2; exit 1; fi
  local rps p99 done
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  done=$(echo "$out" | awk '/requests in/ {print $1}')
  p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}')
  echo "$rps $p99 $done"
}
median() { sort -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }

# Starts `custos serve` on $data for load (no rate or per-address limits, no request log),
# with any extra options given; sets server_pid and url. Uses $bin and $work.
start_server() {
  # wrk is one client address holding all its connections: no per-address connection limit.
  "$bin" serve --data "$data" --listen 127.0.0.1:0 --rate-limit 0 --address-rate-limit 0 \
    --connections-per-address 0 --log-requests none --threads "${THREADS:-64}" "$@" \
    > "$work/serve.out" 2> "$work/serve.err" &
  server_pid=$!
  for _ in $(seq 1 600); do grep -q "listening on" "$work/serve.out" 2>/dev/null && break; sleep 0.05; done
  url=$(sed -n 's/.*listening on //p' "$work/serve.out")
  [ -n "$url" ] || { echo "server did not start"; cat "$work/serve.err"; exit 1; }
}

# make_subjects N: subjects b1..bN over the API; half of them consent to the newsletter, so
# decisions both allow and deny.
make_subjects() {
  {
    for i in $(seq 1 "$1"); do
      printf 'url = "%s/v1/subjects"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"id\\":\\"b%d\\",\\"types\\":[\\"non_member\\"]}"\noutput = "/dev/null"\nnext\n' "$url" "$token" "$i"
      if [ $((i % 2)) -eq 0 ]; then
        printf 'url = "%s/v1/subjects/b%d/consents"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\ndata = "{\\"target\\":\\"newsletter\\",\\"given\\":true}"\noutput = "/dev/null"\nnext\n' "$url" "$i" "$token"
      fi
    done
  } | sed '$d' > "$work/setup.curl"  # no "next" after the last request
  curl -s --fail-early -K "$work/setup.curl"
}

# prepare_deployment NAME POLICY: a work directory (removed at exit, with the server) holding a
# deployment initialised from POLICY ($data), and an admin token ($token). With STORE=postgres
# the store is a throwaway PostgreSQL cluster in the work directory (scripts/pg-test-cluster.sh,
# fsync on), named to every custos command by CUSTOS_DATABASE; $data then holds the keys only.
prepare_deployment() {
  work=$(mktemp -d "/tmp/custos-$1.XXXXXX")
  server_pid=
  trap stop_and_clean EXIT
  data=$work/data
  if [ "${STORE:-sqlite}" = postgres ]; then
    scripts/pg-test-cluster.sh start "$work/pg" > /dev/null
    CUSTOS_DATABASE=$(cat "$work/pg/url")
    export CUSTOS_DATABASE
  fi
  "$bin" --data "$data" init --policy "$2" > /dev/null
  token=$("$bin" --data "$data" token create --role admin --label bench)
}
stop_and_clean() {
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [ -d "$work/pg" ]; then scripts/pg-test-cluster.sh stop "$work/pg" > /dev/null || true; fi
  rm -rf "$work"
}

# write_request_scripts: $work/decide.lua and $work/consent.lua, wrk scripts asking decisions
# and consent changes about a random one of people b1..b$subjects (given and withdrawn in turn).
# The requests are formatted once, in init(): wrk then spends on a decision what it spends on a
# ping (formatting each request in Lua cost the client ~3.5 us a request, on the same cores).
write_request_scripts() {
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
}
