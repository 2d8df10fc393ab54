#!/usr/bin/env bash
# CRM sync with real processes: Python's http.server as the CRM's export, the CLI adding sources
# beside a running `serve` (whose schedule picks them up), `sync run` by hand (a 304, a Bearer
# token, paged JSON by Link headers, a delete limit that refuses a half-empty export, a timeout), the
# API's /v3/sync, and no secret in a listing, the server's log or the change feed. Every process
# stopped by its PID, on failure too.
# Usage: scripts/sync-test.sh [BINARY]   (part of scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bin=$(cl_binary debug "${1:-}")

cl_tempdir work
http=$(cl_port) crm=$(cl_port)
data=$work/data
cl_scratch_store "$data"
mkdir -p "$work/www/private" "$work/www/slow" "$work/www/pages"
token=crm-token-$RANDOM$RANDOM

fail() {
    cl_say "$*"
    tail -20 "$work/serve.log" >&2
    exit 1
}

# The CRM's export: its own column names, commas, quotes; one row it cannot import.
cat >"$work/www/export.csv" <<'CSV'
Id,Surname,Given name,Mobile Phone,Company
1,Novák,Jan,+420 601 234 567,"IPEX, a.s."
2,Svoboda,Petr,+420601234568,
3,Dvořák,Karel,+420601234569,
4,Broken,Row,12345,
CSV
cp "$work/www/export.csv" "$work/www/private/export.csv"
printf 'Surname;Mobile\nPomalý;+420601234570\n' >"$work/www/slow/export.csv"
printf '[{"id":"p1","name":{"last":"Černá"},"phone":"601 234 571"}]' >"$work/www/pages/1.json"
printf '[{"id":"p2","name":{"last":"Bílá"},"phone":"00420601234572"},{"id":"p3","name":{"last":"Zelená"},"phone":"x"}]' >"$work/www/pages/2.json"

EXPORT_TOKEN=$token EXPORT_DELAY=4 cl_start "$work/crm.log" /usr/bin/python3 scripts/sync/export-server.py "$crm" "$work/www"
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$crm/export.csv" && break; sleep 0.05; done
CALLER_LOOKUP_SYNC_TIMEOUTSECONDS=2 CALLER_LOOKUP_SYNC_RETRIES=1 cl_serve "$work/serve.log" "$http" --data "$data"
api="http://127.0.0.1:$http"
auth=(-u novak:hesloNovak)

# A source added by the CLI beside the running server: its schedule picks it up within moments.
maps=(--map lastName=Surname --map firstName="Given name" --map phone1="Mobile Phone" --map organization=Company)
id=$("$bin" sync add --org IPEX --url "http://127.0.0.1:$crm/export.csv" "${maps[@]}" --every 1m --data "$data" | tail -1)
[[ "$id" =~ ^[0-9]+$ ]] || fail "sync add printed '$id' on its last line, not the id"
for _ in $(seq 300); do
    [ "$(curl -s "${auth[@]}" -o /dev/null -w '%{http_code}' "$api/v3/contacts/lookup/+420601234567")" = 200 ] && break
    sleep 0.1
done
curl -sf "${auth[@]}" "$api/v3/contacts/lookup/+420601234567" | grep -q 'IPEX, a.s.' || fail "the scheduled run never imported the export"
runs=$(curl -sf "${auth[@]}" "$api/v3/sync/$id/runs")
grep -q '"trigger":"schedule"' <<<"$runs" || fail "no scheduled run: $runs"
grep -q 'Error on line number 5 occured' <<<"$runs" || fail "the rejected row is not reported by its line: $runs"
grep -q 'caller-lookup/' "$work/crm.log" || fail "the fetch did not name caller-lookup in its User-Agent"

# By hand: nothing changed since, so the export answers 304 and nothing is imported.
report=$("$bin" sync run "$id" --org IPEX --data "$data")
grep -q '"outcome":"unchanged"' <<<"$report" && grep -q '"httpStatus":304' <<<"$report" || fail "the second run was not a 304: $report"

# A half-empty export is refused: the run exits 1, says why, and every contact stays.
sleep 1
printf 'Id,Surname,Given name,Mobile Phone,Company\n1,Novák,Jan,+420 601 234 567,"IPEX, a.s."\n' >"$work/www/export.csv"
if report=$("$bin" sync run "$id" --org IPEX --data "$data" 2>"$work/run.err"); then fail "a run deleting 2 of 3 contacts succeeded: $report"; fi
grep -q '"outcome":"refused"' <<<"$report" && grep -q 'would delete 2' <<<"$report" || fail "the refusal does not say why: $report"
[ "$(curl -s "${auth[@]}" -o /dev/null -w '%{http_code}' "$api/v3/contacts/lookup/+420601234569")" = 200 ] || fail "a refused run lost a contact"

