#!/usr/bin/env bash
# schemathesis against the real binary: every phase (examples, coverage, fuzzing, stateful), every
# check, the committed configuration scripts/schemathesis/schemathesis.toml (which says where a check
# cannot apply, and why). The server runs on loopback with a fresh store holding the customer's
# maximal sample, no throttle wait and no long-poll wait, and is stopped by its PID, on failure too.
# Usage: scripts/schemathesis.sh [BINARY] [SEED] [EXAMPLES]   (part of scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

bin=$(cl_binary debug "${1:-}")
seed=${2:-20261129}
examples=${3:-25}
version=4.32.5
venv=.build/schemathesis-$version

if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv" 2>/dev/null || {
        apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"
    }
    "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$version"
fi

cl_tempdir data
port=$(cl_port)
cl_scratch_store "$data"
"$bin" import Tests/TestSupport/Fixtures/maximal.csv --org IPEX --data "$data" >/dev/null
# Sync sources schemathesis adds point anywhere: none runs on a schedule, a run by hand gives up at once.
CALLER_LOOKUP_SYNC_SCHEDULE=false CALLER_LOOKUP_SYNC_RETRIES=0 CALLER_LOOKUP_SYNC_TIMEOUTSECONDS=3 CALLER_LOOKUP_SYNC_CONNECTTIMEOUTSECONDS=2 \
CALLER_LOOKUP_AUTH_THROTTLESECONDS=0 CALLER_LOOKUP_CHANGES_WAITLIMIT=0 cl_serve "$data/serve.log" "$port" --data "$data"

CALLER_LOOKUP_TEST_LOGIN=novak CALLER_LOOKUP_TEST_PASSWORD=hesloNovak \
    "$venv/bin/schemathesis" --no-color --config-file scripts/schemathesis/schemathesis.toml \
    run "http://127.0.0.1:$port/openapi.yaml" --seed "$seed" --max-examples "$examples" >"$data/schemathesis.log" 2>&1 \
    || { cat "$data/schemathesis.log" >&2; echo "schemathesis: failures (seed $seed, $examples examples)" >&2; exit 1; }
grep -E "generated|passed" "$data/schemathesis.log" | tail -2 >&2
echo "schemathesis: clean (seed $seed, $examples examples)" >&2
