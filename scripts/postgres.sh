#!/usr/bin/env bash
# A throwaway PostgreSQL for tests and the local cluster: Debian's postgresql (installed when
# missing), initdb into a scratch folder, listening on loopback only at a high port, run as the
# postgres user, trust authentication for local connections, TLS on with a self-signed certificate
# for 127.0.0.1 (DIR/data/server.crt, so clients can check it), stopped by its PID.
#   scripts/postgres.sh start DIR [PORT]   prints the store URL, postgres://postgres@127.0.0.1:PORT/callerlookup
#                                          (DIR: a folder the postgres user can reach, e.g. a new mktemp -d)
#   scripts/postgres.sh stop DIR           stops the server whose PID is in DIR/data/postmaster.pid
#   scripts/postgres.sh restart DIR PORT   starts DIR's server again (after a stop or a crash: it recovers)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
command=${1:?start or stop}
dir=${2:?a scratch folder}

bindir() {
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    if [ -z "$found" ]; then
        echo "postgres: installing postgresql" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends postgresql >/dev/null
        found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    fi
    echo "$found"
}

case "$command" in
start)
    port=${3:-$(cl_port)}
    bin=$(bindir)
    mkdir -p "$dir"
    chown postgres "$dir"
    chmod 700 "$dir"
    runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    openssl req -new -x509 -days 30 -nodes -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
        -keyout "$dir/data/server.key" -out "$dir/data/server.crt" >/dev/null 2>&1
    chown postgres "$dir/data/server.key" "$dir/data/server.crt"
    chmod 600 "$dir/data/server.key"
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c ssl=on" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    runuser -u postgres -- "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE callerlookup" >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/callerlookup"
    ;;
restart)
    port=${3:?the port it listened on}
    bin=$(bindir)
    # After a SIGKILL the lock file stays; its process may linger as a zombie (when nothing reaps
    # it), which would keep the server from starting: a lock file of a dead or zombie process goes.
    if [ -f "$dir/data/postmaster.pid" ]; then
        pid=$(head -1 "$dir/data/postmaster.pid")
        state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
        if [ -z "$state" ] || [[ "$state" == Z* ]]; then rm -f "$dir/data/postmaster.pid" "$dir/.s.PGSQL.$port.lock"; fi
    fi
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c ssl=on" start >/dev/null \
        || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://postgres@127.0.0.1:$port/callerlookup"
    ;;
stop)
    [ -f "$dir/data/postmaster.pid" ] || exit 0
    # A fast shutdown; SIGKILL if it is not over within 10 s.
    CL_GRACE=10 cl_kill -INT "$(head -1 "$dir/data/postmaster.pid")"
    ;;
*)
    echo "usage: scripts/postgres.sh start|stop|restart DIR [PORT]" >&2
    exit 64
    ;;
esac
