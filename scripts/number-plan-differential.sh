#!/usr/bin/env bash
# The large differential run of issue 5: every example number of the installed libphonenumber plus
# N seeded mutations (default 200,000) per seed, validated by the compiled NumberPlan and by
# libphonenumber itself; prints the summaries and fails on any disagreement.
# Usage: scripts/number-plan-differential.sh [N] [SEED...]   (seeds default to 1 2 3)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-dependencies.sh >/dev/null
count=${1:-200000}
shift || true
seeds=("${@:-1 2 3}")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
swift build --build-tests >&2
for seed in ${seeds[@]}; do
    NUMBER_PLAN_MUTATIONS=$count NUMBER_PLAN_SEED=$seed swift test --skip-build --filter NumberPlanTests 2>&1 \
        | tee -a "$log" | grep -E "number plan differential|✘" || true
done
if grep -q "✘" "$log"; then
    echo "number-plan-differential: disagreements found (see above)" >&2
    exit 1
fi
echo "number-plan-differential: no disagreement"
