#!/usr/bin/env bash
# Two API nodes and a mirror on one PostgreSQL, behind haproxy (scripts/cluster.sh), checked over
# real HTTP:
#   1. an upload through node A is served by node B's lookups, the mirror's and the balancer's;
#   2. concurrent REST writes through both nodes to one organization give a gap-free, ordered feed
#      and the same answers from both nodes' indexes, for every number written;
#   3. PostgreSQL stopped while the nodes serve: lookups never fail, writes answer 503 with
#      Retry-After, /health says the store is unreachable; PostgreSQL started again: writes
#      succeed by themselves and reach the other node.
# Every process is stopped by its PID, on failure too.
# Usage: scripts/reliability/cluster-test.sh [BINARY]   (part of scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh
CALLER_LOOKUP_BIN=$(cl_binary debug "${1:-}")
export CALLER_LOOKUP_BIN

cl_tempdir dir
cl_on_exit scripts/cluster.sh stop "$dir"
fail() {
    echo "cluster-test: $*" >&2
    for log in "$dir"/*.log; do echo "--- $log" >&2; tail -15 "$log" >&2; done
    exit 1
}

scripts/cluster.sh start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/cluster.env"
user=novak:hesloNovak

# lookup PORT NUMBER: the lookup's answer on PORT.
# lookup PORT NUMBER: the lookup's JSON without its popup link, which names the node it came from.
lookup() { curl -s -u "$user" "http://127.0.0.1:$1/v3/contacts/lookup/$2" | sed 's/"url":"[^"]*",//'; }
# until_found PORT NUMBER: waits (5 s at most) until PORT's lookup of NUMBER matches.
until_found() {
    for _ in $(seq 1 100); do
        lookup "$1" "$2" | grep -q '"match":"exact"' && return 0
        sleep 0.05
    done
    fail "port $1 does not find $2"
}

# 1. An upload through A, served by B, the mirror and the balancer.
printf 'firstName;lastName;phone1;externalId\nUpload;Přes A;+420 777 100 200;U1\n' >"$dir/upload.csv"
curl -sf -u "$user" -F file=@"$dir/upload.csv" "http://127.0.0.1:$NODE_A/v3/contacts/upload" | grep -q '"created":1' ||
    fail "the upload through node A failed"
for port in "$NODE_B" "$MIRROR" "$BALANCER"; do until_found "$port" +420777100200; done
lookup "$NODE_B" 777100200 | grep -q 'Přes A' || fail "node B answers without the uploaded name"
echo "cluster-test: an upload through node A is served by node B, the mirror and the balancer"

# 2. Concurrent REST writes through both nodes.
start=$(curl -s -u "$user" "http://127.0.0.1:$NODE_A/v3/contacts/changes?since=0" | grep -o '"version":[0-9]*' | head -1 | cut -d: -f2)
for i in $(seq 1 60); do
    port=$NODE_A
    [ $((i % 2)) -eq 0 ] && port=$NODE_B
    number=$(printf '+420777%06d' "$i")
    curl -s -o /dev/null -w '%{http_code}\n' -u "$user" -H 'Content-Type: application/json' \
        -d "{\"lastName\":\"Souběžný $i\",\"phone1\":\"$number\"}" "http://127.0.0.1:$port/v3/contacts" >>"$dir/codes" &
done
wait
[ "$(grep -c '^201$' "$dir/codes")" = 60 ] || fail "not every concurrent write was created: $(sort "$dir/codes" | uniq -c | tr '\n' ' ')"
feed=$(curl -s -u "$user" "http://127.0.0.1:$NODE_B/v3/contacts/changes?since=$start&limit=1000")
versions=$(printf '%s' "$feed" | grep -o '"op":"upsert","contact":{"id":[0-9]*,"version":[0-9]*' | grep -o '[0-9]*$' | tr '\n' ' ')
expected=$(seq $((start + 1)) $((start + 60)) | tr '\n' ' ')
[ "$versions" = "$expected" ] || fail "the feed is not gap-free and ordered: $versions"
for i in $(seq 1 60); do
    number=$(printf '+420777%06d' "$i")
    until_found "$NODE_A" "$number"
    until_found "$NODE_B" "$number"
    [ "$(lookup "$NODE_A" "$number")" = "$(lookup "$NODE_B" "$number")" ] || fail "nodes A and B answer $number differently"
done
echo "cluster-test: 60 concurrent writes through both nodes: versions $((start + 1))–$((start + 60)) without gaps, both indexes alike"

# 3. PostgreSQL stopped while serving.
scripts/postgres.sh stop "$dir/pg" >/dev/null
for port in "$NODE_A" "$NODE_B" "$BALANCER" "$MIRROR"; do
    lookup "$port" +420777100200 | grep -q '"match":"exact"' || fail "a lookup on port $port failed while PostgreSQL was down"
done
headers=$(curl -s -D - -o "$dir/503.json" -u "$user" -H 'Content-Type: application/json' \
    -d '{"lastName":"Během výpadku","phone1":"+420777999001"}' "http://127.0.0.1:$NODE_B/v3/contacts")
printf '%s' "$headers" | grep -q '^HTTP/1.1 503' || fail "a write while PostgreSQL was down did not answer 503: $headers"
printf '%s' "$headers" | grep -qi '^retry-after: 5' || fail "the 503 has no Retry-After"
grep -q 'unavailable' "$dir/503.json" || fail "the 503 does not say why: $(cat "$dir/503.json")"
# The follower's next poll waits at most 5 s for a connection, then reports the store.
for _ in $(seq 1 200); do
    curl -s "http://127.0.0.1:$NODE_A/health" | grep -q '"store":"unreachable"' && break
    sleep 0.1
done
curl -s "http://127.0.0.1:$NODE_A/health" | grep -q '"store":"unreachable"' || fail "/health does not report the store unreachable"
for _ in $(seq 1 20); do
    lookup "$NODE_A" 777000001 | grep -q '"match":"exact"' || fail "a lookup failed while PostgreSQL was down"
done
scripts/postgres.sh restart "$dir/pg" "$PG_PORT" >/dev/null
created=
for _ in $(seq 1 150); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -u "$user" -H 'Content-Type: application/json' \
        -d '{"lastName":"Po výpadku","phone1":"+420777999002"}' "http://127.0.0.1:$NODE_B/v3/contacts")
    if [ "$code" = 201 ]; then created=yes; break; fi
    sleep 0.1
done
[ -n "$created" ] || fail "writes did not recover after PostgreSQL came back"
until_found "$NODE_A" +420777999002
for _ in $(seq 1 100); do
    curl -s "http://127.0.0.1:$NODE_A/health" | grep -q '"store":"ok"' && break
    sleep 0.1
done
curl -s "http://127.0.0.1:$NODE_A/health" | grep -q '"store":"ok"' || fail "/health does not report the store back"
echo "cluster-test: PostgreSQL stopped and started: lookups answered throughout, writes 503 then recovered by themselves"
