#!/usr/bin/env bash
# CRM sync benchmark: ROWS generated contacts (default 100,000, every column) as a JSON export in
# pages of 1,000 (Python's http.server, `next` in the body), pulled by `POST /v3/sync/{id}/run`
# into a fresh server, against the baseline in the same run: the same contacts uploaded as one CSV
# file (`POST /v3/contacts/upload`) to a fresh server. Both answer once the server's index has the
# contacts ("imported and served"). Prints the median seconds of RUNS pairs (default 3), their
# ratio, and each side's peak resident memory above the server's resident memory before.
# Usage: scripts/bench-sync.sh [ROWS] [RUNS]   (builds and uses the release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

rows=${1:-100000}
runs=${2:-3}
bin=$(cl_binary release)
cl_tempdir work
mkdir -p "$work/www/pages"

"$bin" generate --rows "$rows" --seed 29 >"$work/contacts.csv"
/usr/bin/python3 - "$work/contacts.csv" "$work/www/pages" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8"), delimiter=";"))
header, body = rows[0], rows[1:]
pages = [body[i:i + 1000] for i in range(0, len(body), 1000)]
for number, page in enumerate(pages, 1):
    document = {"results": [dict(zip(header, row)) for row in page],
                "paging": {"next": "/pages/%d.json" % (number + 1) if number < len(pages) else None}}
    json.dump(document, open("%s/%d.json" % (sys.argv[2], number), "w", encoding="utf-8"), ensure_ascii=False)
PY
maps=()
for field in $(head -1 "$work/contacts.csv" | tr ';' ' '); do maps+=(--map "$field=\$.$field"); done
crm=$(cl_port)
# The export server's pages do not name a Link (its files are N.json under pages/: the body's next is used).
cl_start "$work/crm.log" /usr/bin/python3 -m http.server "$crm" --bind 127.0.0.1 --directory "$work/www"
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$crm/pages/1.json" && break; sleep 0.05; done

kib() { awk -v key="$2:" '$1 == key {print $2}' "/proc/$1/status"; }

# measure KIND: a fresh store and server, then the upload or the sync run; prints "SECONDS PEAK_MB".
measure() {
    local kind=$1 data port start end before peak
    data=$(mktemp -d "$work/store.XXXX")
    port=$(cl_port)
    cl_scratch_store "$data" >/dev/null
    if [ "$kind" = sync ]; then
        "$bin" sync add --org IPEX --url "http://127.0.0.1:$crm/pages/1.json" --format json --items '$.results' --next '$.paging.next' \
            "${maps[@]}" --max-delete 100 --data "$data" >/dev/null
    fi
    CALLER_LOOKUP_UPLOAD_LIMIT=$((256 << 20)) CALLER_LOOKUP_SYNC_SCHEDULE=false cl_serve "$data/serve.log" "$port" --data "$data"
    before=$(kib "$CL_PID" VmRSS)
    start=$(date +%s%N)
    if [ "$kind" = sync ]; then
        curl -sf -u novak:hesloNovak -X POST "http://127.0.0.1:$port/v3/sync/1/run" >"$data/answer.json"
        grep -q '"outcome":"success"' "$data/answer.json" || cl_die "the sync run failed: $(head -c 400 "$data/answer.json")"
    else
        curl -sf -u novak:hesloNovak --form "file=@$work/contacts.csv" "http://127.0.0.1:$port/v3/contacts/upload" >"$data/answer.json"
    fi
    end=$(date +%s%N)
    grep -q "\"imported\":$rows" "$data/answer.json" || cl_die "$kind did not import $rows rows: $(head -c 400 "$data/answer.json")"
    peak=$(kib "$CL_PID" VmHWM)
    cl_stop "$CL_PID"
    rm -rf "$data"
    awk -v n=$((end - start)) -v peak="$peak" -v before="$before" 'BEGIN {printf "%.3f %.0f\n", n / 1e9, (peak - before) / 1024}'
}

: >"$work/upload" && : >"$work/sync"
for ((i = 0; i < runs; i++)); do
    measure upload >>"$work/upload"
    measure sync >>"$work/sync"
done
upload=$(cut -d' ' -f1 "$work/upload" | cl_percentile 50)
sync=$(cut -d' ' -f1 "$work/sync" | cl_percentile 50)
upload_mb=$(cut -d' ' -f2 "$work/upload" | cl_percentile 50)
sync_mb=$(cut -d' ' -f2 "$work/sync" | cl_percentile 50)
pages=$(ls "$work/www/pages" | wc -l)
echo "bench-sync: $rows contacts ($(stat -c %s "$work/contacts.csv") bytes of CSV; $pages JSON pages, $(du -sb "$work/www/pages" | cut -f1) bytes), $runs pairs"
echo "  CSV upload, imported and served:  median ${upload} s, peak +${upload_mb} MB resident"
echo "  JSON sync run, imported and served: median ${sync} s, peak +${sync_mb} MB resident"
awk -v s="$sync" -v u="$upload" 'BEGIN {printf "  sync / upload: %.2fx (target <= 2x)\n", s / u}'
