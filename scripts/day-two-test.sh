#!/usr/bin/env bash
# Day two from the command line, against the real binary beside a running server: a user's role
# changed, a forgotten password reset (the old one refused at once, the new one let in), a user
# removed, the last admin kept, passwords of 9 characters or the login refused; `migrate` saying
# where the schema is; a store without an organization served with a warning; the configuration found by
# --config and CALLER_LOOKUP_CONFIG and said at start, whatever the working directory; a mirror
# listening where its configuration says. Usage: scripts/day-two-test.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bin=$(realpath "$(cl_binary debug "${1:-}")")
cl_tempdir work
data=$work/data
port=$(cl_port)
api="http://127.0.0.1:$port"
fail() { cl_die "$*"; }
# status LOGIN PASSWORD: the HTTP status of whoami with those credentials.
status() { curl -s -o /dev/null -w '%{http_code}' -u "$1:$2" "$api/v3/whoami"; }
# eventually LOGIN PASSWORD STATUS: until whoami answers STATUS (the server follows the store).
eventually() {
    for _ in $(seq 1 100); do [ "$(status "$1" "$2")" = "$3" ] && return 0; sleep 0.05; done
    fail "$1 got $(status "$1" "$2"), not $3, within 5 s"
}

cl_scratch_store "$data"
printf '%s\n' hesloRitaR | "$bin" user add rita --org IPEX --role editor --data "$data" >/dev/null
# The configuration by CALLER_LOOKUP_CONFIG, started from another directory: its port is used and
# the first line of the log names the file.
printf '{"http": {"port": %d}}\n' "$port" >"$work/caller-lookup.json"
CL_CWD=/ CALLER_LOOKUP_CONFIG=$work/caller-lookup.json cl_start "$work/serve.log" "$bin" serve --data "$data"
server_pid=$CL_PID
cl_wait_health "$CL_PID" "$port"
grep -q "^configuration: $work/caller-lookup.json" "$work/serve.log" || fail "serve did not say which configuration it read: $(head -2 "$work/serve.log")"
[ "$(status novak hesloNovak)" = 200 ] && [ "$(status rita hesloRitaR)" = 200 ] || fail "the users cannot sign in"

# The export round trip: generated contacts (every column, quotes, the Uri columns) exported by
# the command line and by the API (the same bytes), imported again: every row unchanged.
"$bin" generate --rows 500 --seed 32 >"$work/generated.csv"
first=$("$bin" import "$work/generated.csv" --org IPEX --data "$data")
[[ "$first" == *'"imported":500,'* ]] || fail "the generated file imported: ${first:0:200}"
"$bin" export --org IPEX --data "$data" >"$work/export.csv" 2>"$work/export.err"
grep -q "exported 500 contacts of 'IPEX'" "$work/export.err" || fail "export said: $(cat "$work/export.err")"
[ "$(head -1 "$work/export.csv")" = "$(head -1 "$work/generated.csv")" ] || fail "the export's header is not the upload's"
curl -sf -u novak:hesloNovak "$api/v3/contacts/export" >"$work/export-api.csv" || fail "GET /v3/contacts/export failed"
cmp -s "$work/export.csv" "$work/export-api.csv" || fail "the API's export differs from the command line's"
again=$("$bin" import "$work/export.csv" --org IPEX --data "$data")
[[ "$again" == *'"imported":500'*'"created":0,"updated":0,"deleted":0,"unchanged":500'* ]] || fail "the export imported again: $again"
printf '%s\n' hesloCtenar1 | "$bin" user add ctenar --org IPEX --role reader --data "$data" >/dev/null
[ "$(curl -s -o /dev/null -w '%{http_code}' -u ctenar:hesloCtenar1 "$api/v3/contacts/export")" = 403 ] || fail "a reader may export"

# A role changed from the command line.
out=$("$bin" user role rita --org IPEX --role admin --data "$data")
[ "$out" = "'rita' in 'IPEX' is now admin" ] || fail "user role printed: $out"
"$bin" user list --org IPEX --data "$data" | grep -q "^rita	admin$" || fail "user list does not show rita as admin"

