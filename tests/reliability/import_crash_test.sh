#!/usr/bin/env bash
# Crash test of `custos import` (docs/IMPORT.md): an import of ROWS people in batches of BATCH is
# killed with SIGKILL at a random moment after its first batch is stored, then:
#  1. the store holds whole batches only: the number of people is a multiple of BATCH, and
#     every stored person has all of their rows (2 records, 1 identifier, 1 consent, 2 events);
#  2. the same command run again imports exactly the rest and skips what was stored;
#  3. a third run imports nothing and leaves the audit log as it was;
#  4. `custos audit verify` passes.
# Usage: import_crash_test.sh CUSTOS_BINARY SOURCE_DIR sqlite|postgres [ROWS=20000] [BATCH=500]
#   postgres needs CUSTOS_TEST_DATABASE_URL (ctest's postgres fixture sets it).
set -euo pipefail
bin=$1
src=$2
backend=$3
rows=${4:-20000}
batch=${5:-500}
case $backend in
  sqlite | postgres) ;;
  *) echo "backend is sqlite or postgres" >&2; exit 2 ;;
esac

work=$(mktemp -d /tmp/custos-import-crash.XXXXXX)
schema=import_crash_$$
psql=/usr/lib/postgresql/15/bin/psql
db_args=()
import_pid=
if [ "$backend" = postgres ]; then
  url=${CUSTOS_TEST_DATABASE_URL:?CUSTOS_TEST_DATABASE_URL is not set: run under ctest (postgres fixture)}
  db_args=(--database "$url" --schema "$schema")
fi
cleanup() {
  if [ -n "$import_pid" ]; then kill -KILL "$import_pid" 2>/dev/null || true; fi
  if [ "$backend" = postgres ]; then
    "$psql" -q "$url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL ($backend): $*" >&2
  exit 1
}
custos() { "$bin" --data "$work/data" "${db_args[@]}" "$@"; }
sql() {
  if [ "$backend" = sqlite ]; then
    sqlite3 "$work/data/custos.db" "$1"
  else
    "$psql" -qtA "$url" -c "SET search_path TO $schema" -c "$1"
  fi
}

# The export: the columns of the WIG fixture, one member per row.
awk -v n="$rows" 'BEGIN {
  print "crm_id,kind,joined,email,mobile,name,job,membership_ended,last_login,newsletter,newsletter_date,newsletter_form"
  for (i = 1; i <= n; i++)
    printf "%d,member,2015-03-01,p%d@example.test,,Person %d,Analyst,2020-01-01,,yes,2015-03-01,form-%d\n", i, i, i, i
}' >"$work/export.csv"
mapping=$src/tests/fixtures/import/wig_crm.yaml
custos init --policy "$src/policies/wig.yaml" >/dev/null

import() {
  # exec: in the background the import itself (not a shell around it) gets the SIGKILL.
  exec "$bin" --data "$work/data" "${db_args[@]}" import --mapping "$mapping" --batch "$batch" \
    --progress none "$work/export.csv"
}
people() { sql "SELECT count(*) FROM subjects"; }

# 1. Kill it once a batch is stored, after a random wait of up to 0.3 s.
import >"$work/first.out" 2>&1 &
import_pid=$!
for _ in $(seq 1 3000); do
  n=$(people 2>/dev/null || echo 0)
  [ "${n:-0}" -gt 0 ] && break
  kill -0 "$import_pid" 2>/dev/null || break
  sleep 0.02
done
sleep "0.$((RANDOM % 300))"
kill -KILL "$import_pid" 2>/dev/null || true
wait "$import_pid" 2>/dev/null || true
import_pid=
stored=$(people)
echo "killed with $stored of $rows people stored"
[ "$stored" -gt 0 ] || fail "nothing was stored before the kill"
[ "$stored" -lt "$rows" ] || fail "the import finished before the kill: raise ROWS"
[ $((stored % batch)) -eq 0 ] || fail "$stored people stored: not whole batches of $batch"
for check in "records 2" "identifiers 1" "consent_events 1" "events 2"; do
  set -- $check
  have=$(sql "SELECT count(*) FROM $1")
  [ "$have" -eq $(($2 * stored)) ] || fail "$have rows in $1 for $stored people: a person half-imported"
done

# 2. The same command again finishes the job.
(import) >"$work/second.out" 2>"$work/second.err" || fail "rerun failed: $(cat "$work/second.err")"
want="imported $((rows - stored)), skipped $stored, rejected 0 of $rows rows"
[ "$(head -n 1 "$work/second.out")" = "$want" ] ||
  fail "rerun said '$(head -n 1 "$work/second.out")', not '$want'"
[ "$(people)" -eq "$rows" ] || fail "$(people) people after the rerun, not $rows"
[ "$(sql "SELECT count(*) FROM records")" -eq $((2 * rows)) ] || fail "records missing after the rerun"

# 3. And once more: nothing changes.
entries=$(sql "SELECT count(*) FROM audit_log")
(import) >"$work/third.out" 2>&1 || fail "third run failed"
want="imported 0, skipped $rows, rejected 0 of $rows rows"
[ "$(head -n 1 "$work/third.out")" = "$want" ] || fail "third run said '$(head -n 1 "$work/third.out")'"
[ "$(sql "SELECT count(*) FROM audit_log")" -eq "$entries" ] || fail "a run that imported nothing wrote to the audit log"

# 4. The chain is whole.
custos audit verify >"$work/verify.out" 2>&1 || fail "audit verify: $(cat "$work/verify.out")"
echo "ok ($backend): killed at $stored of $rows, resumed, idempotent, audit intact"
