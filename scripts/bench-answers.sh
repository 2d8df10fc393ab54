#!/usr/bin/env bash
# The phone-system answers under load against /health of the same server, in the same run:
# 100,000 generated contacts (seed 5), a `lookup` token in `?token=` as FreeSWITCH and Kamailio
# send it, `wrk -t2 -cCONNECTIONS -dDURATION --latency` per route. Prints requests/s, p99 and the
# ratio to /health. Usage: scripts/bench-answers.sh [BINARY] [DURATION] [CONNECTIONS]
# (a release build by default; needs wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

bin=$(cl_binary release "${1:-}")
duration=${2:-8s}
connections=${3:-32}
cl_need wrk
cl_tempdir work
port=$(cl_port)

cl_scratch_store "$work/data" Bench ""
"$bin" generate --rows 100000 --seed 5 >"$work/contacts.csv"
"$bin" import "$work/contacts.csv" --org Bench --data "$work/data" >/dev/null
token=$("$bin" token create --org Bench --scope lookup --label bench --data "$work/data" | tail -1)
# A number of the file, digits only, as a PBX sends it.
number=$(sed -n '2p' "$work/contacts.csv" | tr ';' '\n' | tr -d '"' | grep -m1 '^+' | tr -cd '0-9')
cl_serve "$work/serve.log" "$port" --data "$work/data"
curl -sf "http://127.0.0.1:$port/v3/contacts/name/$number?token=$token" >/dev/null || { echo "bench-answers: $number is not found" >&2; exit 1; }

# run PATH: "requests/s p99_ms" of one wrk run.
run() {
    wrk -t2 -c"$connections" -d"$duration" --latency "http://127.0.0.1:$port$1" >"$work/wrk.txt"
    echo "$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk.txt") $(cl_wrk_ms 99 "$work/wrk.txt")"
}
read -r health_rate health_p99 < <(run /health)
printf '%-70s %10s %8s %6s\n' route requests/s p99_ms ratio
printf '%-70s %10.0f %8.2f %6s\n' "GET /health" "$health_rate" "$health_p99" 1.00
for path in "/v3/contacts/name/$number?token=$token" "/v3/contacts/route?format=kv&number=%2B$number&token=$token" \
    "/v3/contacts/lookup/$number?token=$token"; do
    read -r rate p99 < <(run "$path")
    printf '%-70s %10.0f %8.2f %6.2f\n' "GET ${path//$token/TOKEN}" "$rate" "$p99" "$(echo "$rate / $health_rate" | bc -l)"
done