# A forgotten password reset: the old one refused at once on the running server, the new one in.
out=$(printf '%s\n' noveHesloNovak | "$bin" user password novak --org IPEX --data "$data")
[[ "$out" == "password of 'novak' in 'IPEX' changed; their sessions ended" ]] || fail "user password printed: $out"
eventually novak hesloNovak 401
[ "$(status novak noveHesloNovak)" = 200 ] || fail "the new password is refused"
if printf '' | "$bin" user password novak --org IPEX --data "$data" 2>"$work/err"; then fail "an empty password was taken"; fi
grep -q "No password on standard input" "$work/err" || fail "an empty password: $(cat "$work/err")"
# The password rule: 9 characters, or the login itself, are refused by user add and user password.
if printf '%s\n' hesloPetr | "$bin" user add petr --org IPEX --data "$data" 2>"$work/err"; then fail "a 9-character password was taken"; fi
grep -q "at least 10 characters; this one has 9" "$work/err" || fail "a 9-character password: $(cat "$work/err")"
if printf '%s\n' Dispecink01 | "$bin" user add dispecink01 --org IPEX --data "$data" 2>"$work/err"; then fail "the login as password was taken"; fi
grep -q "must not be the login" "$work/err" || fail "the login as password: $(cat "$work/err")"
if printf '%s\n' hesloNov9 | "$bin" user password novak --org IPEX --data "$data" 2>"$work/err"; then fail "a 9-character new password was taken"; fi
grep -q "at least 10 characters" "$work/err" || fail "a 9-character new password: $(cat "$work/err")"
[ "$(status novak noveHesloNovak)" = 200 ] || fail "a refused new password changed novak's"

# A user removed, then the last admin kept.
out=$("$bin" user remove rita --org IPEX --data "$data")
[ "$out" = "removed 'rita' from 'IPEX'" ] || fail "user remove printed: $out"
eventually rita hesloRitaR 401
if "$bin" user role novak --org IPEX --role reader --data "$data" 2>"$work/err"; then fail "the last admin was demoted"; fi
grep -q "last admin" "$work/err" || fail "demoting the last admin: $(cat "$work/err")"
if "$bin" user remove novak --org IPEX --data "$data" 2>"$work/err"; then fail "the last admin was removed"; fi
grep -q "last admin" "$work/err" || fail "removing the last admin: $(cat "$work/err")"
if "$bin" user remove nikdo --org IPEX --data "$data" 2>"$work/err"; then fail "an unknown user was removed"; fi
grep -q "no user 'nikdo'" "$work/err" || fail "removing an unknown user: $(cat "$work/err")"
[ "$(status novak noveHesloNovak)" = 200 ] || fail "novak lost access"

# An organization's settings changed beside the running server: it rebuilds the index and reads
# numbers by the new region. 0905 123 456 is a Slovak mobile: under CZ with 12 suffix digits it
# is no one; under SK it is the contact.
printf 'lastName;phone1\nSlovák;+421 905 123 456\n' >"$work/sk.csv"
"$bin" import "$work/sk.csv" --org IPEX --data "$data" >/dev/null
lookup() { curl -s -o /dev/null -w '%{http_code}' -u novak:noveHesloNovak "$api/v3/contacts/lookup/$1"; }
out=$("$bin" org set IPEX --suffix-digits 12 --data "$data")
[ "$out" = "organization 'IPEX': suffix digits 9 → 12; serving nodes rebuild its index" ] || fail "org set printed: $out"
for _ in $(seq 1 100); do [ "$(lookup 0905123456)" = 404 ] && break; sleep 0.05; done
[ "$(lookup 0905123456)" = 404 ] || fail "0905123456 found under CZ with 12 suffix digits"
out=$("$bin" org set IPEX --default-region sk --data "$data")
[ "$out" = "organization 'IPEX': default region CZ → SK; serving nodes rebuild its index" ] || fail "org set printed: $out"
for _ in $(seq 1 100); do [ "$(lookup 0905123456)" = 200 ] && break; sleep 0.05; done
[ "$(lookup 0905123456)" = 200 ] || fail "the server does not read numbers by the new region"
"$bin" org list --data "$data" | grep -q "^IPEX	region=SK" || fail "org list: $("$bin" org list --data "$data")"
if "$bin" org set IPEX --default-region XX --data "$data" 2>"$work/err"; then fail "an unknown region was taken"; fi
grep -q "'XX' is not a region" "$work/err" || fail "an unknown region: $(cat "$work/err")"
if "$bin" org set IPEX --data "$data" 2>/dev/null; then fail "org set without a setting ran"; fi
# The same through the API, by an admin; a reader may not.
answer=$(curl -s -u novak:noveHesloNovak -X PATCH -H 'Content-Type: application/json' -d '{"defaultRegion":"cz","suffixDigits":9}' "$api/v3/organization")
[[ "$answer" == *'"defaultRegion":"CZ","suffixDigits":9,'* ]] || fail "PATCH /v3/organization answered: $answer"
[ "$(lookup 0905123456)" = 200 ] || fail "back under CZ with 9 suffix digits, the suffix match does not find the contact"
status=$(curl -s -o /dev/null -w '%{http_code}' -u ctenar:hesloCtenar1 -X PATCH -H 'Content-Type: application/json' -d '{"suffixDigits":8}' "$api/v3/organization")
[ "$status" = 403 ] || fail "a reader changed the organization: $status"

