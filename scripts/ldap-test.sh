#!/usr/bin/env bash
# The LDAP directory with real clients: `serve --ldap-port` on loopback, asked by ldapsearch
# (Debian's ldap-utils) and Python's ldap3 with the filters desk phones send (Yealink, Grandstream,
# Snom, FreePBX's Superfecta) in every form of the number; binds by login, DN and token; wrong
# credentials; another organization's base; a size limit; hostile bytes on the socket, after which
# the server still answers. Every process stopped by its PID, on failure too.
# Usage: scripts/ldap-test.sh [BINARY]   (part of scripts/test.sh; installs ldap-utils and python3-ldap3)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bin=$(cl_binary debug "${1:-}")
scripts/install-dependencies.sh --ldap

cl_tempdir work
http=$(cl_port) ldap=$(cl_port) ldaps=$(cl_port)
cl_scratch_store "$work/data"
"$bin" import Tests/TestSupport/Fixtures/maximal.csv --org IPEX --data "$work/data" >/dev/null
token=$("$bin" token create --org IPEX --scope lookup --label Yealink --data "$work/data" | tail -1)
"$bin" org create Jina --default-region CZ --data "$work/data" >/dev/null
# LDAPS with a self-signed certificate for 127.0.0.1.
openssl req -new -x509 -days 1 -nodes -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$work/key.pem" -out "$work/certificate.pem" 2>/dev/null
CALLER_LOOKUP_LDAP_CERTIFICATE=$work/certificate.pem CALLER_LOOKUP_LDAP_KEY=$work/key.pem \
    cl_serve "$work/serve.log" "$http" --data "$work/data" --ldap-port "$ldap" --ldaps-port "$ldaps"
uri="ldap://127.0.0.1:$ldap"

fail() {
    cl_say "$*"
    tail -20 "$work/serve.log" >&2
    exit 1
}

# search BINDDN PASSWORD BASE FILTER [ATTRIBUTES…]: ldapsearch's LDIF, exit status kept.
search() {
    local dn=$1 password=$2 base=$3 filter=$4
    shift 4
    ldapsearch -LLL -x -H "$uri" -D "$dn" -w "$password" -b "$base" -o ldif-wrap=no "$filter" "$@"
}

