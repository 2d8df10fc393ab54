#!/usr/bin/env bash
# kill -9 of the PostgreSQL server during an import leaves the old contacts or the new ones, never
# a mix: an organization holds 1,000 contacts named Old-…, an import of 60,000 named New-… is
# started with the real binary, and the server is killed (SIGKILL) at several moments of it, then
# restarted on the same data (crash recovery). The importing client must notice and exit with an
# error within 10 s. After each round the organization holds exactly the old set (version 1) or
# exactly the new one (version 2), and no contact is newer than its organization's version.
# Usage: scripts/reliability/postgres-crash.sh [BINARY]   (part of scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
bin=$(cl_binary debug "${1:-}")

cl_tempdir pg
cl_tempdir work
cl_on_exit scripts/postgres.sh stop "$pg"
port=$(cl_port)
url=$(scripts/postgres.sh start "$pg" "$port")

# generate-like files: NAME-i;+4206…;externalId
contacts() {
    awk -v n="$1" -v name="$2" 'BEGIN { print "firstName;lastName;externalId;phone1"; for (i = 0; i < n; i++) printf "%s;%d;%s%d;+420601%06d\n", name, i, name, i, i }'
}
contacts 1000 Old >"$work/old.csv"
contacts 60000 New >"$work/new.csv"

sql() { psql "$url" -Atqc "$1"; }

rounds=0
killed_mid_import=0
for delay in 0.3 0.8 1.5 3; do
    org="Crash$rounds"
    "$bin" org create "$org" --store "$url" >/dev/null
    "$bin" import "$work/old.csv" --org "$org" --store "$url" >"$work/old.out" 2>&1 || { head -c 600 "$work/old.out" >&2; exit 1; }
    cl_start "$work/import.out" "$bin" import "$work/new.csv" --org "$org" --store "$url"
    import=$CL_PID
    sleep "$delay"
    if kill -0 "$import" 2>/dev/null; then killed_mid_import=$((killed_mid_import + 1)); fi
    kill -9 "$(head -1 "$pg/data/postmaster.pid")"
    # The importing client notices the lost connection and exits (an error, unless it had
    # finished before the kill).
    for _ in $(seq 1 100); do kill -0 "$import" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$import" 2>/dev/null; then
        echo "postgres-crash: the importing client still waits 10 s after the server's death" >&2
        exit 1
    fi
    cl_wait "$import" 2>/dev/null || grep -q "connection to PostgreSQL was lost\|does not answer\|unreachable" "$work/import.out" ||
        { echo "postgres-crash: the client failed without saying why: $(head -c 400 "$work/import.out")" >&2; exit 1; }
    # The killed server's backends notice and exit; then it is started again and recovers.
    sleep 1
    url=$(scripts/postgres.sh restart "$pg" "$port")
    id=$(sql "SELECT id FROM organizations WHERE name = '$org'")
    old=$(sql "SELECT count(*) FROM contacts WHERE organization_id = $id AND \"firstName\" = 'Old'")
    new=$(sql "SELECT count(*) FROM contacts WHERE organization_id = $id AND \"firstName\" = 'New'")
    version=$(sql "SELECT version FROM organizations WHERE id = $id")
    stale=$(sql "SELECT count(*) FROM contacts WHERE organization_id = $id AND version > $version")
    if ! { [ "$old" = 1000 ] && [ "$new" = 0 ] && [ "$version" = 1 ]; } && ! { [ "$old" = 0 ] && [ "$new" = 60000 ] && [ "$version" = 2 ]; }; then
        echo "postgres-crash: after a kill -9 at ${delay}s: $old old and $new new contacts at version $version" >&2
        exit 1
    fi
    [ "$stale" = 0 ] || { echo "postgres-crash: contacts newer than their organization's version" >&2; exit 1; }
    rounds=$((rounds + 1))
    echo "postgres-crash: killed at ${delay}s: $([ "$new" = 0 ] && echo "the old 1,000" || echo "the new 60,000") contacts, version $version" >&2
done
[ "$killed_mid_import" -gt 0 ] || { echo "postgres-crash: no kill landed during an import; nothing was proven" >&2; exit 1; }
echo "postgres-crash: $rounds kill -9 rounds ($killed_mid_import during the import): the old set or the new one each time, never a mix" >&2