# lookup --json answers as the lookup route does, the organization's labels with it.
"$bin" org labels IPEX --set customField1=Důležitost --data "$data" >/dev/null
looked=$("$bin" lookup +421905123456 --org IPEX --json --data "$data")
[[ "$looked" == *'"labels":{"customField1":"Důležitost"}'*'"lastName":"Slovák"'* ]] || fail "lookup --json printed: ${looked:0:300}"

# migrate says where the schema is.
out=$("$bin" migrate --data "$data")
[[ "$out" == "schema at version "*" (nothing to migrate)" ]] || fail "migrate printed: $out"

# A mirror listens where its configuration says (http.port), given by --config.
mirror_port=$(cl_port)
printf '{"http": {"port": %d}}\n' "$mirror_port" >"$work/mirror.json"
CALLER_LOOKUP_PASSWORD=noveHesloNovak cl_start "$work/mirror.log" "$bin" mirror --from "$api" --login novak --config "$work/mirror.json"
cl_wait_health "$CL_PID" "$mirror_port"
grep -q "^configuration: $work/mirror.json" "$work/mirror.log" || fail "the mirror did not say which configuration it read"
# A --config that does not exist is an error, not the defaults.
if "$bin" serve --config "$work/missing.json" --data "$data" --port "$(cl_port)" 2>"$work/err"; then fail "serve ran without its configuration file"; fi
grep -q "does not exist" "$work/err" || fail "a missing --config: $(cat "$work/err")"
# serve on a directory without a store (a mistyped --data) refuses to start and says how to make
# one; it creates nothing there.
if "$bin" serve --port "$(cl_port)" --data "$work/dta" 2>"$work/err"; then fail "serve ran on a directory without a store"; fi
grep -q "There is no store in '$work/dta': make one with caller-lookup org create" "$work/err" || fail "serve without a store: $(cat "$work/err")"
[ ! -e "$work/dta" ] || fail "serve created '$work/dta'"
mkdir -m 700 "$work/empty"
if "$bin" serve --port "$(cl_port)" --data "$work/empty" 2>"$work/err"; then fail "serve ran on an empty directory"; fi
grep -q "There is no store in '$work/empty'" "$work/err" || fail "serve on an empty directory: $(cat "$work/err")"
[ -z "$(ls -A "$work/empty")" ] || fail "serve wrote into an empty directory: $(ls -A "$work/empty")"
# A store without an organization (migrate made it) is served, with a warning that says how to go
# on; an organization and a user created beside it are served at once.
"$bin" migrate --data "$work/bare" >/dev/null
bare_port=$(cl_port)
cl_start "$work/bare.log" "$bin" serve --port "$bare_port" --data "$work/bare"
bare_pid=$CL_PID
cl_wait_health "$bare_pid" "$bare_port"
grep -q "warning: the store has no organization yet" "$work/bare.log" || fail "serve on a store without an organization said: $(cat "$work/bare.log")"
"$bin" org create BARE --data "$work/bare" >/dev/null
printf '%s\n' hesloBare12 | "$bin" user add bare --org BARE --data "$work/bare" >/dev/null
for _ in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -u bare:hesloBare12 "http://127.0.0.1:$bare_port/v3/whoami")" = 200 ] && break
    sleep 0.05
