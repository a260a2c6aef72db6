#!/usr/bin/env bash
# Runs the PostgreSQL benchmarks (docs/PERFORMANCE.md, "PostgreSQL") against a throwaway
# cluster: builds build-bench (Release, -DCUSTOS_BENCH=ON, as `make build-bench`) when BENCH_DIR
# is not given, starts the cluster on a free port, runs pg_ingest_bench and pg_decide_bench,
# and stops the cluster. Each program exits 3 without a verdict when its two sides did not do
# the same work.
set -euo pipefail
cd "$(dirname "$0")/.."
bench_dir=${BENCH_DIR:-build-bench}
if [ -z "${BENCH_DIR:-}" ]; then
  cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DCUSTOS_BENCH=ON \
    -DCUSTOS_TESTS=OFF >/dev/null
  cmake --build build-bench -j "${JOBS:-2}" --target pg_ingest_bench pg_decide_bench
fi
cluster=$(mktemp -d /tmp/custos-pg-bench.XXXXXX)
trap 'scripts/pg-test-cluster.sh stop "$cluster" >/dev/null' EXIT
scripts/pg-test-cluster.sh start "$cluster" 0
export CUSTOS_BENCH_DATABASE_URL
CUSTOS_BENCH_DATABASE_URL=$(cat "$cluster/url")
"$bench_dir/bench/pg_ingest_bench" "$@"
"$bench_dir/bench/pg_decide_bench"
