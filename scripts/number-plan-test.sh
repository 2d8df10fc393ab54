#!/usr/bin/env bash
# The number plan as data, with real processes:
#  1. the generated-numbers differential (every region and entity, every type's example, each digit
#     changed, a digit more and less, international, national and PBX forms) of the binary's
#     shipped plan against PyPI's phonenumbers of the plan's own version, in a venv: 0 disagreements;
#  2. one store served with two plan files in turn (the shipped one, then the C++ library's 8.12
#     metadata exported by `number-plan export`): /health names each; a number valid today (Benin's
#     10 digits) is imported under the first, stays stored and findable under the second, and
#     `check-numbers` lists it with the reason; a damaged plan file is refused at start.
# Usage: scripts/number-plan-test.sh [BINARY]   (part of scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bin=$(cl_binary debug "${1:-}")
cl_tempdir work

# 1. The differential against the plan's own version of phonenumbers.
shipped=$("$bin" --version | sed -n 's/^number plan: .*(\(.*\))$/\1/p')
version=$(sed -n 's/^version\t//p' "$shipped")
[ -n "$version" ] || cl_die "the binary names no shipped plan: $("$bin" --version)"
venv=.build/phonenumbers-$version
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import phonenumbers" 2>/dev/null; then
    python3 -m venv "$venv" 2>/dev/null || { apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q --disable-pip-version-check "phonenumbers==$version"
fi
"$venv/bin/python" scripts/number-plan/differential.py "$bin" || cl_die "the shipped plan disagrees with phonenumbers $version"

# 2. Two plan files, one store.
"$bin" number-plan export "$work/old-plan.txt" >/dev/null
old=$(sed -n 's/^version\t//p' "$work/old-plan.txt")
data=$work/data
cl_scratch_store "$data"
printf 'lastName;phone1\nBenin;+229 01 95 12 34 56\nPraha;+420 222 333 444\n' >"$work/contacts.csv"
"$bin" import "$work/contacts.csv" --org IPEX --data "$data" >/dev/null || cl_die "a number valid in libphonenumber $version was refused"
port=$(cl_port)
cl_serve "$work/serve.log" "$port" --data "$data"
curl -sf "http://127.0.0.1:$port/health" | grep -q "\"numberPlan\":\"$version\"" || cl_die "/health does not name $version"
cl_stop "$CL_PID"
cl_serve "$work/serve-old.log" "$port" --data "$data" --number-plan "$work/old-plan.txt"
curl -sf "http://127.0.0.1:$port/health" | grep -q "\"numberPlan\":\"$old\"" || cl_die "/health does not name $old after the restart"
curl -sf "http://127.0.0.1:$port/metrics" | grep -q "caller_lookup_number_plan_info{.*version=\"$old\"" || cl_die "the metrics do not name $old"
curl -sf -u novak:hesloNovak "http://127.0.0.1:$port/v3/contacts/lookup/+2290195123456" | grep -q Benin \
    || cl_die "a stored number the old plan calls invalid is not found"
verdict=$(curl -s -u novak:hesloNovak "http://127.0.0.1:$port/v3/contacts/validator/phone-number/+2290195123456")
grep -q '"valid":false' <<<"$verdict" || cl_die "the old plan should refuse Benin's 10 digits: $verdict"
cl_stop "$CL_PID"
if listed=$("$bin" check-numbers --org IPEX --data "$data" --number-plan "$work/old-plan.txt" 2>/dev/null); then
    cl_die "check-numbers found nothing under $old"
fi
grep -q $'phone1\t+2290195123456\ttoo long' <<<"$listed" || cl_die "check-numbers did not list the Benin number: $listed"
"$bin" check-numbers --org IPEX --data "$data" >/dev/null 2>&1 || cl_die "check-numbers under $version lists numbers"

# A damaged plan is refused at start, with the reason.
sed 's/^BJ\t229/BJ\t230/' "$shipped" >"$work/damaged.txt"
if "$bin" serve --port "$(cl_port)" --data "$data" --number-plan "$work/damaged.txt" >"$work/damaged.log" 2>&1; then
    cl_die "serve started with a damaged plan"
fi
grep -q "does not match its fingerprint" "$work/damaged.log" || cl_die "the damaged plan's refusal: $(cat "$work/damaged.log")"
cl_say "number plans: 0 disagreements with phonenumbers $version; one store served by $version and $old in turn; a damaged plan refused"
