#!/usr/bin/env bash
# The large differential runs of the compiled number plan and the caller-number readings against
# libphonenumber itself (debug build, about 5 minutes in all):
#  1. numbers generated from the metadata: every entry, every number type, every length its
#     possible-lengths list allows and one shorter and one longer, digits walking every branch of
#     the type's pattern, in international and national form (GeneratedNumberTests, full set);
#     the valid ones also in the forms PBXs send, checked against libphonenumber's Parse;
#  2. every example number plus N seeded mutations (default 200,000) per seed (NumberPlanTests).
# Prints the summaries and fails on any disagreement.
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
    NUMBER_PLAN_COVERAGE=full NUMBER_PLAN_SEED=$seed swift test --skip-build --filter GeneratedNumberTests 2>&1 \
        | tee -a "$log" | grep -E "generated numbers|caller numbers|✘" || true
    NUMBER_PLAN_MUTATIONS=$count NUMBER_PLAN_SEED=$seed swift test --skip-build --filter NumberPlanTests 2>&1 \
        | tee -a "$log" | grep -E "number plan differential|✘" || true
done
if grep -q "✘" "$log"; then
    echo "number-plan-differential: disagreements found (see above)" >&2
    exit 1
fi
echo "number-plan-differential: no disagreement"
