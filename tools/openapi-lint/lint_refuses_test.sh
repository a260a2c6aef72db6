#!/usr/bin/env bash
# The lint is a real gate: a copy of the OpenAPI document with one operation's tags, description
# and the document's licence taken away must fail it, naming those rules.
# Usage: lint_refuses_test.sh SOURCE_DIR
set -euo pipefail
src=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$src/src/api/openapi.json" "$work/broken.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
operation = doc["paths"]["/healthz"]["get"]
operation.pop("tags", None)
operation.pop("description", None)
doc["info"].pop("license", None)
json.dump(doc, open(sys.argv[2], "w"), indent=1)
PY
if "$src/tools/openapi-lint/lint.sh" "$work/broken.json" >"$work/out" 2>&1; then
  cat "$work/out"
  echo "FAIL: the lint passed a document without tags, description and licence" >&2
  exit 1
fi
for rule in operation-tags operation-description info-license; do
  grep -q "$rule" "$work/out" || { cat "$work/out"; echo "FAIL: $rule not reported" >&2; exit 1; }
done
echo "ok: the lint refuses what the document must declare"
