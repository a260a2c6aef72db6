#!/usr/bin/env bash
# A throwaway MariaDB server for the tests of the MySQL/MariaDB connector.
#
#   scripts/mariadb-test-server.sh start DIR PORT   install a data directory in DIR and start
#                                                   the server on 127.0.0.1:PORT; writes
#                                                   DIR/connection (the connector's string)
#   scripts/mariadb-test-server.sh stop DIR         stop it and remove DIR
#
# Listens only on 127.0.0.1 (its socket inside DIR); root without a password (nothing but the
# tests can reach it); no binary log; a small buffer pool. Fails loudly when the server is not
# installed: `make test` installs it with scripts/setup-deps.sh.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR [PORT]" >&2
  exit 2
fi

stop() {
  local pid
  pid=$(cat "$dir/pid" 2>/dev/null || true)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf "$dir"
}

case "$cmd" in
  start)
    port=${3:?a port}
    if ! command -v mariadb-install-db >/dev/null || [ ! -x /usr/sbin/mariadbd ]; then
      echo "mariadb-test-server: MariaDB is not installed; run scripts/setup-deps.sh" >&2
      exit 1
    fi
    stop
    mkdir -p "$dir"
    dir=$(readlink -f "$dir")
    user=$(id -un)
    mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" \
      --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 ||
      { cat "$dir/install.log" >&2; exit 1; }
    /usr/sbin/mariadbd --no-defaults --datadir="$dir/data" --socket="$dir/sock" --port="$port" \
      --bind-address=127.0.0.1 --user="$user" --pid-file="$dir/pid" --log-error="$dir/server.log" \
      --skip-log-bin --innodb-buffer-pool-size=32M --max-connections=50 >/dev/null 2>&1 &
    for _ in $(seq 1 150); do
      if mariadb-admin --no-defaults --socket="$dir/sock" -uroot ping >/dev/null 2>&1; then
        mariadb --no-defaults --socket="$dir/sock" -uroot -e "CREATE DATABASE custos_test"
        echo "host=127.0.0.1 port=$port user=root database=custos_test" >"$dir/connection"
        echo "mariadb-test-server: started on 127.0.0.1:$port ($dir)"
        exit 0
      fi
      sleep 0.2
    done
    echo "mariadb-test-server: the server did not start:" >&2
    cat "$dir/server.log" >&2 || true
    exit 1
    ;;
  stop)
    stop
    echo "mariadb-test-server: stopped ($dir)"
    ;;
  *)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
