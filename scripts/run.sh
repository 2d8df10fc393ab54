#!/usr/bin/env bash
# Runs caller-lookup's main job on a fresh machine: installs what is missing, builds, creates the
# demo organization and user, imports the customer's maximal sample and looks a caller up.
# Extra arguments are passed to the lookup (e.g. a number: scripts/run.sh 00420222333444).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-dependencies.sh
swift build -c release --product caller-lookup >&2
bin=$(swift build -c release --show-bin-path)/caller-lookup
data=${CALLER_LOOKUP_DATA:-./data}

"$bin" org create IPEX --default-region CZ --data "$data" 2>/dev/null || true
printf '%s\n' hesloNovak | "$bin" user add novak --org IPEX --data "$data" 2>/dev/null || true
"$bin" import Tests/TestSupport/Fixtures/maximal.csv --org IPEX --data "$data"
"$bin" lookup "${1:-+420 222 333 444}" --org IPEX --data "$data"
