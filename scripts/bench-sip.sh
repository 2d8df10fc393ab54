#!/usr/bin/env bash
# What the caller lookup costs a call: SIPp → Kamailio → caller-lookup against the same Kamailio
# routing without the lookup (-A NO_LOOKUP), same run, same machine. Two measurements per side:
#  * setup delay (INVITE → 302, SIPp's response time, whole milliseconds) at a fixed rate: p50,
#    p99, max; and the lookup's own time inside Kamailio (-A MEASURE, microseconds) — the delay the
#    lookup adds, at a resolution SIPp does not have;
#  * the highest call rate: SIPp offering far more than either side can take, completed calls/s.
# Callers are drawn from 100,000 generated contacts (every call a hit). Loopback, high ports, every
# process stopped by its PID.
# Usage: scripts/bench-sip.sh [BINARY] [RATE] [CALLS]   (BINARY: a release build; see docs/performance.md)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bin=$(cl_binary release "${1:-}")
rate=${2:-500}
calls=${3:-20000}
scripts/install-dependencies.sh --sip

cl_tempdir work
api=$(cl_port) with=$(cl_port) without=$(cl_port) sipp_port=$(cl_port)

cl_scratch_store "$work/data" Bench ""
"$bin" generate --rows 100000 --seed 17 >"$work/contacts.csv"
"$bin" import "$work/contacts.csv" --org Bench --data "$work/data" >/dev/null
token=$("$bin" token create --org Bench --scope lookup --data "$work/data" | tail -1)
cl_serve "$work/serve.log" "$api" --data "$work/data"

for port in "$with" "$without"; do
    extra=(-A MEASURE)
    [ "$port" = "$without" ] && extra=(-A NO_LOOKUP)
    cl_start "$work/kamailio-$port.log" kamailio -DD -E -f config/integrations/kamailio/kamailio.cfg -l "udp:127.0.0.1:$port" -w "$work" \
        -A "CALLER_LOOKUP_ROUTE=\"callerlookup=>http://127.0.0.1:$api/v3/contacts/route\"" -A "CALLER_LOOKUP_TOKEN=\"$token\"" "${extra[@]}"
done
sleep 1

# The callers: phone1 of the generated contacts, as E.164.
{ echo RANDOM; awk -F';' 'NR > 1 && NR <= 20001 { gsub(/"/, "", $6); print $6 ";ivr" }' "$work/contacts.csv"; } >"$work/callers.csv"

# sipp PORT NAME RATE CALLS [options…]: runs in $work, where SIPp writes its traces.
sipp_run() {
    local port=$1 name=$2 r=$3 m=$4
    shift 4
    (cd "$work" && timeout 300 sipp "127.0.0.1:$port" -sf "$OLDPWD/config/integrations/kamailio/sipp/caller.xml" \
        -inf callers.csv -r "$r" -m "$m" -p "$sipp_port" -i 127.0.0.1 -nostdin -timeout 240s "$@" \
        -trace_screen -screen_file "$name.screen" >"$name.out" 2>&1) || true
}

# Setup delay: the per-call response times SIPp traces (-trace_rtt, in ms).
delay() {
    local port=$1 name=$2 p50 p99 max
    rm -f "$work"/caller_*_rtt.csv
    sipp_run "$port" "$name" "$rate" "$calls" -trace_rtt -rtt_freq 1000
    cat "$work"/caller_*_rtt.csv | grep -E '^[0-9]' | cut -d';' -f2 >"$work/$name.ms"
    read -r p50 p99 max < <(cl_percentile 50 99 100 <"$work/$name.ms")
    printf '%d calls, p50 %.3f ms, p99 %.3f ms, max %.3f ms' "$(wc -l <"$work/$name.ms")" "$p50" "$p99" "$max"
}

# Call rate: completed calls per second with SIPp offering 20,000/s (at most 500 calls in flight).
capacity() {
    local port=$1 name=$2
    local started ended ok
    started=$(date +%s.%N)
    sipp_run "$port" "$name" 20000 "$calls" -l 500
    ended=$(date +%s.%N)
    ok=$(grep -E "Successful call" "$work/$name.screen" | tail -1 | awk '{ print $(NF) }')
    echo "${ok:-0} $started $ended" | awk '{ printf "%d calls in %.2f s: %.0f calls/s", $1, $3 - $2, $1 / ($3 - $2) }'
}

echo "setup delay at $rate calls/s ($calls calls), 100,000 contacts (SIPp's response time, whole ms):"
echo "  without the lookup: $(delay "$without" without-delay)"
echo "  with the lookup:    $(delay "$with" with-delay)"
# What the lookup adds to each call's setup, timed inside Kamailio around http_connect (µs).
grep -o 'lookup_us=[0-9]*' "$work/kamailio-$with.log" | cut -d= -f2 >"$work/lookup.us"
read -r p50 p99 max < <(cl_percentile 50 99 100 <"$work/lookup.us")
printf '  the lookup inside Kamailio: %d lookups, p50 %d µs, p99 %d µs, max %d µs\n' "$(wc -l <"$work/lookup.us")" "$p50" "$p99" "$max"
: >"$work/kamailio-$with.log"
echo "highest call rate:"
echo "  without the lookup: $(capacity "$without" without-rate)"
echo "  with the lookup:    $(capacity "$with" with-rate)"
lookups=$(curl -s "http://127.0.0.1:$api/metrics" | grep -E '^caller_lookup_lookups_total' | awk '{ s += $2 } END { print s + 0 }')
echo "caller-lookup answered $lookups lookups"
