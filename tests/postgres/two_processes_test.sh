#!/usr/bin/env bash
# Two custos processes over one PostgreSQL database at once:
#  1. each adds its own people (subject, record, lifecycle event) while the other does;
#  2. both change the consent of every person at the same time (one gives, one withdraws);
#  3. both run the retention sweep at the same time.
# Then the counts must be exact: every person once, every consent event once (nothing lost,
# nothing doubled), the audit chain one unbroken line, and each expired person erased once.
# Usage: two_processes_test.sh CUSTOS_BINARY SOURCE_DIR  (CUSTOS_TEST_DATABASE_URL from ctest)
set -euo pipefail
bin=$1
src=$2
url=${CUSTOS_TEST_DATABASE_URL:?CUSTOS_TEST_DATABASE_URL is not set: run under ctest (postgres fixture)}
psql=/usr/lib/postgresql/15/bin/psql
per_process=${PEOPLE_PER_PROCESS:-15}

work=$(mktemp -d)
schema=tp_$$
cleanup() {
  "$psql" -q "$url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

custos() { "$bin" --data "$work/data" --database "$url" --schema "$schema" "$@"; }
count() { "$psql" -qtA "$url" -c "SELECT count(*) FROM $schema.$1"; }
expect() {  # expect WHAT ACTUAL WANTED
  if [ "$2" != "$3" ]; then
    echo "FAIL: $1: $2, expected $3" >&2
    exit 1
  fi
  echo "ok: $1 = $2"
}

custos --now 2026-01-01 init --policy "$src/policies/wig.yaml" >/dev/null

add_people() {  # add_people PREFIX
  for i in $(seq 1 "$per_process"); do
    id=$1$i
    custos --now 2026-01-01 subject add "$id" --type non_member --email "$id@example.test" >/dev/null
    custos --now 2026-01-01 record put "$id" user.name "Person $id" --source direct \
      --purpose membership_records >/dev/null
    custos --now 2026-01-01 event "$id" last_activity --at 2026-01-10 >/dev/null
  done
}
add_people a & pa=$!
add_people b & pb=$!
wait $pa
wait $pb
total=$((2 * per_process))
expect "people" "$(count subjects)" "$total"
expect "records" "$(count records)" "$total"

change_consents() {  # change_consents give|withdraw
  for p in a b; do
    for i in $(seq 1 "$per_process"); do
      custos --now 2026-02-01 consent "$1" "$p$i" event_bookings --channel web >/dev/null
    done
  done
}
change_consents give & pa=$!
change_consents withdraw & pb=$!
wait $pa
wait $pb
expect "consent events" "$(count consent_events)" "$((2 * total))"
expect "consent events per person (fewest-most)" \
  "$("$psql" -qtA "$url" -c "SELECT min(n) || '-' || max(n) || ' over ' || count(*) FROM (SELECT count(*) n FROM $schema.consent_events GROUP BY subject_id) c")" \
  "2-2 over $total"

# Five years after the last activity every person's data is due: two sweeps race for them.
custos --now 2031-01-11 retention run >"$work/run_a.txt" & pa=$!
custos --now 2031-01-11 retention run >"$work/run_b.txt" & pb=$!
wait $pa
wait $pb
expect "people erased" \
  "$("$psql" -qtA "$url" -c "SELECT count(*) FROM $schema.subjects WHERE state = 'erased'")" \
  "$total"
expect "erasures audited (once each)" \
  "$("$psql" -qtA "$url" -c "SELECT count(*) FROM $schema.audit_log WHERE action = 'retention_erase'")" \
  "$total"
expect "suppressed identifiers" "$(count suppressions)" "$total"

# One line of audit entries: seqs 1..n with no gap, and the chain verifies.
expect "audit seqs contiguous" \
  "$("$psql" -qtA "$url" -c "SELECT count(*) = max(seq) FROM $schema.audit_log")" t
custos audit verify
echo "two processes: ok"
