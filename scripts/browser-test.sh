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
source scripts/lib.sh
bin=$(cl_binary debug "${1:-}")
shots=${2:-}
scripts/install-dependencies.sh --browser

cl_tempdir work
port=$(cl_port)
cl_scratch_store "$work/data"
cl_serve "$work/server.log" "$port" --data "$work/data"

if ! /usr/bin/python3 scripts/browser/admin_test.py "http://127.0.0.1:$port" Tests/TestSupport/Fixtures/maximal.csv "${shots:-$work/shots}"; then
    echo "browser-test: failed; the server's log:" >&2
    tail -20 "$work/server.log" >&2
    exit 1
fi
