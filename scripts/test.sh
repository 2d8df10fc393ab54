#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds (debug) and runs every test, then prints the
# Swift Testing totals as one plain line "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-dependencies.sh

# A throwaway PostgreSQL for the PostgreSQL store's tests (loopback, a high port), stopped by its
# PID at the end, on failure too.
log=$(mktemp)
postgres=$(mktemp -d)
trap 'scripts/postgres.sh stop "$postgres"; rm -rf "$log" "$postgres"' EXIT
CALLER_LOOKUP_TEST_POSTGRES_URL=$(scripts/postgres.sh start "$postgres")
export CALLER_LOOKUP_TEST_POSTGRES_URL
status=0
swift test 2>&1 | tee "$log" || status=$?

# Swift Testing's summary: "✔ Test run with 42 tests in 7 suites passed after …" or
# "✘ Test run with 42 tests in 7 suites failed after … with 3 issues." Count test results instead of
# parsing prose: one "passed after"/"failed after" line per test.
passed=$(grep -E '^[^ ]+ Test "?.*"? passed after' "$log" | grep -vc "Test run with" || true)
failed=$(grep -E '^[^ ]+ Test "?.*"? failed after' "$log" | grep -vc "Test run with" || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

# The end-to-end run of the real binary with the real curl, schemathesis against it (the OpenAPI
# document is the truth) and the SIP run through a real Kamailio count as one more test each.
if [ "$status" -eq 0 ]; then
    if swift build --product caller-lookup >/dev/null && scripts/e2e.sh .build/debug/caller-lookup; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        status=1
    fi
    if scripts/schemathesis.sh .build/debug/caller-lookup; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        status=1
    fi
    # SIPp → Kamailio → caller-lookup: calls routed by the caller's agent tag.
    if scripts/sip-test.sh .build/debug/caller-lookup; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        status=1
    fi
    # kill -9 of PostgreSQL during imports: the old contacts or the new ones, never a mix.
    if scripts/reliability/postgres-crash.sh .build/debug/caller-lookup; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        status=1
    fi
fi
echo "$passed passed, $failed failed"
exit "$status"