done
[ "$(curl -s -o /dev/null -w '%{http_code}' -u bare:hesloBare12 "http://127.0.0.1:$bare_port/v3/whoami")" = 200 ] || fail "an organization created beside the server is not served"
cl_stop "$bare_pid"
# A mirror keeps the phones that use tokens through an outage of its API, across its own restart,
# but never a token revoked before the outage — even one nobody presented since the revocation.
kept=$("$bin" token create --org IPEX --scope lookup --label "PBX" --data "$data" | tail -1)
gone=$("$bin" token create --org IPEX --scope lookup --label "old PBX" --data "$data" | tail -1)
gone_id=$("$bin" token list --org IPEX --data "$data" | awk -F'\t' '$6 == "old PBX" { print $1 }')
snap_port=$(cl_port)
mirror_name() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:$snap_port/v3/contacts/name/+421905123456"; }
start_snapshot_mirror() {
    CALLER_LOOKUP_PASSWORD=noveHesloNovak CALLER_LOOKUP_AUTH_CACHESECONDS=1 cl_start "$work/snap-mirror.log" "$bin" mirror --from "$api" \
        --login novak --port "$snap_port" --snapshot "$work/mirror.snapshot" --wait 5
    snap_pid=$CL_PID
    cl_wait_health "$snap_pid" "$snap_port"
}
start_snapshot_mirror
[ "$(mirror_name "$kept")" = 200 ] && [ "$(mirror_name "$gone")" = 200 ] || fail "the mirror does not answer the tokens"
"$bin" token revoke "$gone_id" --org IPEX --data "$data" >/dev/null
# The revocation reaches the API node within moments and the mirror at once (its long poll is
# answered); the phone with the kept token calls again after auth.cacheseconds and is verified.
sleep 1.5
[ "$(mirror_name "$kept")" = 200 ] || fail "the kept token after the revocation: $(mirror_name "$kept")"
cl_stop "$snap_pid"
cl_stop "$server_pid"
[ "$(stat -c %a "$work/mirror.snapshot")" = 600 ] || fail "the mirror's file is mode $(stat -c %a "$work/mirror.snapshot")"
! grep -qF "$kept" "$work/mirror.snapshot" || fail "the mirror's file holds a token"
CALLER_LOOKUP_PASSWORD=noveHesloNovak cl_start "$work/snap-mirror.log" "$bin" mirror --from "$api" \
    --login novak --port "$snap_port" --snapshot "$work/mirror.snapshot"
snap_pid=$CL_PID
cl_wait_health "$snap_pid" "$snap_port" '"status":"degraded"'
[ "$(mirror_name "$kept")" = 200 ] || fail "restarted with its API down, the mirror answered $(mirror_name "$kept") to a token it had verified"
[ "$(mirror_name "$gone")" = 503 ] || fail "restarted with its API down, the mirror answered $(mirror_name "$gone") to a token revoked before"
cl_stop "$snap_pid"

# PostgreSQL faults each named (when scripts/test.sh started a PostgreSQL): a closed port, a
# database that does not exist, a certificate that cannot be verified.
if [ -n "${CALLER_LOOKUP_TEST_POSTGRES_URL:-}" ]; then
    pg=$CALLER_LOOKUP_TEST_POSTGRES_URL
    closed=$(cl_port)
    fault() {
        if "$bin" migrate --store "$1" 2>"$work/err" >/dev/null; then fail "migrate on $1 succeeded"; fi
        grep -qF "$2" "$work/err" || fail "migrate on $1 said: $(cat "$work/err")"
    }
    fault "postgres://postgres@127.0.0.1:$closed/callerlookup" "nothing accepts connections at 127.0.0.1:$closed (connection refused)"
    fault "${pg%/*}/no_such_database" "the database 'no_such_database' does not exist"
    fault "$pg?sslmode=verify-full" "the server's certificate cannot be verified: add &sslrootcert=FILE"
    pg_checked=", PostgreSQL's faults named"
fi
echo "day-two-test: serve without a store refused, a store without an organization served with a warning${pg_checked:-}, passwords of 9 characters or the login refused, lookup --json with the labels, a mirror restarted with its API down answering a token it verified and not one revoked before, org set served at once, export by the CLI and the API imported again unchanged, user role, password and remove beside a running server, the last admin kept, migrate, the configuration by --config and CALLER_LOOKUP_CONFIG, and a mirror's port from its file"
