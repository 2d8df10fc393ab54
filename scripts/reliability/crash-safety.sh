#!/usr/bin/env bash
# Crash safety: ROUNDS times (default 20) an upload of a large file is started
# and the server is killed with SIGKILL at a random moment; then ROUNDS times a batch REST write of
# 2,000 upserts is killed the same way. After every kill the server is restarted and checked:
#   * PRAGMA integrity_check answers ok;
#   * the organization holds exactly the old set or exactly the new set (marker contacts, counts);
#   * the change feed is consistent with the contacts: replaying it from 0 (the latest op of each
#     contact) gives the same ids, and the organization's version is the log's highest version.
# Usage: scripts/reliability/crash-safety.sh [ROUNDS] [ROWS]   (needs curl, sqlite3, python3)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

rounds=${1:-20}
rows=${2:-60000}
bin=$(cl_binary any)
cl_tempdir work
port=$(cl_port)
db="$work/data/caller-lookup.sqlite"
auth=$(printf '%s' crash:crashPassword | base64)
cl_scratch_store "$work/data" Crash crash crashPassword
# start_server: the server on the scratch store; `server` is its PID.
start_server() {
    cl_serve "$work/server.log" "$port" --data "$work/data"
    server=$CL_PID
}
# Two sets, A and B (other values for the same externalIds, 7 more rows), each with a marker
# contact (lastName, phone1, the other columns empty).
"$bin" generate --rows "$rows" --seed 31 > "$work/a.csv"
columns=$(head -1 "$work/a.csv" | tr ';' '\n' | wc -l)
marker() { printf ';"%s";;;;"%s"' "$1" "$2"; printf ';%.0s' $(seq 1 $((columns - 6))); printf '\n'; }
"$bin" generate --rows "$((rows + 7))" --seed 32 > "$work/b.csv"
marker MarkerA "+420 601 000 001" >> "$work/a.csv"
marker MarkerB "+420 601 000 002" >> "$work/b.csv"
"$bin" import "$work/a.csv" --org Crash --data "$work/data" >/dev/null

sql() { sqlite3 "$db" "$1"; }
check() {  # LABEL: the store after a kill
    local integrity markers count feed version logged
    integrity=$(sql "PRAGMA integrity_check")
    [ "$integrity" = ok ] || { echo "crash-safety: $1: integrity_check says $integrity" >&2; exit 1; }
    markers=$(sql "SELECT group_concat(lastName) FROM (SELECT lastName FROM contacts WHERE lastName LIKE 'Marker%' ORDER BY lastName)")
    count=$(sql "SELECT count(*) FROM contacts")
    case "$markers" in
        MarkerA) [ "$count" = $((rows + 1)) ] || { echo "crash-safety: $1: set A but $count contacts" >&2; exit 1; } ;;
        MarkerB) [ "$count" = $((rows + 8)) ] || { echo "crash-safety: $1: set B but $count contacts" >&2; exit 1; } ;;
        *) echo "crash-safety: $1: neither set (markers '$markers', $count contacts)" >&2; exit 1 ;;
    esac
    # SQLite returns the bare column `op` from the row that has max(version): each contact's last op.
    feed=$(sql "SELECT count(*) FROM (SELECT contact_id, op, max(version) FROM changes GROUP BY contact_id) WHERE op = 'upsert'")
    [ "$feed" = "$count" ] || { echo "crash-safety: $1: the feed replays to $feed contacts, the table has $count" >&2; exit 1; }
    logged=$(sql "SELECT count(*) FROM contacts WHERE id NOT IN (SELECT contact_id FROM (SELECT contact_id, op, max(version) FROM changes GROUP BY contact_id) WHERE op = 'upsert')")
    [ "$logged" = 0 ] || { echo "crash-safety: $1: $logged contacts are not in the feed" >&2; exit 1; }
    version=$(sql "SELECT version = (SELECT max(version) FROM changes) FROM organizations WHERE name = 'Crash'")
    [ "$version" = 1 ] || { echo "crash-safety: $1: the organization's version is not the feed's last" >&2; exit 1; }
    echo "$markers"
}

declare -A outcomes=()
for round in $(seq 1 "$rounds"); do
    start_server
    current=$(check "before upload $round")
    next=$([ "$current" = MarkerA ] && echo b || echo a)
    (cd "$work" && curl -s -o /dev/null -X POST -H "Authorization: Basic $auth" --form "file=@$next.csv" \
        "http://127.0.0.1:$port/v3/contacts/upload" || true) &
    upload=$!
    sleep "$(awk -v r="$RANDOM" 'BEGIN {printf "%.2f", 0.05 + (r % 450) / 100}')"
    cl_stop "$server" KILL
    wait "$upload" 2>/dev/null || true
    after=$(check "after killed upload $round")
    outcomes["$current->$after"]=$(( ${outcomes["$current->$after"]:-0} + 1 ))
done
echo "uploads killed: $rounds; outcomes: $(for k in "${!outcomes[@]}"; do printf '%s ×%s  ' "$k" "${outcomes[$k]}"; done)"

batch_all=0; batch_none=0
for round in $(seq 1 "$rounds"); do
    start_server
    python3 - "$round" > "$work/batch.json" <<'PY'
import json, sys
r = int(sys.argv[1])
ops = [{"op": "upsert", "contact": {"externalId": "batch-%d-%d" % (r, i), "lastName": "Dávka%d" % r,
        "phone1": "+420 602 %03d %03d" % (r, i % 1000)}} for i in range(2000)]
print(json.dumps({"operations": ops}))
PY
    curl -s -o /dev/null -X POST -H "Authorization: Basic $auth" -H 'Content-Type: application/json' \
        --data-binary "@$work/batch.json" "http://127.0.0.1:$port/v3/contacts/batch" &
    request=$!
    sleep "$(awk -v r="$RANDOM" 'BEGIN {printf "%.3f", (r % 1000) / 1000}')"
    cl_stop "$server" KILL
    wait "$request" 2>/dev/null || true
    written=$(sql "SELECT count(*) FROM contacts WHERE externalId LIKE 'batch-$round-%'")
    case "$written" in
        2000) batch_all=$((batch_all + 1)) ;;
        0) batch_none=$((batch_none + 1)) ;;
        *) echo "crash-safety: batch $round left $written of 2000 contacts" >&2; exit 1 ;;
    esac
    [ "$(sql "PRAGMA integrity_check")" = ok ] || { echo "crash-safety: batch $round: integrity_check failed" >&2; exit 1; }
done
echo "batch writes killed: $rounds; all 2000 written: $batch_all, none: $batch_none; never partial"
echo "crash-safety: every check passed"
