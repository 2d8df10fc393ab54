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
# Its self-signed certificate, for the test that checks the server's certificate.
CALLER_LOOKUP_TEST_POSTGRES_CA=$postgres/data/server.crt
export CALLER_LOOKUP_TEST_POSTGRES_URL CALLER_LOOKUP_TEST_POSTGRES_CA
status=0
swift test 2>&1 | tee "$log" || status=$?

# Swift Testing's summary: "✔ Test run with 42 tests in 7 suites passed after …" or
# "✘ Test run with 42 tests in 7 suites failed after … with 3 issues." Count test results instead of
# parsing prose: one "passed after"/"failed after" line per test.
passed=$(grep -E '^[^ ]+ Test "?.*"? passed after' "$log" | grep -vc "Test run with" || true)
failed=$(grep -E '^[^ ]+ Test "?.*"? failed after' "$log" | grep -vc "Test run with" || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi

if [ "$status" -eq 0 ] && ! swift build --product caller-lookup >/dev/null; then
    failed=$((failed + 1))
    status=1
fi
if [ "$status" -eq 0 ]; then
    # Each script counts as one test: the real binary with the real curl (e2e), the security
    # findings against the real binary (file modes, cross-site, links, sessions, hostile uploads' peak
    # memory, a mirror with its API down, redacted URLs), schemathesis against
    # it (the OpenAPI document is the truth), SIPp → Kamailio → caller-lookup (calls routed by the
    # caller's agent tag), kill -9 of PostgreSQL during imports (the old contacts or the new ones,
    # never a mix), two API nodes and a mirror on one PostgreSQL behind haproxy, the admin pages
    # in Chromium, the LDAP directory asked by ldapsearch and ldap3 (also over TLS and on a mirror),
    # CRM sync from Python's http.server beside a running server (schedule, 304, delete limit, token),
    # the shipped number plan against PyPI's phonenumbers of its version and one store served by two plans,
    # day-two administration from the command line (users, migrate, where the configuration is found),
    # the guides' links and runnable examples, and no tracked symbolic link that leaves the
    # repository.
    for script in scripts/e2e.sh scripts/security-test.sh scripts/schemathesis.sh scripts/sip-test.sh scripts/reliability/postgres-crash.sh \
        scripts/reliability/cluster-test.sh scripts/browser-test.sh scripts/ldap-test.sh scripts/sync-test.sh scripts/number-plan-test.sh scripts/day-two-test.sh scripts/check-docs.sh scripts/check-links.sh; do
        if "$script" .build/debug/caller-lookup; then
            passed=$((passed + 1))
        else
            echo "test: $script failed" >&2
            failed=$((failed + 1))
            status=1
        fi
    done
fi
echo "$passed passed, $failed failed"
exit "$status"
