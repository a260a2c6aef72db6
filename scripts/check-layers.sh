#!/usr/bin/env bash
# Fails when a file under SRC includes a folder its layer may not use (docs/ARCHITECTURE.md,
# "Layers"). Dependencies run one way:
#   common <- crypto, policy, store <- store/sqlite, store/postgres <- engine
#   <- deployment (opens a store + key + policy + engine), delivery (the outbox's senders),
#   connectors (the organisation's own systems, behind the engine's SystemConnector port)
#   <- api (HTTP server) <- cli (the program: every verb, `serve` included)
# Also: each third-party header that ties a folder to one technology stays in the folders named
# for it (the store backend, and connectors/, which reaches the organisation's own databases).
# Usage: scripts/check-layers.sh [SRC]   (default: the repository's src/)
set -euo pipefail
src=${1:-"$(cd "$(dirname "$0")/.." && pwd)/src"}
cd "$src"

# folder -> the project folders its files may include (besides their own).
declare -A may=(
  [common]=""
  [crypto]="common"
  [policy]="common"
  [store]="common"
  [store/sqlite]="store common"
  [store/postgres]="store common"
  [engine]="policy store crypto common"
  [connectors]="engine policy store crypto common"
  [deployment]="connectors engine policy store store/sqlite store/postgres crypto common"
  [delivery]="engine policy store crypto common"
  [api]="connectors deployment delivery engine policy store crypto common"
  [cli]="connectors api deployment delivery engine policy store store/sqlite store/postgres crypto common"
)
# third-party header -> the only folder that may include it.
declare -A owner=(
  ["sqlite3.h"]="store/sqlite connectors"
  ["libpq-fe.h"]="store/postgres connectors"
  ["mysql.h"]="connectors"
  ["microhttpd.h"]="api"
  ["curl/curl.h"]="delivery connectors"
  ["graphviz/gvc.h"]="policy"
)

bad=0
while IFS= read -r file; do
  folder=$(dirname "$file")
  folder=${folder#./}
  if [[ -z "${may[$folder]+set}" ]]; then
    echo "$file: folder '$folder' has no layer in scripts/check-layers.sh; add it there and to docs/ARCHITECTURE.md"
    bad=1
    continue
  fi
  while IFS= read -r hit; do
    line=${hit%%:*}
    target=$(sed -E 's/.*#include +"([^"]+)".*/\1/' <<<"${hit#*:}")
    dir=$(dirname "$target")
    [[ "$dir" == "$folder" || "$dir" == "." ]] && continue
    allowed=0
    for ok in ${may[$folder]}; do [[ "$dir" == "$ok" ]] && allowed=1; done
    if [[ $allowed == 0 ]]; then
      echo "$file:$line: $folder may not include \"$target\" (allowed: ${may[$folder]:-nothing outside common})"
      bad=1
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+"' "$file" || true)
  while IFS= read -r hit; do
    line=${hit%%:*}
    header=$(sed -E 's/.*#include +<([^>]+)>.*/\1/' <<<"${hit#*:}")
    [[ -z "${owner[$header]+set}" ]] && continue
    owned=0
    owners=""
    for o in ${owner[$header]}; do
      [[ "$folder" == "$o" ]] && owned=1
      owners+="${owners:+ and }$o/"
    done
    if [[ $owned == 0 ]]; then
      echo "$file:$line: <$header> belongs to $owners only"
      bad=1
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]+<' "$file" || true)
done < <(find . -name '*.h' -o -name '*.cc' -o -name '*.inc' | sed 's#^\./##' | sort)

if [[ $bad == 0 ]]; then
  echo "layers: every include runs one way ($(find . -name '*.h' -o -name '*.cc' | wc -l) files)"
fi
exit $bad
