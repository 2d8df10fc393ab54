#!/usr/bin/env bash
# Regenerates the shipped number plan from a release of PyPI's phonenumbers (which carries
# Google libphonenumber's metadata of the same version): a venv, pip install phonenumbers==VERSION,
# scripts/number-plan/convert.py. Writes Sources/PhoneNumbers/Resources/number-plan.txt, or OUTPUT.
# Then run scripts/number-plan-pypi.sh (the differential against that version) before committing.
# Usage: scripts/update-number-plan.sh VERSION [OUTPUT]
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: scripts/update-number-plan.sh VERSION [OUTPUT]}
output=${2:-Sources/PhoneNumbers/Resources/number-plan.txt}
venv=.build/phonenumbers-$version
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import phonenumbers" 2>/dev/null; then
    python3 -m venv "$venv" 2>/dev/null || { apt-get install -y -qq python3-venv >/dev/null && python3 -m venv "$venv"; }
    "$venv/bin/pip" install -q --disable-pip-version-check "phonenumbers==$version"
fi
"$venv/bin/python" scripts/number-plan/convert.py "$output"
