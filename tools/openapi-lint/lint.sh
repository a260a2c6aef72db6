#!/usr/bin/env bash
# Lints an OpenAPI document (default: src/api/openapi.json) with Spectral's OpenAPI rules
# (.spectral.yaml beside this file). Spectral is pinned by package-lock.json and installed with
# `npm ci --ignore-scripts` in this folder (scripts/setup-deps.sh does it). A warning fails.
# Usage: lint.sh [DOCUMENT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
document=${1:-$here/../../src/api/openapi.json}
spectral=$here/node_modules/.bin/spectral
if [ ! -x "$spectral" ]; then
  echo "openapi-lint: Spectral is not installed: run 'npm ci --ignore-scripts' in $here" \
    "(scripts/setup-deps.sh does)" >&2
  exit 1
fi
exec "$spectral" lint --ruleset "$here/.spectral.yaml" --fail-severity warn --quiet "$document"
