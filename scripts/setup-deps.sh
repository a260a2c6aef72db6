#!/usr/bin/env bash
# Installs everything custos needs from Debian 12's packages. Idempotent: packages already
# present are skipped, and apt is not touched at all when nothing is missing.
# postgresql-15 provides the server binaries (/usr/lib/postgresql/15/bin) for the throwaway
# test cluster (scripts/pg-test-cluster.sh); the tests never use Debian's own cluster.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libyaml-dev rapidjson-dev libsodium-dev libsqlite3-dev sqlite3
  libpq-dev postgresql-15
  libgraphviz-dev graphviz
  libmicrohttpd-dev wrk curl openssl libcurl4-openssl-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang libclang-rt-14-dev clang-format
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "setup-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
