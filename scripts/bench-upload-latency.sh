#!/usr/bin/env bash
# Lookup latency under uploads (issue 14), release build, same server, same run:
#  1. idle: `wrk -t2 -c32 -dDURATION --latency` on lookups of an organization of CONTACTS contacts;
#  2. the same while another organization is re-imported by 20 MB uploads (the customer's curl
#     command, two alternating files of 90,000 rows, back to back).
# Prints both p99s and their ratio (target <= 2).
# Usage: scripts/bench-upload-latency.sh [CONTACTS] [DURATION]   (needs wrk and curl)
set -euo pipefail
cd "$(dirname "$0")/.."

contacts=${1:-100000}
duration=${2:-15s}
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
bin=$(swift build -c release --show-bin-path)/caller-lookup
[ -x "$bin" ] || swift build -c release --product caller-lookup >&2
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
cleanup() {
    [ -n "${uploads:-}" ] && kill "$uploads" 2>/dev/null || true
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for org in Lookups Uploads; do "$bin" org create "$org" --default-region CZ --data "$work/data" >/dev/null; done
printf '%s\n' lookPassword | "$bin" user add look --org Lookups --data "$work/data" >/dev/null
printf '%s\n' loadPassword | "$bin" user add load --org Uploads --data "$work/data" >/dev/null
"$bin" generate --rows "$contacts" --seed 21 > "$work/contacts.csv"
"$bin" import "$work/contacts.csv" --org Lookups --data "$work/data" >/dev/null
"$bin" generate --rows 90000 --seed 22 > "$work/a.csv"
"$bin" generate --rows 90000 --seed 23 > "$work/b.csv"
echo "upload files: $(stat -c %s "$work/a.csv") and $(stat -c %s "$work/b.csv") bytes" >&2

"$bin" serve --port "$port" --data "$work/data" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

# Lookups of 1,000 numbers of the organization, in E.164, with the Authorization header.
{
    printf 'numbers = {'
    awk -F';' 'NR > 1 && NR <= 1001 { gsub(/"/, "", $6); sub(/\+/, "%2B", $6); printf "\"%s\",", $6 }' "$work/contacts.csv"
    printf '}\nwrk.headers["Authorization"] = "Basic %s"\n' "$(printf 'look:lookPassword' | base64)"
    printf 'request = function() return wrk.format("GET", "/v3/contacts/lookup/" .. numbers[math.random(#numbers)]) end\n'
} > "$work/lookup.lua"
p99() { awk '$1 == "99%" {print $2}' "$1"; }

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
sleep 1
echo "== during uploads"
wrk -t2 -c32 -d"$duration" --latency -s "$work/lookup.lua" "http://127.0.0.1:$port" > "$work/busy.txt"
kill "$uploads" 2>/dev/null || true
uploads=
grep -E "Requests/sec|99%" "$work/busy.txt"
echo "uploads finished during the run: $(wc -l < "$work/uploads.count")"
python3 - "$(p99 "$work/idle.txt")" "$(p99 "$work/busy.txt")" <<'PY'
import sys
def ms(text):
    for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * factor
idle, busy = ms(sys.argv[1]), ms(sys.argv[2])
print(f"lookup p99: idle {idle:.2f} ms, during uploads {busy:.2f} ms, ratio {busy / idle:.2f} (target <= 2)")
PY
