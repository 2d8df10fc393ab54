#!/usr/bin/env bash
# Mirror benchmark (issue 6), on loopback with a release build:
#  1. change-to-visible lag over WRITES successive REST creates (default 1,000): the time from the
#     API's 201 until the mirror's lookup finds the contact (p50, p99);
#  2. catch-up speed: the API is stopped, a file of CATCHUP rows (default 100,000) is imported into
#     its store, the API is started again; changes/s until the mirror has the new version;
#  3. start-up from a snapshot file of CONTACTS contacts (default 1,000,000) with the API down:
#     seconds from start until the mirror answers a lookup.
# Usage: scripts/bench-mirror.sh [WRITES] [CATCHUP] [CONTACTS]   (needs python3 and curl)
set -euo pipefail
cd "$(dirname "$0")/.."

writes=${1:-1000}
catchup=${2:-100000}
contacts=${3:-1000000}
bin=$(swift build -c release --show-bin-path)/caller-lookup
[ -x "$bin" ] || swift build -c release --product caller-lookup >&2
work=$(mktemp -d)
api_port=$((20000 + RANDOM % 10000))
mirror_port=$((api_port + 1))
cleanup() {
    [ -n "${api:-}" ] && kill "$api" 2>/dev/null || true
    [ -n "${mirror:-}" ] && kill "$mirror" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s.%N; }
wait_for() {  # URL [PATTERN]: until the URL answers (and its body matches PATTERN)
    for _ in $(seq 1 6000); do
        body=$(curl -s "$1" 2>/dev/null || true)
        if [ -n "$body" ] && [[ -z "${2:-}" || "$body" == *$2* ]]; then return 0; fi
        sleep 0.05
    done
    echo "bench-mirror: gave up waiting for $1 ${2:-}" >&2
    exit 1
}
start_api() {
    "$bin" serve --port "$api_port" --data "$work/data" >>"$work/api.log" 2>&1 &
    api=$!
    wait_for "http://127.0.0.1:$api_port/health" '"status":"ok"'
}
start_mirror() {
    CALLER_LOOKUP_PASSWORD=benchPassword "$bin" mirror --from "http://127.0.0.1:$api_port" --login bench \
        --port "$mirror_port" --snapshot "$work/mirror.snapshot" --wait 25 >>"$work/mirror.log" 2>&1 &
    mirror=$!
}

"$bin" org create Bench --default-region CZ --data "$work/data" >/dev/null
printf '%s\n' benchPassword | "$bin" user add bench --org Bench --data "$work/data" >/dev/null
"$bin" generate --rows 1000 --seed 6 > "$work/small.csv"
"$bin" import "$work/small.csv" --org Bench --data "$work/data" >/dev/null
start_api
start_mirror
wait_for "http://127.0.0.1:$mirror_port/health" '"status":"ok"'

echo "1. change-to-visible lag over $writes REST writes"
python3 - "$api_port" "$mirror_port" "$writes" <<'PY'
import base64, http.client, json, sys, time
api_port, mirror_port, writes = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
auth = {"Authorization": "Basic " + base64.b64encode(b"bench:benchPassword").decode()}
api = http.client.HTTPConnection("127.0.0.1", api_port)
mirror = http.client.HTTPConnection("127.0.0.1", mirror_port)
lags = []
for i in range(writes):
    number = "+420608%06d" % i
    body = json.dumps({"lastName": "Lag%d" % i, "phone1": number})
    api.request("POST", "/v3/contacts", body, {**auth, "Content-Type": "application/json"})
    response = api.getresponse(); response.read()
    assert response.status == 201, response.status
    written = time.perf_counter()
    while True:
        mirror.request("GET", "/v3/contacts/lookup/" + number, headers=auth)
        answer = mirror.getresponse(); answer.read()
        if answer.status == 200:
            break
    lags.append((time.perf_counter() - written) * 1000)
lags.sort()
p = lambda q: lags[min(len(lags) - 1, int(q * len(lags)))]
print("   p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms" % (p(0.5), p(0.9), p(0.99), lags[-1]))
PY

echo "2. catch-up after the API returns with $catchup pending changes"
kill "$api"; wait "$api" 2>/dev/null || true; api=
"$bin" generate --rows "$catchup" --seed 7 > "$work/catchup.csv"
"$bin" import "$work/catchup.csv" --org Bench --data "$work/data" >/dev/null
target=$(sqlite3 "$work/data/caller-lookup.sqlite" "SELECT version FROM organizations WHERE name = 'Bench'")
pending=$(sqlite3 "$work/data/caller-lookup.sqlite" "SELECT count(*) FROM changes c JOIN organizations o ON o.id = c.organization_id WHERE o.name = 'Bench' AND c.version = $target")
started=$(now)
start_api
up=$(now)
wait_for "http://127.0.0.1:$mirror_port/health" "\"version\":$target,"
finished=$(now)
awk -v s="$started" -v u="$up" -v f="$finished" -v n="$pending" 'BEGIN {
    printf "   %d changes: %.2f s after the API answered again (%.0f changes/s); %.2f s with its start-up and the mirror'"'"'s backoff\n", n, f - u, n / (f - u), f - s}'

echo "3. start-up from a snapshot of $contacts contacts, API down"
kill "$mirror"; wait "$mirror" 2>/dev/null || true; mirror=
"$bin" generate --rows "$contacts" --seed 8 > "$work/large.csv"
"$bin" import "$work/large.csv" --org Bench --data "$work/data" >/dev/null
start_mirror
wait_for "http://127.0.0.1:$mirror_port/health" "\"contacts\":$contacts,"
# SIGTERM stops the mirror gracefully: it writes its snapshot file before it exits.
kill "$mirror"; wait "$mirror" 2>/dev/null || true; mirror=
kill "$api"; wait "$api" 2>/dev/null || true; api=
ls -la "$work/mirror.snapshot" | awk '{printf "   snapshot file %.0f MB\n", $5 / 1048576}'
number=$(sed -n 2p "$work/large.csv" | cut -d';' -f6 | tr -d '"')
started=$(now)
start_mirror
until curl -s -o /dev/null -w '%{http_code}' -u bench:benchPassword "http://127.0.0.1:$mirror_port/v3/contacts/lookup/$number" | grep -q 200; do
    sleep 0.02
done
finished=$(now)
awk -v s="$started" -v f="$finished" 'BEGIN {printf "   answered a lookup %.2f s after start (API down)\n", f - s}'
