#!/usr/bin/env bash
# End to end: starts the real binary, uploads the customer's sample with the customer's own curl
# command line, looks a caller up, and stops the server. Usage: scripts/e2e.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib.sh
bin=$(cl_binary debug "${1:-}")
cl_tempdir data
port=$(cl_port)
log="$data/serve.log"
# lookup_until URL AUTH NAME ATTEMPTS: the lookup's body once it names NAME, tried every 0.05 s.
lookup_until() {
    local body=""
    for _ in $(seq 1 "$4"); do
        body=$(curl -s -H "Authorization: Basic $2" "$1")
        [[ "$body" == *"\"displayName\":\"$3\""* ]] && break
        sleep 0.05
    done
    printf '%s' "$body"
}

cl_scratch_store "$data"
cl_serve "$log" "$port" --data "$data"
server=$CL_PID

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
batch=$(printf '+420 222 333 444\t\n222 333 444\tCZ\n+42022233\t\r\n+49 800 12345678908\t\n0800 12345678903\tDE\n' \
    | "$bin" validate --batch)
expected_batch='{"valid":true,"e164":"+420222333444","type":"FIXED_LINE","region":"CZ","reason":null,"national":"222 333 444","international":"+420 222 333 444"}
{"valid":true,"e164":"+420222333444","type":"FIXED_LINE","region":"CZ","reason":null,"national":"222 333 444","international":"+420 222 333 444"}
{"valid":false,"e164":null,"type":null,"region":null,"reason":"too short"}
{"valid":true,"e164":"+4980012345678908","type":"TOLL_FREE","region":"DE","reason":null,"national":"0800 12345678908","international":"+49 800 12345678908"}
{"valid":true,"e164":"+4980012345678903","type":"TOLL_FREE","region":"DE","reason":null,"national":"0800 12345678903","international":"+49 800 12345678903"}'
if [ "$batch" != "$expected_batch" ]; then
    echo "e2e: validate --batch printed: $batch" >&2
    exit 1
fi
# Longer than E.164's 15 digits, valid by libphonenumber: the CLI, the validator endpoint.
single=$("$bin" validate +4980012345678907)
if [[ "$single" != valid*'+4980012345678907'*TOLL_FREE* ]]; then
    echo "e2e: validate +4980012345678907 printed: $single" >&2
    exit 1
fi
checked=$(curl -s -H "Authorization: Basic $auth" "http://127.0.0.1:$port/v3/contacts/validator/phone-number/0800%2012345678903?region=DE")
if [[ "$checked" != '{"valid":true'*'"e164":"+4980012345678903"'*'"TOLL_FREE"'* ]]; then
    echo "e2e: the validator answered: $checked" >&2
    exit 1
