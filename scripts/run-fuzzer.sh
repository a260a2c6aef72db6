#!/usr/bin/env bash
# Runs one libFuzzer target of build-fuzz/ for a bounded time (SECONDS, default 60) or a number
# of inputs (--runs N). Its working corpus, build-fuzz/corpus/NAME, starts from the seeds kept in
# fuzz/corpus/NAME (the policy loader's also from policies/ and the validator fixtures); what
# the fuzzer adds stays in build-fuzz/. Exits non-zero when the fuzzer finds a crash, a hang or
# a sanitizer report; the input is left in build-fuzz/artifacts/.
# Usage: scripts/run-fuzzer.sh NAME [SECONDS | --runs N]
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: scripts/run-fuzzer.sh NAME [SECONDS | --runs N]}
name=${name##*/}
limit=(-max_total_time="${2:-60}")
if [[ "${2:-}" == "--runs" ]]; then limit=(-runs="${3:?--runs needs a number}"); fi
corpus=build-fuzz/corpus/$name
mkdir -p "$corpus" build-fuzz/artifacts
if [[ -d fuzz/corpus/$name ]]; then cp fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null || true; fi
if [[ $name == policy_loader_fuzzer ]]; then
  cp policies/*.yaml tests/fixtures/policy/valid/*.yaml tests/fixtures/policy/invalid/*.yaml \
    "$corpus"/ 2>/dev/null || true
fi
# Undefined behaviour stops the run like a crash, except the library reports fuzz/ubsan.supp
# explains.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/fuzz/ubsan.supp"
echo "== $name (${limit[*]})"
build-fuzz/"$name" "$corpus" "${limit[@]}" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix=build-fuzz/artifacts/"$name"- -print_final_stats=1
