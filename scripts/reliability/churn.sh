#!/usr/bin/env bash
# Lookups under churn (issue 8, part 2): wrk looks up one number for DURATION seconds (default 60)
# while the organization is re-imported again and again (two alternating sets of ROWS contacts,
# default 20,000) and REST writes arrive. The number belongs to one marker contact in each set
# (lastName SetA or SetB), so every answer must be 200 and name exactly one of them: a partial or
# mixed set would show neither or both. A run of the same length without churn is the baseline.
# Usage: scripts/reliability/churn.sh [DURATION] [ROWS]   (needs wrk, curl; release build)
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=${1:-60}
rows=${2:-20000}
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
bin=$(swift build -c release --show-bin-path)/caller-lookup
[ -x "$bin" ] || swift build -c release --product caller-lookup >&2
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
cleanup() {
    [ -n "${churn:-}" ] && kill "$churn" 2>/dev/null || true
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
auth=$(printf '%s' 'churn:churnPassword' | base64)

"$bin" org create Churn --default-region CZ --data "$work/data" >/dev/null
printf '%s\n' churnPassword | "$bin" user add churn --org Churn --data "$work/data" >/dev/null
"$bin" generate --rows "$rows" --seed 41 > "$work/a.csv"
"$bin" generate --rows "$rows" --seed 42 > "$work/b.csv"
columns=$(head -1 "$work/a.csv" | tr ';' '\n' | wc -l)
marker() { printf ';"%s";;;;"+420 601 000 003"' "$1"; printf ';%.0s' $(seq 1 $((columns - 6))); printf '\n'; }
marker SetA >> "$work/a.csv"
marker SetB >> "$work/b.csv"
"$bin" import "$work/a.csv" --org Churn --data "$work/data" >/dev/null
"$bin" serve --port "$port" --data "$work/data" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

cat > "$work/check.lua" <<LUA
wrk.method = "GET"
wrk.path = "/v3/contacts/lookup/%2B420601000003"
wrk.headers["Authorization"] = "Basic $auth"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; mixed = 0 end
function response(status, headers, body)
    if status ~= 200 then bad = bad + 1 end
    local a = string.find(body, '"lastName":"SetA"', 1, true)
    local b = string.find(body, '"lastName":"SetB"', 1, true)
    if (a and b) or (not a and not b) then mixed = mixed + 1 end
end
function done(summary, latency, requests)
    local b, m = 0, 0
    for _, t in ipairs(threads) do b = b + t:get("bad"); m = m + t:get("mixed") end
    io.write(string.format("checked: non-200 %d, neither-or-both %d\n", b, m))
end
LUA

run_wrk() { wrk -t2 -c32 -d"${duration}s" --latency -s "$work/check.lua" "http://127.0.0.1:$port" | grep -E "Requests/sec|99%|checked|Non-2xx"; }

echo "baseline, no churn (${duration} s):"
run_wrk

(
    imports=0; writes=0; next=b
    end=$((SECONDS + duration))
    while [ $SECONDS -lt $end ]; do
        (cd "$work" && curl -s -o /dev/null -H "Authorization: Basic $auth" --form "file=@$next.csv" \
            "http://127.0.0.1:$port/v3/contacts/upload")
        imports=$((imports + 1))
        next=$([ "$next" = a ] && echo b || echo a)
        for i in 1 2 3 4 5; do
            curl -s -o /dev/null -H "Authorization: Basic $auth" -H 'Content-Type: application/json' \
                -d "{\"lastName\":\"Write$writes\",\"phone1\":\"+420 602 $(printf '%03d %03d' $((writes / 1000 % 1000)) $((writes % 1000)))\"}" \
                "http://127.0.0.1:$port/v3/contacts"
            writes=$((writes + 1))
        done
    done
    echo "churn: $imports re-imports of $rows rows and $writes REST writes" > "$work/churn.txt"
) &
churn=$!
echo "with churn (${duration} s):"
run_wrk
wait "$churn" 2>/dev/null || true
churn=
cat "$work/churn.txt"
