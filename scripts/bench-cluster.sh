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
export CALLER_LOOKUP_BIN=${1:-.build/release/caller-lookup}
writes=${2:-1000}
dir=$(mktemp -d)
trap 'scripts/cluster.sh stop "$dir"; rm -rf "$dir"' EXIT
scripts/cluster.sh start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/cluster.env"

python3 - "$NODE_A" "$NODE_B" "$writes" <<'EOF'
import base64, http.client, json, statistics, sys, time
a, b, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
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
def pct(values, p): return sorted(values)[min(len(values) - 1, int(len(values) * p))]
print("write on A → visible on B, %d writes (%d lookups on B):" % (count, polls))
print("  from the write's start: p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (pct(from_start, .5), pct(from_start, .99), max(from_start)))
print("  from A's answer:        p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (pct(from_answer, .5), pct(from_answer, .99), max(from_answer)))
EOF

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
