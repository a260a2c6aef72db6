#!/usr/bin/env bash
# Installs everything custos needs from Debian 12's packages. Idempotent: packages already
# present are skipped, and apt is not touched at all when nothing is missing.
# postgresql-15 provides the server binaries (/usr/lib/postgresql/15/bin) for the throwaway
# test cluster (scripts/pg-test-cluster.sh); the tests never use Debian's own cluster.
# mariadb-server does the same for the MySQL/MariaDB connector's tests
# (scripts/mariadb-test-server.sh); libmariadb-dev is the client library the connector uses.
# chromium is the browser the privacy centre's tests drive (tests/web, through playwright-core
# pinned in tests/web/package-lock.json, installed with `npm ci` at the end of this script).
# prometheus provides promtool (ctest metrics/promtool_check); nodejs and npm install the OpenAPI
# linter pinned in tools/openapi-lint/package-lock.json (ctest openapi/lint) and the test SMTP
# server pinned in tests/smtp/package-lock.json (ctest mail/*), with `npm ci` at the end of this
# script; openssl makes the mail tests' self-signed certificate.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libyaml-dev rapidjson-dev libabsl-dev libkainjow-mustache-dev libsodium-dev libsqlite3-dev sqlite3
  libpq-dev postgresql-15 libmariadb-dev mariadb-server
  libgraphviz-dev graphviz
  libmicrohttpd-dev wrk curl openssl libcurl4-openssl-dev zlib1g-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  clang libclang-rt-14-dev clang-format
  prometheus
  chromium
)
# Node.js from Debian unless a node with npm is already installed (from elsewhere).
if ! command -v npm >/dev/null 2>&1; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#packages[@]} packages present"
else
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "setup-deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The OpenAPI linter, exactly as package-lock.json pins it (no install scripts run). Skipped when
# node_modules already matches the lock file.
lint_dir="$(cd "$(dirname "$0")/.." && pwd)/tools/openapi-lint"
if ! cmp -s "$lint_dir/package-lock.json" "$lint_dir/node_modules/.package-lock.json.installed"; then
  echo "setup-deps: npm ci in tools/openapi-lint"
  (cd "$lint_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error &&
    cp package-lock.json node_modules/.package-lock.json.installed)
fi

# The SMTP server the mail delivery tests start on loopback (ctest mail/*), exactly as
# tests/smtp/package-lock.json pins it.
smtp_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/smtp"
if ! cmp -s "$smtp_dir/package-lock.json" "$smtp_dir/node_modules/.package-lock.json.installed"; then
  echo "setup-deps: npm ci in tests/smtp"
  (cd "$smtp_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error &&
    cp package-lock.json node_modules/.package-lock.json.installed)
fi
# The browser tests' driver and accessibility checker (playwright-core, @axe-core/playwright),
# exactly as tests/web/package-lock.json pins them; playwright's own browser downloads are not
# used (no install scripts run): the tests drive Debian's chromium.
web_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/web"
if ! cmp -s "$web_dir/package-lock.json" "$web_dir/node_modules/.package-lock.json.installed"; then
  echo "setup-deps: npm ci in tests/web"
  (cd "$web_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error &&
    cp package-lock.json node_modules/.package-lock.json.installed)
fi
# The cookie banner's library (vanilla-cookieconsent), exactly as web/banner/package-lock.json
# pins it: src/CMakeLists.txt builds its script and stylesheet into the binary.
banner_dir="$(cd "$(dirname "$0")/.." && pwd)/web/banner"
if ! cmp -s "$banner_dir/package-lock.json" "$banner_dir/node_modules/.package-lock.json.installed"; then
  echo "setup-deps: npm ci in web/banner"
  (cd "$banner_dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error &&
    cp package-lock.json node_modules/.package-lock.json.installed)
fi
