#!/usr/bin/env bash
# End to end: starts the real binary, uploads the customer's sample with the customer's own curl
# command line, looks a caller up, and stops the server. Usage: scripts/e2e.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-.build/debug/caller-lookup}
data=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
log="$data/serve.log"
cleanup() {
    [ -n "${server:-}" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$data"
}
trap cleanup EXIT

"$bin" org create IPEX --default-region CZ --data "$data" >/dev/null
printf '%s\n' hesloNovak | "$bin" user add novak --org IPEX --data "$data" >/dev/null
"$bin" serve --port "$port" --data "$data" >"$log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.1
done

cp Tests/TestSupport/Fixtures/maximal.csv "$data/import.csv"
auth=$(printf '%s' 'novak:hesloNovak' | base64)
# The customer's command, verbatim but for host and port.
report=$(cd "$data" && curl -s -X POST -H "Content-Type: multipart/form-data" -H "Authorization: Basic $auth" \
    --form file=@import.csv "http://127.0.0.1:$port/v3/contacts/upload")
expected='{"message":"uploaded","error":"",'
if [[ "$report" != "$expected"* ]]; then
    echo "e2e: upload answered: $report" >&2
    exit 1
fi
lookup=$(curl -s -H "Authorization: Basic $auth" "http://127.0.0.1:$port/v3/contacts/lookup/00420222333444")
if [[ "$lookup" != *'"displayName":"Jan Novák"'*'"displayName":"Ivan Neúplný"'* ]]; then
    echo "e2e: lookup answered: $lookup" >&2
    exit 1
fi
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Basic $(printf 'novak:x' | base64)" \
    "http://127.0.0.1:$port/v3/contacts/lookup/00420222333444")
if [ "$status" != 401 ]; then
    echo "e2e: wrong password answered $status" >&2
    exit 1
fi
batch=$(printf '+420 222 333 444\t\n222 333 444\tCZ\n+42022233\t\r\n' | "$bin" validate --batch)
expected_batch='{"valid":true,"e164":"+420222333444","type":"FIXED_LINE","region":"CZ","reason":null}
{"valid":true,"e164":"+420222333444","type":"FIXED_LINE","region":"CZ","reason":null}
{"valid":false,"e164":null,"type":null,"region":null,"reason":"too short"}'
if [ "$batch" != "$expected_batch" ]; then
    echo "e2e: validate --batch printed: $batch" >&2
    exit 1
fi
echo "e2e: upload with the customer's curl command, lookup, 401 and validate --batch all as expected"
