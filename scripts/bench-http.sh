#!/usr/bin/env bash
# HTTP load benchmark: an organization of 100,000 generated contacts, then
# `wrk -t2 -c64 -d10s --latency` against the lookup route (random numbers of the file, in the
# customer's messy forms, with the Authorization header) and against /health of the same server,
# in the same run. Prints both summaries and the ratio of requests/s.
# Usage: scripts/bench-http.sh [CONTACTS] [DURATION]   (needs a release build and wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

contacts=${1:-100000}
duration=${2:-10s}
cl_need wrk
bin=$(cl_binary release)
cl_tempdir work
port=$(cl_port)

"$bin" generate --rows "$contacts" --seed 4 > "$work/contacts.csv"
cl_scratch_store "$work/data" Bench bench benchPassword
"$bin" import "$work/contacts.csv" --org Bench --data "$work/data" | cut -c1-160 >&2
cl_serve "$work/serve.log" "$port" --data "$work/data"
server=$CL_PID

# 2,000 random numbers of the file, written as PBXs send them (IDD, spaced, national, tel:).
python3 - "$work/contacts.csv" > "$work/lookup.lua" <<'PY'
import random, sys
random.seed(4)
numbers = [line.split(';')[5].strip('"') for line in list(open(sys.argv[1], encoding='utf-8'))[1:]]
paths = []
for number in random.sample(numbers, 2000):
    digits = number[1:]
    form = random.randrange(4)
    if form == 0: text = '00' + digits
    elif form == 1: text = '%2B' + digits[:3] + '%20' + digits[3:6] + '%20' + digits[6:]
    elif form == 2 and digits.startswith('420'): text = digits[3:]
    else: text = 'tel:' + number
    paths.append('/v3/contacts/lookup/' + text)
print('paths = {' + ','.join('"%s"' % p for p in paths) + '}')
print('wrk.headers["Authorization"] = "Basic YmVuY2g6YmVuY2hQYXNzd29yZA=="')
print('request = function() return wrk.format("GET", paths[math.random(#paths)]) end')
PY
curl -sf -o /dev/null -H "Authorization: Basic YmVuY2g6YmVuY2hQYXNzd29yZA==" "http://127.0.0.1:$port/v3/contacts/lookup/0"  || true

echo "== lookup (random numbers, messy forms, authenticated)"
[ -n "${PERF:-}" ] && (perf record -F 999 -g -p "$server" -o /tmp/server.perf -- sleep 8 >/dev/null 2>&1 &)
wrk -t2 -c64 -d"$duration" --latency -s "$work/lookup.lua" "http://127.0.0.1:$port" | tee "$work/lookup.txt"
echo "== /health"
wrk -t2 -c64 -d"$duration" --latency "http://127.0.0.1:$port/health" | tee "$work/health.txt"
lookup=$(awk '/Requests\/sec/ {print $2}' "$work/lookup.txt")
health=$(awk '/Requests\/sec/ {print $2}' "$work/health.txt")
# The same request generator (Lua, random pick, Authorization header) aimed at /health, so the
# client's own cost on these shared 2 cores is the same on both sides.
sed 's|"/v3/contacts/lookup/[^"]*"|"/health"|g' "$work/lookup.lua" > "$work/health.lua"
echo "== /health through the lookup's request generator"
wrk -t2 -c64 -d"$duration" --latency -s "$work/health.lua" "http://127.0.0.1:$port" | tee "$work/health-lua.txt"
healthLua=$(awk '/Requests\/sec/ {print $2}' "$work/health-lua.txt")
echo "lookup/health requests/s ratio: $(python3 -c "print(round($lookup / $health, 3))") (plain /health), $(python3 -c "print(round($lookup / $healthLua, 3))") (same generator)"
echo "p99: lookup $(cl_wrk_ms 99 "$work/lookup.txt") ms, health $(cl_wrk_ms 99 "$work/health.txt") ms, health (same generator) $(cl_wrk_ms 99 "$work/health-lua.txt") ms"