# A source that needs a Bearer token: refused without it (401, not retried), imported with it; the
# token is never shown again: not by sync list, not by the API, not in the log or the change feed.
private=$("$bin" sync add --org IPEX --url "http://127.0.0.1:$crm/private/export.csv" "${maps[@]}" --mode upsert \
    --map externalId=Id --data "$data" | tail -1)
bare=$("$bin" sync add --org IPEX --url "http://127.0.0.1:$crm/private/export.csv" "${maps[@]}" --data "$data" | tail -1)
if report=$("$bin" sync run "$bare" --org IPEX --data "$data" 2>/dev/null); then fail "a run without the token succeeded"; fi
grep -q '"httpStatus":401' <<<"$report" || fail "no 401 in $report"
"$bin" sync remove "$bare" --org IPEX --data "$data" >/dev/null
curl -sf "${auth[@]}" -H 'Content-Type: application/json' -X DELETE "$api/v3/sync/$private" >/dev/null
private=$(curl -sf "${auth[@]}" -H 'Content-Type: application/json' "$api/v3/sync" -d "{\"url\":\"http://127.0.0.1:$crm/private/export.csv\",
    \"mode\":\"upsert\",\"headers\":{\"Authorization\":\"Bearer $token\"},
    \"mapping\":{\"externalId\":\"Id\",\"lastName\":\"Surname\",\"phone1\":\"Mobile Phone\"}}" | sed -E 's/^\{"id":([0-9]+).*/\1/')
report=$(curl -sf "${auth[@]}" -X POST "$api/v3/sync/$private/run")
grep -q '"outcome":"success"' <<<"$report" && grep -q '"created":3' <<<"$report" || fail "the run with the token: $report"
listing=$("$bin" sync list --org IPEX --data "$data")$(curl -sf "${auth[@]}" "$api/v3/sync")
grep -q 'Bearer \*\*\*' <<<"$listing" || fail "the header is not listed redacted: $listing"
changes=$(curl -sf "${auth[@]}" "$api/v3/contacts/changes?since=0")
for text in "$listing" "$changes" "$(cat "$work/serve.log")"; do
    if grep -q "$token" <<<"$text"; then fail "the source's token leaked"; fi
done

# Paged JSON by Link headers, numbers as typed in CZ; a bad item is reported by its position (3).
json=$("$bin" sync add --org IPEX --url "http://127.0.0.1:$crm/pages/1.json" --format json --mode upsert --region CZ \
    --map externalId='$.id' --map lastName='$.name.last' --map phone1='$.phone' --data "$data" | tail -1)
report=$("$bin" sync run "$json" --org IPEX --data "$data")
grep -q '"pages":2' <<<"$report" && grep -q '"created":2' <<<"$report" || fail "the paged JSON run: $report"
grep -q 'Error on line number 3 occured' <<<"$report" || fail "the bad item is not reported by its position: $report"
for _ in $(seq 100); do
    [ "$(curl -s "${auth[@]}" -o /dev/null -w '%{http_code}' "$api/v3/contacts/lookup/+420601234572")" = 200 ] && break
    sleep 0.1
done
curl -sf "${auth[@]}" "$api/v3/contacts/lookup/+420601234572" | grep -q 'Bílá' || fail "the server does not serve what the CLI's run imported"

# A slow export hits the timeout: the run fails and says so.
slow=$("$bin" sync add --org IPEX --url "http://127.0.0.1:$crm/slow/export.csv" --map lastName=Surname --map phone1=Mobile --data "$data" | tail -1)
if report=$(CALLER_LOOKUP_SYNC_TIMEOUTSECONDS=1 "$bin" sync run "$slow" --org IPEX --data "$data" 2>/dev/null); then fail "the slow run succeeded"; fi
grep -q 'within' <<<"$report" || fail "the timeout is not named: $report"

# Wrong input to the CLI is refused with the reason, and adds nothing.
if "$bin" sync add --org IPEX --url "http://127.0.0.1:$crm/x.csv" --map surname=Surname --data "$data" 2>"$work/err"; then fail "an unknown field was accepted"; fi
grep -q "unknown field 'surname'" "$work/err" || fail "the refusal does not name the field: $(cat "$work/err")"
cl_say "sync: scheduled and by-hand runs, 304, the delete limit, a Bearer token kept secret, paged JSON, a timeout"
