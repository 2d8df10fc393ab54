#!/usr/bin/env bash
# Lookup latency under uploads, release build, same server, same run:
#  1. idle: `wrk -t2 -c32 -dDURATION --latency` on lookups of an organization of CONTACTS contacts;
#  2. the same while another organization is re-imported by 20 MB uploads (the customer's curl
#     command, two alternating files of 90,000 rows, back to back).
# Prints both p99s and their ratio (target <= 2).
# Usage: scripts/bench-upload-latency.sh [CONTACTS] [DURATION]   (needs wrk and curl)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

contacts=${1:-100000}
duration=${2:-15s}
cl_need wrk curl
bin=$(cl_binary release)
cl_tempdir work
port=$(cl_port)

cl_scratch_store "$work/data" Lookups look lookPassword
cl_scratch_store "$work/data" Uploads load loadPassword
"$bin" generate --rows "$contacts" --seed 21 > "$work/contacts.csv"
"$bin" import "$work/contacts.csv" --org Lookups --data "$work/data" >/dev/null
"$bin" generate --rows 90000 --seed 22 > "$work/a.csv"
"$bin" generate --rows 90000 --seed 23 > "$work/b.csv"
echo "upload files: $(stat -c %s "$work/a.csv") and $(stat -c %s "$work/b.csv") bytes" >&2

cl_serve "$work/serve.log" "$port" --data "$work/data"

# Lookups of 1,000 numbers of the organization, in E.164, with the Authorization header.
cl_wrk_lookups "$work/contacts.csv" look:lookPassword > "$work/lookup.lua"

echo "== idle"
wrk -t2 -c32 -d"$duration" --latency -s "$work/lookup.lua" "http://127.0.0.1:$port" > "$work/idle.txt"
grep -E "Requests/sec|99%" "$work/idle.txt"

(
    auth=$(printf 'load:loadPassword' | base64)
    while true; do
        for file in a b; do
            curl -s -o /dev/null -X POST -H "Content-Type: multipart/form-data" -H "Authorization: Basic $auth" \
                --form "file=@$work/$file.csv" "http://127.0.0.1:$port/v3/contacts/upload"
            echo upload >> "$work/uploads.count"
        done
    done
) &
uploads=$!
cl_track "$uploads"
sleep 1
echo "== during uploads"
wrk -t2 -c32 -d"$duration" --latency -s "$work/lookup.lua" "http://127.0.0.1:$port" > "$work/busy.txt"
cl_stop "$uploads"
grep -E "Requests/sec|99%" "$work/busy.txt"
echo "uploads finished during the run: $(wc -l < "$work/uploads.count")"
idle=$(cl_wrk_ms 99 "$work/idle.txt")
busy=$(cl_wrk_ms 99 "$work/busy.txt")
awk -v i="$idle" -v b="$busy" 'BEGIN {printf "lookup p99: idle %.2f ms, during uploads %.2f ms, ratio %.2f (target <= 2)\n", i, b, b / i}'
