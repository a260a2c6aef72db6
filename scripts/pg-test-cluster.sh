#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and benchmarks.
#
#   scripts/pg-test-cluster.sh start DIR [PORT]   initdb in DIR, start on 127.0.0.1:PORT
#                                                  (a free port when PORT is 0 or absent);
#                                                  writes DIR/url (the connection URL)
#   scripts/pg-test-cluster.sh stop DIR            stop it and remove DIR
#
# Listens only on 127.0.0.1 (no Unix socket outside DIR), trust authentication (nothing but the
# tests can reach it), fsync on (commits are as durable as in production, so the benchmarks
# measure real commits). When run as root, the server runs as the `postgres` user, which
# Debian's package creates. Fails loudly when the binaries are missing: `make test` installs
# them with scripts/setup-deps.sh.
set -euo pipefail

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR [PORT]" >&2
  exit 2
fi

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 - <<'EOF' 2>/dev/null || echo $(( 20000 + RANDOM % 20000 ))
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

case "$cmd" in
  start)
    if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
      echo "pg-test-cluster: PostgreSQL 15 is not installed ($PG_BIN/initdb missing);" \
           "run scripts/setup-deps.sh" >&2
      exit 1
    fi
    port=${3:-0}
    if [ "$port" = "0" ]; then port=$(free_port); fi
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    mkdir -p "$dir/data" "$dir/socket"
    if [ "$(id -u)" -eq 0 ]; then
      if ! id postgres >/dev/null 2>&1; then
        echo "pg-test-cluster: running as root but there is no 'postgres' user" >&2
        exit 1
      fi
      chown -R postgres: "$dir"
      # The server's user must be able to reach DIR through its parents.
      p=$(dirname "$(readlink -f "$dir")")
      while [ "$p" != "/" ]; do chmod o+x "$p" 2>/dev/null || true; p=$(dirname "$p"); done
    fi
    as_owner "$PG_BIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$(readlink -f "$dir")/socket'
fsync = on
synchronous_commit = on
max_connections = 200
shared_buffers = 128MB
EOF
    if ! as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      >/dev/null; then
      cat "$dir/server.log" >&2
      exit 1
    fi
    echo "postgresql://postgres@127.0.0.1:$port/postgres" >"$dir/url"
    chmod a+r "$dir/url"
    echo "pg-test-cluster: started on 127.0.0.1:$port ($dir)"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_owner "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    echo "pg-test-cluster: stopped ($dir)"
    ;;
  *)
    echo "usage: $0 start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
