#!/usr/bin/env bash
# The layer check refuses what it must: run over a fixture tree with one forbidden include per
# rule, it fails and names each offending file and line, and nothing else.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
check="$here/../../scripts/check-layers.sh"
out=$("$check" "$here/forbidden/src" 2>&1)
code=$?
echo "$out"
fail() { echo "FAIL: $1"; exit 1; }
[[ $code -ne 0 ]] || fail "the check passed a tree with forbidden includes"
for want in \
  'engine/decide.cc:2: engine may not include "api/server.h"' \
  'api/serve.cc:2: api may not include "cli/commands.h"' \
  'policy/loader.cc:2: policy may not include "store/store.h"' \
  'store/sqlite/sqlite_store.cc:3: <libpq-fe.h> belongs to store/postgres/ and connectors/ only' \
  'store/sqlite/sqlite_store.cc:4: store/sqlite may not include "store/postgres/postgres_store.h"'; do
  grep -qF "$want" <<<"$out" || fail "not reported: $want"
done
[[ $(grep -c . <<<"$out") -eq 5 ]] || fail "expected exactly 5 findings (allowed includes were reported too)"
echo "ok: 5 forbidden includes reported, allowed ones passed"
