#!/usr/bin/env bash
# The admin pages in a real browser: Debian's Chromium driven by Selenium (scripts/browser/
# admin_test.py) against the real binary on a scratch store. Signs in, uploads the customer's
# maximal sample and a file with bad rows, reads the error table, dry-runs a file and checks that
# nothing changed, searches a messy number, edits a contact and checks its Uri kept, signs out.
# Every process is stopped by its PID, on failure too.
# Usage: scripts/browser-test.sh [BINARY] [SCREENSHOT_DIR]   (part of scripts/test.sh; with a
#        SCREENSHOT_DIR it saves the upload report and the contact page there, as in docs/images)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/debug/caller-lookup}
shots=${2:-}
scripts/install-dependencies.sh --browser

work=$(mktemp -d)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
port=$((20000 + RANDOM % 30000))
"$bin" org create IPEX --default-region CZ --data "$work/data" >/dev/null
printf '%s\n' hesloNovak | "$bin" user add novak --org IPEX --data "$work/data" >/dev/null
"$bin" serve --port "$port" --data "$work/data" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

if ! /usr/bin/python3 scripts/browser/admin_test.py "http://127.0.0.1:$port" Tests/TestSupport/Fixtures/maximal.csv "${shots:-$work/shots}"; then
    echo "browser-test: failed; the server's log:" >&2
    tail -20 "$work/server.log" >&2
    exit 1
fi
