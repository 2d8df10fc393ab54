#!/usr/bin/env bash
# The large differential run of issue 5: every example number of the installed libphonenumber plus
# N seeded mutations (default 200,000), validated by the compiled NumberPlan and by libphonenumber
# itself; prints the summary and fails on any disagreement. Usage: scripts/number-plan-differential.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-dependencies.sh >/dev/null
NUMBER_PLAN_MUTATIONS=${1:-200000} swift test --filter NumberPlanTests 2>&1 \
    | tee /tmp/number-plan-differential.log \
    | grep -E "number plan differential|✘|passed after|failed after" | grep -v "^◇"
! grep -q "✘" /tmp/number-plan-differential.log
