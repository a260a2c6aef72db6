#!/usr/bin/env bash
# Runs a libFuzzer binary for a bounded time over a corpus seeded from the real policies and
# the validator fixtures. Exits non-zero when the fuzzer finds a crash.
set -euo pipefail
fuzzer=$1
seconds=${2:-60}
corpus=build-fuzz/corpus
mkdir -p "$corpus" build-fuzz/artifacts
cp policies/*.yaml tests/fixtures/policy/valid/*.yaml tests/fixtures/policy/invalid/*.yaml \
  "$corpus"/ 2>/dev/null || true
"$fuzzer" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix=build-fuzz/artifacts/ -print_final_stats=1
