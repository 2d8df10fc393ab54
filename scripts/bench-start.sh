#!/usr/bin/env bash
# Start-up benchmark, on loopback with a release build. CONTACTS contacts (default 1,000,000) are
# imported by the CLI; then, in the same run, RUNS times each (default 3):
#  1. an API node with no index files (`index.directory=none`): the index built from the store's
#     rows — the baseline;
#  2. an API node started from its index file (written by a first start that built it);
#  3. a mirror started from its snapshot file, the API down (written by a mirror that followed it).
# For each: seconds from the start until a lookup of the file's first number answers 200, and the
# resident memory then. Prints the medians and each start against the baseline.
# Usage: scripts/bench-start.sh [CONTACTS] [RUNS]   (needs python3 and curl)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

contacts=${1:-1000000}
runs=${2:-3}
bin=$(cl_binary release)
cl_tempdir work
port=$(cl_port)
mirror_port=$(cl_port)
CL_HEALTH_TIMEOUT=300

cl_scratch_store "$work/data" Bench bench benchPassword
"$bin" generate --rows "$contacts" --seed 21 > "$work/big.csv"
"$bin" import "$work/big.csv" --org Bench --data "$work/data" >/dev/null
number=$(sed -n 2p "$work/big.csv" | tr ';' '\n' | grep -m1 '^"*+' | tr -d '"' | tr -d ' ')

# answered PORT PID STARTED: polls the lookup of $number until 200; prints seconds since STARTED
# and the resident MB of PID then.
answered() {
    python3 - "$1" "$2" "$3" "$number" <<'PY'
import base64, http.client, sys, time
port, pid, started, number = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
auth = {"Authorization": "Basic " + base64.b64encode(b"bench:benchPassword").decode()}
deadline = time.time() + 300
while time.time() < deadline:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/v3/contacts/lookup/" + number.replace("+", "%2B"), headers=auth)
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status == 200:
            break
    except OSError:
        pass
    time.sleep(0.005)
else:
    sys.exit("no answer within 300 s")
seconds = time.time() - started
with open(f"/proc/{pid}/status") as status:
    rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
print(f"{seconds:.3f} {rss:.0f}")
PY
}

now() { date +%s.%N; }

# serve_once LABEL [ENV…]: one API node start; appends "seconds rss" to $work/LABEL.
serve_once() {
    local label=$1
    shift
    local started
    started=$(now)
    env "$@" "$bin" serve --port "$port" --data "$work/data" >"$work/$label.log" 2>&1 &
    local pid=$!
    cl_track "$pid"
    answered "$port" "$pid" "$started" >>"$work/$label"
    cl_stop "$pid"
}

mirror_once() {
    local label=$1 started
    started=$(now)
    CALLER_LOOKUP_PASSWORD=benchPassword "$bin" mirror --from "http://127.0.0.1:$port" --login bench --port "$mirror_port" \
        --snapshot "$work/mirror.snapshot" >"$work/$label.log" 2>&1 &
    local pid=$!
    cl_track "$pid"
    answered "$mirror_port" "$pid" "$started" >>"$work/$label"
    cl_stop "$pid"
}

# The first start with index files builds and writes them; a mirror follows the API and writes its
# snapshot file on the way out.
cl_serve "$work/first.log" "$port" --data "$work/data"
api=$CL_PID
until [ -s "$work/data/indexes/1.index" ] && grep -q "index file written" "$work/first.log"; do sleep 0.1; done
CALLER_LOOKUP_PASSWORD=benchPassword cl_start "$work/mirror-first.log" "$bin" mirror --from "http://127.0.0.1:$port" \
    --login bench --port "$mirror_port" --snapshot "$work/mirror.snapshot"
mirror=$CL_PID
answered "$mirror_port" "$mirror" "$(now)" >/dev/null
cl_stop "$mirror"
cl_stop "$api"

for ((run = 1; run <= runs; run++)); do
    serve_once rebuilt CALLER_LOOKUP_INDEX_DIRECTORY=none
    serve_once mapped
    mirror_once mirror
done

printf '%s contacts, %s runs each; index file %s MB, mirror snapshot %s MB\n' "$contacts" "$runs" \
    "$(du -m "$work/data/indexes/1.index" | cut -f1)" "$(du -m "$work/mirror.snapshot" | cut -f1)"
python3 - "$work" <<'PY'
import statistics, sys
work = sys.argv[1]
def load(label):
    rows = [tuple(map(float, line.split())) for line in open(f"{work}/{label}")]
    return statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
base, base_rss = load("rebuilt")
for label, title in [("rebuilt", "API node, index built from the store (baseline)"),
                     ("mapped", "API node, index file mapped"),
                     ("mirror", "mirror, snapshot file mapped, API down")]:
    seconds, rss = load(label)
    print(f"  {title:48} first lookup after {seconds:6.2f} s ({seconds / base:5.2f}x), resident {rss:5.0f} MB")
PY
