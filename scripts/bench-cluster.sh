#!/usr/bin/env bash
# Measures a cluster (scripts/cluster.sh) on this machine:
#   1. write on node A → visible on node B: 1,000 REST creates through A, each followed by lookups
#      on B until B finds the new number; p50/p99 from the write's start and from A's answer;
#   2. lookup throughput (wrk, 4 connections per node, 10 s each, same run) through haproxy with
#      node A alone, with both nodes, and with both nodes and the mirror.
# Usage: scripts/bench-cluster.sh [BINARY] [WRITES]   (a release build is what to measure:
#        swift build -c release --product caller-lookup; BINARY .build/release/caller-lookup)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
CALLER_LOOKUP_BIN=$(cl_binary release "${1:-}")
export CALLER_LOOKUP_BIN
writes=${2:-1000}
cl_tempdir dir
cl_on_exit scripts/cluster.sh stop "$dir"
scripts/cluster.sh start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/cluster.env"

python3 - "$NODE_A" "$NODE_B" "$writes" "$dir" <<'EOF'
import base64, http.client, json, sys, time
a, b, count, folder = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
auth = {"Authorization": "Basic " + base64.b64encode(b"novak:hesloNovak").decode()}
writer, reader = http.client.HTTPConnection("127.0.0.1", a), http.client.HTTPConnection("127.0.0.1", b)
from_start, from_answer, polls = [], [], 0
for i in range(count):
    number = "+420778%06d" % i
    body = json.dumps({"lastName": "Latence %d" % i, "phone1": number})
    started = time.perf_counter()
    writer.request("POST", "/v3/contacts", body, {**auth, "Content-Type": "application/json"})
    response = writer.getresponse(); response.read()
    assert response.status == 201, response.status
    answered = time.perf_counter()
    while True:
        reader.request("GET", "/v3/contacts/lookup/" + number, headers=auth)
        found = reader.getresponse(); text = found.read()
        polls += 1
        if b'"match":"exact"' in text: break
    seen = time.perf_counter()
    from_start.append((seen - started) * 1000); from_answer.append((seen - answered) * 1000)
for name, values in (("from-start", from_start), ("from-answer", from_answer)):
    with open("%s/%s.ms" % (folder, name), "w") as out: out.write("".join("%r\n" % v for v in values))
print("write on A → visible on B, %d writes (%d lookups on B):" % (count, polls))
EOF
# spread LABEL FILE: p50, p99 and max of the milliseconds in FILE.
spread() {
    local p50 p99 max
    read -r p50 p99 max < <(cl_percentile 50 99 100 <"$2")
    printf '  %-23s p50 %.1f ms, p99 %.1f ms, max %.1f ms\n' "$1:" "$p50" "$p99" "$max"
}
spread "from the write's start" "$dir/from-start.ms"
spread "from A's answer" "$dir/from-answer.ms"

auth=$(printf novak:hesloNovak | base64)
rate() {
    wrk -t2 -c"$2" -d10s -H "Authorization: Basic $auth" "http://127.0.0.1:$1/v3/contacts/lookup/+420222333444" |
        awk '/Latency/ && !l {l = 1; latency = $2} /Requests\/sec/ {rate = $2} /Non-2xx/ {print "non-2xx:", $0 > "/dev/stderr"}
             END {printf "%s requests/s (mean latency %s)", rate, latency}'
}
echo "lookup throughput through haproxy (wrk -t2, 10 s each):"
echo "  node A alone  (4 connections): $(rate "$SINGLE" 4)"
echo "  nodes A and B (8 connections): $(rate "$PAIR" 8)"
echo "  A, B, mirror  (12 connections): $(rate "$BALANCER" 12)"
echo "  node A direct, no haproxy (4 connections): $(rate "$NODE_A" 4)"
