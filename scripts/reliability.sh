#!/usr/bin/env bash
# The reliability suite at full size (docs/RELIABILITY.md; `make reliability`):
#  1. the crash test, RUNS kills (default 100) on SQLite and on PostgreSQL (a throwaway cluster
#     started here with scripts/pg-test-cluster.sh);
#  2. the soak: SOAK_MINUTES (default 10) at SOAK_FRACTION (default 0.8) of the measured peak,
#     RSS and p99 each minute.
# Usage: scripts/reliability.sh [BUILD_DIR=build]   (RUNS, CLIENTS, SOAK_MINUTES, SOAK_FRACTION,
#        SKIP_SOAK=1, SKIP_POSTGRES=1 from the environment)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
runs=${RUNS:-100}
clients=${CLIENTS:-4}
bin=$build/custos
[ -x "$bin" ] || { echo "no $bin: build first" >&2; exit 2; }

echo "== crash test, SQLite, $runs runs"
tests/reliability/crash_test.sh "$bin" . sqlite "$runs" "$clients" 1500

if [ "${SKIP_POSTGRES:-0}" != 1 ]; then
  cluster=$(mktemp -d /tmp/custos-reliability-pg.XXXXXX)
  rmdir "$cluster"
  trap 'scripts/pg-test-cluster.sh stop "$cluster" >/dev/null 2>&1 || true' EXIT
  scripts/pg-test-cluster.sh start "$cluster" 0 >/dev/null
  echo "== crash test, PostgreSQL, $runs runs"
  CUSTOS_TEST_DATABASE_URL=$(cat "$cluster/url") \
    tests/reliability/crash_test.sh "$bin" . postgres "$runs" "$clients" 1500
fi

if [ "${SKIP_SOAK:-0}" != 1 ]; then
  echo "== soak"
  tests/reliability/soak.sh "$bin" . "${SOAK_MINUTES:-10}" "${SOAK_FRACTION:-0.8}"
fi
