#!/usr/bin/env bash
# Runs caller-lookup on a fresh machine: installs what is missing, builds (release), creates the
# demo organization IPEX and user novak (password hesloNovak) when they do not exist, and serves
# the HTTP API on 127.0.0.1:8080 (override with HOST / PORT; data in ./data or CALLER_LOOKUP_DATA).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

scripts/install-dependencies.sh
bin=$(cl_binary --fresh release)
data=${CALLER_LOOKUP_DATA:-./data}

"$bin" org create IPEX --default-region CZ --data "$data" 2>/dev/null || true
printf '%s\n' hesloNovak | "$bin" user add novak --org IPEX --data "$data" 2>/dev/null || true
cat >&2 <<TXT
Try, from another shell:
  curl -X POST -H "Content-Type: multipart/form-data" -H "Authorization: Basic bm92YWs6aGVzbG9Ob3Zhaw==" \\
       --form file=@Tests/TestSupport/Fixtures/maximal.csv http://${HOST:-127.0.0.1}:${PORT:-8080}/v3/contacts/upload
  curl -H "Authorization: Basic bm92YWs6aGVzbG9Ob3Zhaw==" http://${HOST:-127.0.0.1}:${PORT:-8080}/v3/contacts/lookup/00420222333444
TXT
exec "$bin" serve --host "${HOST:-127.0.0.1}" --port "${PORT:-8080}" --data "$data"
