#!/usr/bin/env bash
# Soak: UPLOADS (default 200) successive uploads of a ~10 MB file to one running
# server, alternating two different contact sets so every upload rewrites the whole organization
# (updates by externalId, deletes and inserts for the rest). After each upload it records the
# server's resident memory, open file descriptors, the database size (file + WAL) and the change
# log's rows. Checks, comparing the last upload with the 10th:
#   * resident memory within 10 %;
#   * open file descriptors unchanged;
#   * database size within 10 % and the change log no longer than about twice the live set
#     (compaction), and every upload answered 200.
# Usage: scripts/reliability/soak.sh [UPLOADS] [ROWS]   (ROWS default 45000 ≈ 10 MB; needs curl, sqlite3)
# Writes one line per upload to .build/soak.csv.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

uploads=${1:-200}
rows=${2:-45000}
bin=$(cl_binary --fresh release)
cl_tempdir work
port=$(cl_port)
db="$work/data/caller-lookup.sqlite"
auth=$(printf '%s' soak:soakPassword | base64)
cl_scratch_store "$work/data" Soak soak soakPassword
"$bin" generate --rows "$rows" --seed 41 > "$work/a.csv"
"$bin" generate --rows "$rows" --seed 42 > "$work/b.csv"
echo "files: $(du -h "$work/a.csv" | cut -f1) and $(du -h "$work/b.csv" | cut -f1), $rows rows each" >&2

cl_serve "$work/server.log" "$port" --data "$work/data"
server=$CL_PID

csv=.build/soak.csv
mkdir -p .build
echo "upload,status,seconds,rss_kb,fds,db_bytes,wal_bytes,log_rows,live_contacts" > "$csv"
failures=0
for i in $(seq 1 "$uploads"); do
    file=$([ $((i % 2)) -eq 1 ] && echo "$work/a.csv" || echo "$work/b.csv")
    start=$(date +%s.%N)
    status=$(curl -s -o "$work/answer.json" -w '%{http_code}' -H "Authorization: Basic $auth" \
        --form "file=@$file" "http://127.0.0.1:$port/v3/contacts/upload")
    seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')
    [ "$status" = 200 ] || { failures=$((failures + 1)); echo "upload $i answered $status: $(head -c 300 "$work/answer.json")" >&2; }
    rss=$(awk '/VmRSS/ {print $2}' "/proc/$server/status")
    fds=$(ls "/proc/$server/fd" | wc -l)
    dbsize=$(stat -c %s "$db")
    walsize=$(stat -c %s "$db-wal" 2>/dev/null || echo 0)
    read -r logrows live < <(sqlite3 -separator ' ' "file:$db?mode=ro" \
        "SELECT (SELECT count(*) FROM changes), (SELECT count(*) FROM contacts)")
    echo "$i,$status,$seconds,$rss,$fds,$dbsize,$walsize,$logrows,$live" >> "$csv"
    if [ $((i % 10)) -eq 0 ] || [ "$i" -eq 1 ]; then
        printf 'upload %3d: %s in %.2f s, RSS %d MB, %d fds, db %d MB + WAL %d MB, log %d rows for %d contacts\n' \
            "$i" "$status" "$seconds" $((rss / 1024)) "$fds" $((dbsize / 1048576)) $((walsize / 1048576)) "$logrows" "$live" >&2
    fi
done

python3 - "$csv" "$failures" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
failures = int(sys.argv[2])
tenth, last = rows[min(9, len(rows) - 1)], rows[-1]
def growth(key): return (int(last[key]) - int(tenth[key])) / int(tenth[key]) * 100
rss, db = growth("rss_kb"), growth("db_bytes")
fds_same = last["fds"] == tenth["fds"]
log_ok = int(last["log_rows"]) <= 2 * int(last["live_contacts"]) + 10_000
peak_rss = max(int(r["rss_kb"]) for r in rows)
print(f"after upload {tenth['upload']}: RSS {int(tenth['rss_kb'])//1024} MB, {tenth['fds']} fds, db {int(tenth['db_bytes'])//1048576} MB, log {tenth['log_rows']} rows")
print(f"after upload {last['upload']}: RSS {int(last['rss_kb'])//1024} MB ({rss:+.1f} %), {last['fds']} fds, db {int(last['db_bytes'])//1048576} MB ({db:+.1f} %), log {last['log_rows']} rows for {last['live_contacts']} contacts; peak RSS {peak_rss//1024} MB")
ok = failures == 0 and abs(rss) <= 10 and fds_same and db <= 10 and log_ok
print("soak:", "PASS" if ok else "FAIL", f"(failed uploads {failures}, RSS {rss:+.1f} %, fds {'same' if fds_same else 'changed'}, db {db:+.1f} %, log bounded: {log_ok})")
sys.exit(0 if ok else 1)
PY
