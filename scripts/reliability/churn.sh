#!/usr/bin/env bash
# Lookups under churn: wrk looks up 21 numbers for DURATION seconds (default 60)
# while the organization is re-imported again and again (two alternating sets of ROWS contacts,
# default 20,000) and REST writes arrive. The numbers: a marker contact in each set (lastName SetA
# or SetB, the same number), and the phone1 of the first 10 rows of each set. Before the run, the
# answer for every number is taken with set A stored and with set B stored; during the run every
# answer must be exactly one of those (ids and versions aside, which a re-import renews), and all
# answers that carry the same organization version must come from the same set — so a partially
# applied import, a mix of both sets or a missing contact is counted. A run without churn is the
# baseline.
# Usage: scripts/reliability/churn.sh [DURATION] [ROWS]   (needs wrk, curl; release build)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

duration=${1:-60}
rows=${2:-20000}
cl_need wrk curl
bin=$(cl_binary release)
cl_tempdir work
port=$(cl_port)
auth=$(printf '%s' churn:churnPassword | base64)
cl_scratch_store "$work/data" Churn churn churnPassword
"$bin" generate --rows "$rows" --seed 41 > "$work/a.csv"
"$bin" generate --rows "$rows" --seed 42 > "$work/b.csv"
columns=$(head -1 "$work/a.csv" | tr ';' '\n' | wc -l)
marker() { printf ';"%s";;;;"+420 601 000 003"' "$1"; printf ';%.0s' $(seq 1 $((columns - 6))); printf '\n'; }
marker SetA >> "$work/a.csv"
marker SetB >> "$work/b.csv"
"$bin" import "$work/a.csv" --org Churn --data "$work/data" >/dev/null
cl_serve "$work/server.log" "$port" --data "$work/data"

# The looked-up numbers, and each one's answer with set A and with set B stored.
numbers() { python3 - "$1" <<'PY'
import csv, sys, urllib.parse
rows = list(csv.reader(open(sys.argv[1], encoding="utf-8"), delimiter=";"))
phone = rows[0].index("phone1")
for row in rows[1:11]: print(urllib.parse.quote(row[phone], safe=""))
PY
}
{ echo "%2B420601000003"; numbers "$work/a.csv"; numbers "$work/b.csv"; } > "$work/numbers.txt"
answers() {
    while read -r number; do
        code=$(curl -s -o "$work/one.json" -w '%{http_code}' -H "Authorization: Basic $auth" \
            "http://127.0.0.1:$port/v3/contacts/lookup/$number")
        printf '%s %s\n' "$code" "$(cat "$work/one.json")"
    done < "$work/numbers.txt"
}
upload() { curl -sf -o /dev/null -H "Authorization: Basic $auth" --form "file=@$work/$1.csv" "http://127.0.0.1:$port/v3/contacts/upload"; }
answers > "$work/expected-a.txt"
upload b
answers > "$work/expected-b.txt"
upload a
python3 - "$work" <<'PY'
import re, sys
work = sys.argv[1]
def norm(line):
    return re.sub(r'"(id|version)":\d+,', "", line.rstrip("\n"))
states = {}
for name in ("a", "b"):
    for line in open(f"{work}/expected-{name}.txt", encoding="utf-8"):
        states.setdefault(norm(line), set()).add(name.upper())
numbers = [l.strip() for l in open(f"{work}/numbers.txt")]
with open(f"{work}/expected.lua", "w", encoding="utf-8") as out:
    out.write("paths = {\n" + "".join(f'  "/v3/contacts/lookup/{n}",\n' for n in numbers) + "}\n")
    out.write("expected = {\n" + "".join(f'  [ [==[{e}]==] ] = "{"".join(sorted(s))}",\n' for e, s in states.items()) + "}\n")
expected = states
print(f"{len(numbers)} numbers, {len(expected)} distinct expected answers", file=sys.stderr)
PY

cat > "$work/check.lua" <<LUA
dofile("$work/expected.lua")
wrk.headers["Authorization"] = "Basic $auth"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; unexpected = 0; counter = 0; seen = {}; conflicts = 0; versions = "" end
function request()
    counter = counter + 1
    return wrk.format("GET", paths[(counter % #paths) + 1])
end
function response(status, headers, body)
    if status ~= 200 and status ~= 404 then bad = bad + 1 end
    local version = body:match('"version":(%d+)')
    local line = status .. " " .. body
    line = line:gsub('"id":%d+,', '')
    line = line:gsub('"version":%d+,', '')
    local state = expected[line]
    if not state then unexpected = unexpected + 1; return end
    -- Every answer at one version must come from the same set: A-only and B-only answers at the
    -- same version would be a partially applied import.
    if state ~= "AB" and version then
        local before = seen[version]
        if before == nil then
            seen[version] = state
            versions = versions .. version .. "=" .. state .. ";"
        elseif before ~= state then
            conflicts = conflicts + 1
        end
    end
end
function done(summary, latency, requests)
    local b, u, c, merged, count = 0, 0, 0, {}, 0
    for _, t in ipairs(threads) do
        b = b + t:get("bad"); u = u + t:get("unexpected"); c = c + t:get("conflicts")
        for version, state in string.gmatch(t:get("versions"), "(%d+)=(%a+);") do
            if merged[version] == nil then merged[version] = state; count = count + 1
            elseif merged[version] ~= state then c = c + 1 end
        end
    end
    io.write(string.format("checked: not 200/404 %d, answers matching neither set %d, versions seen %d, versions mixing both sets %d\n", b, u, count, c))
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
cl_track "$churn"
echo "with churn (${duration} s):"
run_wrk
cl_wait "$churn" 2>/dev/null || true
cat "$work/churn.txt"
