#!/usr/bin/env bash
# Mirror benchmark, on loopback with a release build:
#  1. change-to-visible lag over WRITES successive REST creates (default 1,000): the time from the
#     API's 201 until the mirror's lookup finds the contact (p50, p99);
#  2. catch-up speed: the API is stopped, a file of CATCHUP rows (default 100,000) is imported into
#     its store, the API is started again; changes/s until the mirror has the new version;
#  3. start-up from a snapshot file of CONTACTS contacts (default 1,000,000) with the API down:
#     seconds from start until the mirror answers a lookup.
# Usage: scripts/bench-mirror.sh [WRITES] [CATCHUP] [CONTACTS]   (needs python3 and curl)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

writes=${1:-1000}
catchup=${2:-100000}
contacts=${3:-1000000}
bin=$(cl_binary release)
cl_tempdir work
api_port=$(cl_port)
mirror_port=$(cl_port)
# A store or snapshot of a million contacts takes its time to load, and the mirror to write.
CL_HEALTH_TIMEOUT=300 CL_GRACE=300
now() { date +%s.%N; }
# mirror_has TEXT: until the mirror's /health answers with TEXT.
mirror_has() { cl_wait_health "$mirror" "$mirror_port" "$1"; }
start_api() {
    cl_serve "$work/api.log" "$api_port" --data "$work/data"
    api=$CL_PID
}
start_mirror() {
    CALLER_LOOKUP_PASSWORD=benchPassword cl_start "$work/mirror.log" "$bin" mirror --from "http://127.0.0.1:$api_port" \
        --login bench --port "$mirror_port" --snapshot "$work/mirror.snapshot" --wait 25
    mirror=$CL_PID
}

cl_scratch_store "$work/data" Bench bench benchPassword
"$bin" generate --rows 1000 --seed 6 > "$work/small.csv"
"$bin" import "$work/small.csv" --org Bench --data "$work/data" >/dev/null
start_api
start_mirror
mirror_has '"status":"ok"'

echo "1. change-to-visible lag over $writes REST writes"
python3 - "$api_port" "$mirror_port" "$writes" >"$work/lags.ms" <<'PY'
import base64, http.client, json, sys, time
api_port, mirror_port, writes = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
auth = {"Authorization": "Basic " + base64.b64encode(b"bench:benchPassword").decode()}
api = http.client.HTTPConnection("127.0.0.1", api_port)
mirror = http.client.HTTPConnection("127.0.0.1", mirror_port)
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
    print(repr((time.perf_counter() - written) * 1000))
PY
read -r p50 p90 p99 max < <(cl_percentile 50 90 99 100 <"$work/lags.ms")
printf '   p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n' "$p50" "$p90" "$p99" "$max"

echo "2. catch-up after the API returns with $catchup pending changes"
cl_stop "$api"
"$bin" generate --rows "$catchup" --seed 7 > "$work/catchup.csv"
"$bin" import "$work/catchup.csv" --org Bench --data "$work/data" >/dev/null
target=$(sqlite3 "$work/data/caller-lookup.sqlite" "SELECT version FROM organizations WHERE name = 'Bench'")
pending=$(sqlite3 "$work/data/caller-lookup.sqlite" "SELECT count(*) FROM changes c JOIN organizations o ON o.id = c.organization_id WHERE o.name = 'Bench' AND c.version = $target")
started=$(now)
start_api
up=$(now)
mirror_has "\"version\":$target,"
finished=$(now)
awk -v s="$started" -v u="$up" -v f="$finished" -v n="$pending" 'BEGIN {
    printf "   %d changes: %.2f s after the API answered again (%.0f changes/s); %.2f s with its start-up and the mirror'"'"'s backoff\n", n, f - u, n / (f - u), f - s}'

echo "3. start-up from a snapshot of $contacts contacts, API down"
cl_stop "$mirror"
"$bin" generate --rows "$contacts" --seed 8 > "$work/large.csv"
"$bin" import "$work/large.csv" --org Bench --data "$work/data" >/dev/null
number=$(sed -n 2p "$work/large.csv" | cut -d';' -f6 | tr -d '"')
# found_on_mirror: until the mirror finds the large file's first number (it has the import, not
# just as many contacts as the file: the catch-up may have left that many); fails after 300 s.
found_on_mirror() {
    local deadline=$((SECONDS + 300))
    until curl -s -o /dev/null -w '%{http_code}' -u bench:benchPassword "http://127.0.0.1:$mirror_port/v3/contacts/lookup/$number" | grep -q 200; do
        [ "$SECONDS" -lt "$deadline" ] || cl_die "the mirror did not find $number within 300 s (log: $work/mirror.log)"
        sleep 0.02
    done
}
start_mirror
found_on_mirror
# SIGTERM stops the mirror gracefully: it writes its snapshot file before it exits.
cl_stop "$mirror"
cl_stop "$api"
ls -la "$work/mirror.snapshot" | awk '{printf "   snapshot file %.0f MB\n", $5 / 1048576}'
started=$(now)
start_mirror
found_on_mirror
finished=$(now)
awk -v s="$started" -v f="$finished" 'BEGIN {printf "   answered a lookup %.2f s after start (API down)\n", f - s}'
