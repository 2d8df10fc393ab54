#!/usr/bin/env bash
# A real SIP proxy routing calls through caller-lookup: Kamailio (config/integrations/kamailio/)
# asks caller-lookup about every INVITE and redirects it to the caller's first agent tag, with the
# caller's name in X-Caller-Name; SIPp places the calls and this script checks what arrived.
#
# Calls: the customer's maximal sample in the forms PBXs send (E.164, 00, digits only, national,
# with dashes, the second phone number), an unknown number (the fallback agent), and the same call
# through a Kamailio holding a revoked token (401: the fallback agent, the call still routed).
# Everything on loopback, high ports; every process stopped by its PID, on failure too.
# Usage: scripts/sip-test.sh [BINARY]   (part of scripts/test.sh; installs kamailio and SIPp)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bin=$(cl_binary debug "${1:-}")
scripts/install-dependencies.sh --sip

cl_tempdir work
fail() {
    echo "sip-test: $*" >&2
    for log in "$work"/*.log; do echo "--- $log" >&2; tail -20 "$log" >&2; done
    exit 1
}

api=$(cl_port) kamailio_port=$(cl_port) revoked_port=$(cl_port) sipp_port=$(cl_port)

cl_scratch_store "$work/data" IPEX ""
"$bin" import Tests/TestSupport/Fixtures/maximal.csv --org IPEX --data "$work/data" >/dev/null
token=$("$bin" token create --org IPEX --scope lookup --label Kamailio --data "$work/data" | tail -1)
revoked=$("$bin" token create --org IPEX --scope lookup --label "Kamailio (revoked)" --data "$work/data" | tail -1)
"$bin" token revoke 2 --org IPEX --data "$work/data" >/dev/null

cl_serve "$work/serve.log" "$api" --data "$work/data"

# kamailio PORT TOKEN [extra -A defines…]: a Kamailio with the project's configuration.
start_kamailio() {
    local port=$1 token=$2
    shift 2
    cl_start "$work/kamailio-$port.log" kamailio -DD -E -f config/integrations/kamailio/kamailio.cfg -l "udp:127.0.0.1:$port" -w "$work" \
        -A "CALLER_LOOKUP_ROUTE=\"callerlookup=>http://127.0.0.1:$api/v3/contacts/route\"" -A "CALLER_LOOKUP_TOKEN=\"$token\"" \
        -A "AGENT_DOMAIN=\"agents.example.com\"" -A "FALLBACK_AGENT=\"operator\"" "$@"
}
start_kamailio "$kamailio_port" "$token"
start_kamailio "$revoked_port" "$revoked"
sleep 1

# call PORT NAME FROM…: one SIPp call per number to the Kamailio on PORT; the per-call log lines.
call() {
    local port=$1 name=$2
    shift 2
    { echo SEQUENTIAL; for from in "$@"; do echo "$from;ivr"; done; } >"$work/$name.csv"
    timeout 60 sipp "127.0.0.1:$port" -sf config/integrations/kamailio/sipp/caller.xml -inf "$work/$name.csv" \
        -m "$#" -r 50 -p "$sipp_port" -i 127.0.0.1 -nostdin -timeout 30s -trace_logs -log_file "$work/$name.calls" \
        -trace_screen -screen_file "$work/$name-screen.log" >"$work/$name-sipp.log" 2>&1 \
        || fail "SIPp: some calls failed ($name)"
    cat "$work/$name.calls"
}

known=(+420222333444 00420222333444 420222333444 222333444 +420-222-333-444 +420777711100)
actual=$(call "$kamailio_port" known "${known[@]}" +420601000999)
expected=""
for from in "${known[@]}"; do
    expected+="from=$from agent=22 lookup=200 name=Jan Novák"$'\n'
done
expected+="from=+420601000999 agent=operator lookup=404 name="
# The calls overlap (50 a second, Kamailio's 16 children): their lines come in the order they
# ended, so the lines are compared as a set.
[ "$(printf '%s\n' "$actual" | sed 's/ (.*)$//' | sort)" = "$(printf '%s\n' "$expected" | sort)" ] \
    || fail "unexpected routing:"$'\n'"$actual"$'\n'"expected:"$'\n'"$expected"

actual=$(call "$revoked_port" revoked +420222333444)
[ "$(printf '%s\n' "$actual" | sed 's/ (.*)$//')" = "from=+420222333444 agent=operator lookup=401 name=" ] \
    || fail "a revoked token must not be answered, and the call still routed: $actual"

echo "sip-test: ${#known[@]} messy forms of the sample routed to agent 22 with the caller's name, the unknown caller and the revoked token to the fallback agent" >&2
