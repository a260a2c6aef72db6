#!/usr/bin/env bash
# How long `custos serve` takes to be of use, with many people stored against none.
#
#   bench/start_time.sh [BUILD_DIR] [PEOPLE] [ROUNDS] [--postgres]
#
# Two WIG deployments of the same policy: one empty, one with PEOPLE people (default 1,000,000)
# imported from a generated CRM export (bench/../tests/fixtures/import/wig_crm.yaml's mapping:
# an email and a phone, two records, two events and a newsletter consent each). Each round
# starts `custos serve` on each and times, from the process's start, (1) /readyz answering 200
# and (2) the first decision about a stored person answering 200 (on the empty deployment, a
# person added before the timing starts). Median of the rounds; the goal is (2) <= 2 s with
# PEOPLE people, and the ratio against the empty store is printed. With --postgres both
# deployments live in a throwaway PostgreSQL cluster (scripts/pg-test-cluster.sh) instead of
# SQLite. Nothing is timed while loading.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
people=${2:-1000000}
rounds=${3:-3}
backend=sqlite
[ "${4:-}" = "--postgres" ] && backend=postgres
bin="$PWD/$build/custos"
[ -x "$bin" ] || { echo "no $bin: build first (make build)" >&2; exit 2; }
work=$(mktemp -d /tmp/custos-start-bench.XXXXXX)
cluster=""
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$cluster" ] && scripts/pg-test-cluster.sh stop "$cluster" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
policy=policies/wig.yaml
mapping=tests/fixtures/import/wig_crm.yaml

# setup NAME: initialises deployment NAME; where[NAME] holds its options (--data, and on
# PostgreSQL --database and --schema).
declare -A where
setup() {
  local name=$1
  if [ "$backend" = sqlite ]; then
    where[$name]="--data $work/$name"
  else
    # Each deployment in its own schema of the cluster, its tokens and key in its directory.
    where[$name]="--data $work/$name --database $(cat "$cluster/url") --schema start_$name"
  fi
  # shellcheck disable=SC2086
  "$bin" ${where[$name]} init --policy "$policy" > /dev/null
}

if [ "$backend" = postgres ]; then
  cluster=$(mktemp -d /tmp/custos-start-pg.XXXXXX)
  scripts/pg-test-cluster.sh start "$cluster" 0 > /dev/null
fi
setup empty
setup full

# The export: PEOPLE rows in the fixture's columns, written once, streamed by the import.
awk -v n="$people" 'BEGIN {
  print "crm_id,kind,joined,email,mobile,name,job,membership_ended,last_login,newsletter,newsletter_date,newsletter_form"
  for (i = 1; i <= n; i++) {
    kind = (i % 2) ? "member" : "non_member"
    printf "%d,%s,2020-01-01,p%d@example.test,07%09d,Person %d,Job %d,,2025-11-30,%s,2020-01-01,form-%d\n",
      i, kind, i, i, i, i, (i % 3) ? "yes" : "no", i
  }
}' > "$work/people.csv"
echo "loading $people people into the full deployment ($backend)..."
load_start=$(date +%s.%N)
# shellcheck disable=SC2086
"$bin" ${where[full]} import --mapping "$mapping" --progress none "$work/people.csv" > "$work/import.out"
echo "  loaded in $(echo "$(date +%s.%N) - $load_start" | bc) s: $(tail -1 "$work/import.out")"
# One person on the empty side, so both sides decide about a stored person.
head -2 "$work/people.csv" > "$work/one.csv"
# shellcheck disable=SC2086
"$bin" ${where[empty]} import --mapping "$mapping" --progress none "$work/one.csv" > /dev/null
# An admin token on each side, for the decision.
declare -A token
for name in empty full; do
  # shellcheck disable=SC2086
  token[$name]=$("$bin" ${where[$name]} token create --role admin --label bench | tail -1)
done
# The stored person's id, found by their email (the import's subject ids are keyed hashes).
subject_of() {
  local name=$1 url=$2
  curl -sf -H "Authorization: Bearer ${token[$name]}" -H 'Content-Type: application/json' \
    "$url/v1/identifiers/lookup" -d '{"kind":"email","value":"p1@example.test"}' |
    sed -n 's/.*"subjects":\["\([^"]*\)".*/\1/p'
}

# Starts serve on NAME; prints seconds to /readyz 200 and to the first decision 200.
time_start() {
  local name=$1 url="" subject="" start ready decided
  start=$(date +%s.%N)
  # shellcheck disable=SC2086
  "$bin" ${where[$name]} serve --listen 127.0.0.1:0 --log-requests none --sweep-every 0 \
    > "$work/serve.out" 2> "$work/serve.err" &
  server_pid=$!
  for _ in $(seq 1 6000); do
    url=$(sed -n 's/.*listening on //p' "$work/serve.out" 2>/dev/null)
    [ -n "$url" ] && curl -sf -o /dev/null "$url/readyz" && break
    sleep 0.005
  done
  ready=$(echo "$(date +%s.%N) - $start" | bc)
  subject=$(subject_of "$name" "$url")
  curl -sf -o /dev/null -H "Authorization: Bearer ${token[$name]}" \
    -H 'Content-Type: application/json' "$url/v1/decisions" \
    -d "{\"subject_id\":\"$subject\",\"purpose\":\"newsletter\",\"categories\":[\"user.contact.email\"]}"
  decided=$(echo "$(date +%s.%N) - $start" | bc)
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  echo "$ready $decided"
}

median() { sort -g | awk '{a[NR]=$0} END {print a[int((NR+1)/2)]}'; }
declare -A readies decides
for round in $(seq 1 "$rounds"); do
  for name in empty full; do
    read -r r d < <(time_start "$name")
    readies[$name]+="$r"$'\n'
    decides[$name]+="$d"$'\n'
    echo "  round $round, $name: ready after ${r} s, first decision after ${d} s"
  done
done
for name in empty full; do
  r=$(printf '%s' "${readies[$name]}" | median)
  d=$(printf '%s' "${decides[$name]}" | median)
  printf '%s store (%s): ready %.3f s, first decision %.3f s (median of %d)\n' \
    "$name" "$backend" "$r" "$d" "$rounds"
  eval "median_$name=$d"
done
ratio=$(echo "scale=2; $median_full / $median_empty" | bc)
echo "with $people people: first decision ${median_full} s after start, ${ratio}x the empty store's"
if [ "$(echo "$median_full <= 2" | bc)" = 1 ]; then
  echo "goal (<= 2 s to the first decision): met"
else
  echo "goal (<= 2 s to the first decision): NOT met"
fi