fi
# The CLI's --json is the route's answer, byte for byte, valid or not, and an invalid number exits 1.
for case in "0222333444 CZ" "222333444 CZ" "222333444 -" "+420%20222%20333 -"; do
    read -r number region <<<"$case"
    cli_number=${number//%20/ }
    query=""
    cli_region=()
    if [ "$region" != - ]; then query="?region=$region"; cli_region=(--region "$region"); fi
    route=$(curl -s -H "Authorization: Basic $auth" "http://127.0.0.1:$port/v3/contacts/validator/phone-number/$number$query")
    status=0
    cli=$("$bin" validate "$cli_number" "${cli_region[@]}" --json) || status=$?
    if [ "$cli" != "$route" ]; then
        echo "e2e: validate $cli_number ${cli_region[*]} --json printed $cli, the route answered $route" >&2
        exit 1
    fi
    if [[ "$route" == '{"valid":true'* ]]; then expected=0; else expected=1; fi
    if [ "$status" != "$expected" ]; then
        echo "e2e: validate $cli_number --json exited $status for $route" >&2
        exit 1
    fi
done
# A CSV import through the CLI keeps them, and a lookup by the national form finds them.
"$bin" org create FREE --default-region DE --data "$data" >/dev/null
printf 'lastName;phone1;phone2\n"Hotline";"+49 800 12345678908";"+4980012345678907"\n' >"$data/free.csv"
imported=$("$bin" import "$data/free.csv" --org FREE --data "$data")
if [[ "$imported" != '{"message":"uploaded","error":"",'* ]]; then
    echo "e2e: the CLI import printed: $imported" >&2
    exit 1
fi
looked=$("$bin" lookup '0800 1234 5678 907' --org FREE --json --data "$data")
if [[ "$looked" != *'"match":"exact"'*'"phone1":"+4980012345678908","phone2":"+4980012345678907"'* ]]; then
    echo "e2e: the CLI lookup printed: $looked" >&2
    exit 1
fi
# The running server serves what the CLI imported (a new organization, then a replacing import).
printf '%s\n' hesloFree1 | "$bin" user add free --org FREE --data "$data" >/dev/null
free_auth=$(printf '%s' 'free:hesloFree1' | base64)
printf 'lastName;phone1\n"Nová linka";"+49 30 901820"\n' >"$data/free2.csv"
"$bin" import "$data/free2.csv" --org FREE --data "$data" >/dev/null
served=$(lookup_until "http://127.0.0.1:$port/v3/contacts/lookup/+4930901820" "$free_auth" "Nová linka" 100)
if [[ "$served" != *'"displayName":"Nová linka"'* ]]; then
    echo "e2e: the server did not serve the CLI import: $served" >&2
    exit 1
fi

# A second server process on the same data directory serves what the first one's REST API wrote.
second_port=$(cl_port)
cl_serve "$data/second.log" "$second_port" --data "$data"
second=$CL_PID
created=$(curl -s -X POST -H "Authorization: Basic $auth" -H 'Content-Type: application/json' \
    -d '{"lastName":"Druhý uzel","phone1":"+420 603 111 222"}' "http://127.0.0.1:$port/v3/contacts")
if [[ "$created" != *'"lastName":"Druhý uzel"'* ]]; then
    echo "e2e: the REST create answered: $created" >&2
    exit 1
fi
beside=$(lookup_until "http://127.0.0.1:$second_port/v3/contacts/lookup/603111222" "$auth" "Druhý uzel" 100)
if [[ "$beside" != *'"displayName":"Druhý uzel"'* ]]; then
    echo "e2e: the second server did not serve the first one's write: $beside (log: $(tail -3 "$data/second.log"))" >&2
    exit 1
fi
cl_stop "$second"

# The screen-pop page through the organization's signed link.
link=$("$bin" org popup-link IPEX --data "$data" --base-url "http://127.0.0.1:$port")
page=$(curl -s -H 'Accept-Language: cs' "${link/\{NUMBER\}/%2B420222333444}")
if [[ "$page" != *'<h1>Jan Novák</h1>'*'Další kontakty s tímto číslem'* ]]; then
    echo "e2e: the popup page answered: ${page:0:300}" >&2
    exit 1
fi

# An access token made with the CLI works on the running server as PBXs send it (the name route,
# ?token=); revoked with the CLI (by the whole token), the running server refuses it within moments.
token=$("$bin" token create --org IPEX --scope lookup --label e2e --data "$data" | tail -1)
name=$(curl -s "http://127.0.0.1:$port/v3/contacts/name/420222333444?token=$token")
[ "$name" = "Jan Novák" ] || { echo "e2e: the name route with a CLI token answered '$name'" >&2; exit 1; }
"$bin" token revoke "$token" --org IPEX --data "$data" >/dev/null
refused=
for _ in $(seq 1 100); do
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v3/contacts/name/420222333444?token=$token")
    [ "$status" = 401 ] && refused=1 && break
    sleep 0.05
done
[ -n "$refused" ] || { echo "e2e: a token revoked by the CLI is still accepted by the running server ($status)" >&2; exit 1; }

# A mirror process follows the API; a REST write reaches it; it keeps answering without the API.
mirror_port=$(cl_port)
CALLER_LOOKUP_PASSWORD=hesloNovak cl_start "$data/mirror.log" "$bin" mirror --from "http://127.0.0.1:$port" --login novak \
    --port "$mirror_port" --snapshot "$data/mirror.snapshot" --wait 2
mirror=$CL_PID
cl_wait_health "$mirror" "$mirror_port" '"status":"ok"'
curl -s -X POST -H "Authorization: Basic $auth" -H 'Content-Type: application/json' \
    -d '{"lastName":"Zrcadlová","phone1":"+420 601 222 333"}' "http://127.0.0.1:$port/v3/contacts" >/dev/null
found=$(lookup_until "http://127.0.0.1:$mirror_port/v3/contacts/lookup/601222333" "$auth" "Zrcadlová" 200)
if [[ "$found" != *'"displayName":"Zrcadlová"'* ]]; then
    echo "e2e: the mirror answered: $found (log: $(tail -3 "$data/mirror.log"))" >&2
    exit 1
fi
# SIGTERM with a long poll pending (as a mirror holds one): the server answers it and exits at once.
version=$(curl -s -H "Authorization: Basic $auth" "http://127.0.0.1:$port/v3/whoami" | sed 's/.*"version":\([0-9]*\).*/\1/')
curl -s -o /dev/null -H "Authorization: Basic $auth" "http://127.0.0.1:$port/v3/contacts/changes?since=$version&wait=25" &
poll=$!
sleep 0.5
stop_started=$(date +%s%N)
cl_stop "$server"
stopped_after_ms=$(( ($(date +%s%N) - stop_started) / 1000000 ))
wait "$poll" 2>/dev/null || true
echo "e2e: SIGTERM with a pending long poll: exited after $stopped_after_ms ms" >&2
if [ "$stopped_after_ms" -gt 2000 ]; then
    echo "e2e: the server took $stopped_after_ms ms to stop with a long poll pending" >&2
    exit 1
fi
still=$(curl -s -H "Authorization: Basic $auth" "http://127.0.0.1:$mirror_port/v3/contacts/lookup/00420222333444")
if [[ "$still" != *'"displayName":"Jan Novák"'* ]]; then
    echo "e2e: with the API down the mirror answered: $still" >&2
    exit 1
fi
# SIGTERM to the mirror (retrying the API meanwhile): it writes its snapshot file and exits at once.
stop_started=$(date +%s%N)
cl_stop "$mirror"
stopped_after_ms=$(( ($(date +%s%N) - stop_started) / 1000000 ))
echo "e2e: SIGTERM to the mirror: exited after $stopped_after_ms ms" >&2
if [ "$stopped_after_ms" -gt 2000 ] || [ ! -s "$data/mirror.snapshot" ]; then
    echo "e2e: the mirror took $stopped_after_ms ms to stop or wrote no snapshot file (log: $(tail -3 "$data/mirror.log"))" >&2
    exit 1
fi

# The command line on a PostgreSQL store (when scripts/test.sh started one): migrate, an
# organization, a user, the customer's sample imported twice (the second changes nothing).
if [ -n "${CALLER_LOOKUP_TEST_POSTGRES_URL:-}" ]; then
    store=$CALLER_LOOKUP_TEST_POSTGRES_URL
    org="E2E-$RANDOM$RANDOM"
    migrated=$("$bin" migrate --store "$store")
    [[ "$migrated" =~ ^schema\ (at|migrated\ from|created\ at)\ version ]] || { echo "e2e: migrate on PostgreSQL: $migrated" >&2; exit 1; }
    again=$("$bin" migrate --store "$store")
    [[ "$again" == *"(nothing to migrate)" ]] || { echo "e2e: a second migrate on PostgreSQL: $again" >&2; exit 1; }
    "$bin" org create "$org" --store "$store" >/dev/null
    printf '%s\n' hesloNovak | "$bin" user add "novak-$org" --org "$org" --store "$store" >/dev/null
    first=$("$bin" import Tests/TestSupport/Fixtures/maximal.csv --org "$org" --store "$store")
    again=$("$bin" import Tests/TestSupport/Fixtures/maximal.csv --org "$org" --store "$store")
    if [[ "$first" != *'"created":2'*'"version":1'* ]] || [[ "$again" != *'"unchanged":2'*'"version":1'* ]]; then
        echo "e2e: import into PostgreSQL: $first / $again" >&2
        exit 1
    fi
    "$bin" org list --store "$store" | grep -q "^$org" || { echo "e2e: org list on PostgreSQL misses $org" >&2; exit 1; }
    echo "e2e: migrate, org create, user add, import (twice) and org list on PostgreSQL as expected" >&2
fi
echo "e2e: upload with the customer's curl command, lookup, 401, validate --batch, 16-digit numbers through the CLI and the validator, the popup link, an access token made and revoked with the CLI, a second server on the same store and a mirror all as expected"