number=$(sed -n 2p Tests/TestSupport/Fixtures/maximal.csv | awk -F';' '{print $6}' | tr -d '"')
digits=${number//[^0-9]/}
national=${digits:3}
for form in "$number" "+$digits" "00$digits" "$digits" "$national" "${national:0:3} ${national:3:3} ${national:6}" "tel:+$digits"; do
    for filter in "(|(telephoneNumber=$form)(mobile=$form)(ipPhone=$form))" "(|(telephoneNumber=$form)(Mobile=$form))" \
        "(&(telephoneNumber=$form)(sn=*))"; do
        out=$(search novak hesloNovak o=IPEX "$filter" cn telephoneNumber) || fail "ldapsearch $filter: exit $?"
        grep -q '^dn: uid=1,o=IPEX$' <<<"$out" || fail "$filter found nothing: $out"
        # The number as asked comes back byte for byte (3CX, Linphone).
        grep -qxF "telephoneNumber: $form" <<<"$out" || fail "$filter: the asked form is not among the numbers: $out"
    done
done
cl_say "every phone's filter finds the caller in every form"

# Superfecta's suffix filter, a DN bind, a token bind.
search "uid=novak,o=IPEX" hesloNovak o=IPEX "(|(telephoneNumber=*$national)(mobile=*$national)(homeTelephoneNumber=*$national))" dn \
    | grep -q '^dn: uid=1,o=IPEX$' || fail "the suffix filter with a DN bind found nothing"
search token "$token" "" "(telephoneNumber=$number)" dn | grep -q '^dn: uid=1,o=IPEX$' || fail "a token bind found nothing"

# Wrong credentials: 49. Another organization's base: nothing of it. A size limit: 4.
set +e
search novak wrong o=IPEX "(telephoneNumber=$number)" >/dev/null 2>&1
status=$?
[ "$status" -eq 49 ] || fail "a wrong password gave exit $status, not 49 (invalidCredentials)"
out=$(search novak hesloNovak o=Jina "(objectClass=*)" 2>&1)
status=$?
[ "$status" -eq 32 ] || fail "another organization's base gave exit $status, not 32 (noSuchObject): $out"
ldapsearch -LLL -x -H "$uri" -b o=IPEX "(telephoneNumber=$number)" dn >/dev/null 2>&1
status=$?
[ "$status" -eq 50 ] || fail "an anonymous search gave exit $status, not 50 (insufficientAccessRights)"
search novak hesloNovak o=IPEX "(objectClass=*)" dn -z 1 >/dev/null 2>&1
status=$?
[ "$status" -eq 4 ] || fail "a size limit of 1 gave exit $status, not 4 (sizeLimitExceeded)"
set -e
cl_say "wrong credentials, another organization and size limits answered by the rules"

# LDAPS: the same search over TLS, the server's certificate checked.
LDAPTLS_CACERT=$work/certificate.pem ldapsearch -LLL -x -H "ldaps://127.0.0.1:$ldaps" -D novak -w hesloNovak -b o=IPEX \
    "(telephoneNumber=00${digits})" dn | grep -q '^dn: uid=1,o=IPEX$' || fail "an LDAPS search found nothing"
# StartTLS on the plain port (ldapsearch -ZZ insists on it).
LDAPTLS_CACERT=$work/certificate.pem ldapsearch -ZZ -LLL -x -H "$uri" -D novak -w hesloNovak -b o=IPEX \
    "(mobile=$national)" dn | grep -q '^dn: uid=1,o=IPEX$' || fail "a search after StartTLS found nothing"
cl_say "LDAPS and StartTLS answer with the configured certificate"

# Python's ldap3, as a 3CX or Linphone would: bind, search by number, unbind.
/usr/bin/python3 - "$ldap" "$number" <<'PY' || fail "ldap3 failed"
import sys
import ldap3
port, number = int(sys.argv[1]), sys.argv[2]
server = ldap3.Server("127.0.0.1", port=port, get_info=ldap3.NONE)
connection = ldap3.Connection(server, user="novak", password="hesloNovak", auto_bind=True)
connection.search("o=IPEX", f"(|(telephoneNumber={number})(mobile={number}))", attributes=["cn", "telephoneNumber", "mail"])
# The sample holds two contacts with this number.
assert [entry.entry_dn for entry in connection.entries] == ["uid=1,o=IPEX", "uid=2,o=IPEX"], connection.entries
assert all(number in entry.telephoneNumber.values for entry in connection.entries), connection.entries
bad = ldap3.Connection(server, user="uid=novak,o=IPEX", password="wrong")
assert not bad.bind() and bad.result["result"] == 49, bad.result
connection.unbind()
PY
cl_say "ldap3 binds, finds the caller and is refused a wrong password"

# Hostile bytes: HTTP on the LDAP port, an absurd length, a truncated message. Each connection is
# closed; the server keeps answering.
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | timeout 5 bash -c "cat > /dev/tcp/127.0.0.1/$ldap" || true
printf '\x30\x84\x7f\xff\xff\xff' | timeout 5 bash -c "cat > /dev/tcp/127.0.0.1/$ldap" || true
printf '\x30\x05\x02\x01' | timeout 5 bash -c "cat > /dev/tcp/127.0.0.1/$ldap" || true
# A mirror serves the same directory from its own index, with the API's credentials.
mirror_http=$(cl_port) mirror_ldap=$(cl_port)
CALLER_LOOKUP_PASSWORD=hesloNovak cl_start "$work/mirror.log" "$bin" mirror --from "http://127.0.0.1:$http" --login novak \
    --port "$mirror_http" --ldap-port "$mirror_ldap" --wait 2
cl_wait_health "$CL_PID" "$mirror_http" '"status":"ok"'
ldapsearch -LLL -x -H "ldap://127.0.0.1:$mirror_ldap" -D token -w "$token" -b o=IPEX "(mobile=$national)" dn \
    | grep -q '^dn: uid=1,o=IPEX$' || fail "the mirror's directory found nothing (log: $(tail -3 "$work/mirror.log"))"
cl_say "a mirror answers LDAP too"

# A flood of connections from one address: beyond 256 each new one is told busy and closed.
/usr/bin/python3 - "$ldap" <<'PY' || fail "the connection limit did not hold"
import socket, sys, time
port = int(sys.argv[1])
connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(300)]
time.sleep(2)
refused = 0
for connection in connections:
    connection.setblocking(False)
    try:
        data = connection.recv(4096)
    except BlockingIOError:
        continue  # open, waiting for a request
    assert data.startswith(b"\x30") and b"1.3.6.1.4.1.1466.20036" in data, data
    refused += 1
# 256 held open (a connection of an earlier step may still be counted for a moment).
assert 44 <= refused <= 50, f"{refused} of 300 refused"
for connection in connections:
    connection.close()
PY
sleep 0.5
search novak hesloNovak o=IPEX "(telephoneNumber=$number)" dn | grep -q '^dn: uid=1,o=IPEX$' || fail "the server stopped answering after hostile bytes"
kill -0 "$CL_PID" 2>/dev/null || fail "the server died"
cl_say "passed"
