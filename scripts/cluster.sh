#!/usr/bin/env bash
# A caller-lookup cluster on one machine: a throwaway PostgreSQL as the store of record, two API
# nodes on it, one mirror, and haproxy in front, everything on loopback at high ports.
#
#   scripts/cluster.sh [start] [DIR]   starts it (DIR: a new scratch folder when omitted), creates
#                                      the organization IPEX with the user novak and the customer's
#                                      maximal sample, and prints the customer's curl command
#   scripts/cluster.sh stop DIR        stops every process of the cluster by its PID
#
# haproxy (DIR/haproxy.cfg) listens on BASE+10: lookups (GET …/lookup, /name, /route) go to both
# nodes and the mirror, everything else to the nodes; each is checked on /health. BASE+11 is the
# same with node A alone and BASE+12 with the two nodes alone, to compare. The ports and PIDs are
# in DIR/cluster.env.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
command=start
case "${1:-}" in start | stop) command=$1; shift ;; esac

if [ "$command" = stop ]; then
    dir=${1:?scripts/cluster.sh stop DIR}
    [ -f "$dir/cluster.env" ] || exit 0
    # shellcheck disable=SC1091
    source "$dir/cluster.env"
    # Not gone after 5 s: SIGKILL, so that nothing lingers on its port.
    # shellcheck disable=SC2086
    CL_GRACE=5 cl_kill ${CLUSTER_PIDS:-}
    scripts/postgres.sh stop "$dir/pg" >/dev/null 2>&1 || true
    exit 0
fi

dir=${1:-$(mktemp -d)}
mkdir -p "$dir"
chmod 755 "$dir"
scripts/install-dependencies.sh --cluster
bin=$(cl_binary debug)

base=${CLUSTER_PORT:-$(cl_port)}
pg_port=$base node_a=$((base + 1)) node_b=$((base + 2)) mirror=$((base + 3))
balancer=$((base + 10)) single=$((base + 11)) pair=$((base + 12))
record() {
    cat >"$dir/cluster.env" <<EOF
CLUSTER_DIR=$dir
CLUSTER_PIDS="${CL_PIDS[*]}"
STORE_URL=$url
PG_PORT=$pg_port
NODE_A=$node_a
NODE_B=$node_b
MIRROR=$mirror
BALANCER=$balancer
SINGLE=$single
PAIR=$pair
EOF
}
# Until it has all started: on failure, cl_cleanup stops what did (it is handed over at the end).
cl_on_exit scripts/postgres.sh stop "$dir/pg"
cl_on_exit cl_say "failed; stopping what started (logs in $dir)"

url=$(scripts/postgres.sh start "$dir/pg" "$pg_port")
record
"$bin" migrate --store "$url" >/dev/null
"$bin" org create IPEX --default-region CZ --store "$url" >/dev/null
printf '%s\n' hesloNovak | "$bin" user add novak --org IPEX --store "$url" >/dev/null
"$bin" import Tests/TestSupport/Fixtures/maximal.csv --org IPEX --store "$url" >/dev/null
token=$("$bin" token create --org IPEX --scope lookup --label "cluster mirror" --store "$url" | tail -1)

nodes=()
for node in a b; do
    port=$node_a
    [ $node = b ] && port=$node_b
    CALLER_LOOKUP_STORE_URL=$url cl_start "$dir/node-$node.log" "$bin" serve --port "$port"
    nodes+=("$CL_PID")
    record
done
cl_wait_health "${nodes[0]}" "$node_a"
cl_wait_health "${nodes[1]}" "$node_b"

cat >"$dir/haproxy.cfg" <<EOF
global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    option http-keep-alive
backend nodes
    balance roundrobin
    option httpchk GET /health
    server a 127.0.0.1:$node_a check inter 1s
    server b 127.0.0.1:$node_b check inter 1s
backend lookups
    balance roundrobin
    option httpchk GET /health
    server a 127.0.0.1:$node_a check inter 1s
    server b 127.0.0.1:$node_b check inter 1s
    server mirror 127.0.0.1:$mirror check inter 1s
backend node_a
    server a 127.0.0.1:$node_a check inter 1s
frontend balancer
    bind 127.0.0.1:$balancer
    acl lookup path_reg ^/v3/contacts/(lookup|name|route)(/|$|\?)
    use_backend lookups if METH_GET lookup
    default_backend nodes
frontend single
    bind 127.0.0.1:$single
    default_backend node_a
frontend pair
    bind 127.0.0.1:$pair
    default_backend nodes
EOF
cl_start "$dir/haproxy.log" haproxy -f "$dir/haproxy.cfg" -db
record
cl_wait_health "$CL_PID" "$balancer"

CALLER_LOOKUP_TOKEN=$token cl_start "$dir/mirror.log" "$bin" mirror --from "http://127.0.0.1:$balancer" --port "$mirror" \
    --snapshot "$dir/mirror.snapshot" --wait 5
record
cl_wait_health "$CL_PID" "$mirror"

# Started: it outlives this script, until scripts/cluster.sh stop.
cl_detach
cat <<EOF
caller-lookup cluster in $dir: PostgreSQL :$pg_port, API nodes :$node_a and :$node_b, mirror :$mirror,
haproxy :$balancer (:$single node A alone, :$pair the two nodes without the mirror). The customer's lookup through the balancer:

  curl -u novak:hesloNovak http://127.0.0.1:$balancer/v3/contacts/lookup/+420222333444

Upload:  curl -u novak:hesloNovak -F file=@contacts.csv http://127.0.0.1:$balancer/v3/contacts/upload
Stop:    scripts/cluster.sh stop $dir
EOF
