#!/usr/bin/env bash
# The LDAP directory against OpenLDAP's slapd (mdb, equality index on telephoneNumber and mobile),
# the same 100,000 generated contacts in both, the same load client (Benchmarks/ldapbench, libldap)
# in the same run: searches/s and p99 with a kept connection and with a connection per search (as a
# desk phone asks: connect, bind, search, unbind), Yealink's filter `(|(telephoneNumber=%)(mobile=%))`
# with the numbers as stored (+420…), then written 00420… (which slapd, matching strings, cannot find).
# Usage: scripts/bench-ldap.sh [ROWS] [THREADS] [SECONDS]   (release build; installs slapd, ldap-utils, libldap-dev)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

rows=${1:-100000}
threads=${2:-8}
seconds=${3:-10}
bin=$(cl_binary release)
cl_tempdir work
scripts/install-dependencies.sh --slapd
cc -O2 -o "$work/ldapbench" Benchmarks/ldapbench/ldapbench.c -lldap -llber -lpthread

"$bin" generate --rows "$rows" --seed 5 > "$work/contacts.csv"
# The same contacts as inetOrgPerson entries for slapd; the numbers to ask, as stored and as 00….
/usr/bin/python3 - "$work/contacts.csv" "$work/entries.ldif" "$work/numbers" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8"), delimiter=";"))
out = open(sys.argv[2], "w", encoding="utf-8")
numbers = open(sys.argv[3], "w")
out.write("dn: o=Bench\nobjectClass: organization\no: Bench\n\n")
for i, row in enumerate(rows, 1):
    cn = " ".join(x for x in (row.get("firstName"), row.get("lastName")) if x) or row.get("organization") or "x"
    out.write(f"dn: uid={i},o=Bench\nobjectClass: inetOrgPerson\nuid: {i}\ncn: {cn}\nsn: {row.get('lastName') or cn}\n")
    for key in ("phone1", "phone2"):
        if row.get(key):
            out.write(f"telephoneNumber: {row[key]}\n")
    out.write("\n")
    if row.get("phone1"):
        numbers.write(row["phone1"] + "\n")
PY
sed 's/^+/00/' "$work/numbers" > "$work/numbers00"

mkdir -p "$work/slapd"
cat > "$work/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $work/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 4294967296
suffix "o=Bench"
rootdn "cn=admin,o=Bench"
rootpw benchPassword
directory $work/slapd
index telephoneNumber,mobile eq
index objectClass eq
CONF
slapadd -q -f "$work/slapd.conf" -l "$work/entries.ldif"
slapd_port=$(cl_port)
CL_CWD=$work cl_start "$work/slapd.log" slapd -d 0 -f "$work/slapd.conf" -h "ldap://127.0.0.1:$slapd_port/"
for _ in $(seq 100); do ldapsearch -x -H "ldap://127.0.0.1:$slapd_port" -b o=Bench -s base >/dev/null 2>&1 && break; sleep 0.1; done

cl_scratch_store "$work/data" Bench bench benchPassword
"$bin" import "$work/contacts.csv" --org Bench --data "$work/data" >/dev/null
http=$(cl_port) ldap=$(cl_port)
cl_serve "$work/serve.log" "$http" --data "$work/data" --ldap-port "$ldap"

filter='(|(telephoneNumber=%)(mobile=%))'
run() { # NAME URI BINDDN NUMBERS MODE
    printf '%-16s %-8s %-9s %s\n' "$1" "$5" "$(basename "$4")" "$("$work/ldapbench" "$2" "$3" benchPassword o=Bench "$filter" "$4" "$threads" "$seconds" "$5" 2>&1)"
}
echo "$rows contacts, $threads threads, $seconds s each, filter $filter"
for mode in kept perconn; do
    run slapd "ldap://127.0.0.1:$slapd_port" cn=admin,o=Bench "$work/numbers" "$mode"
    run caller-lookup "ldap://127.0.0.1:$ldap" bench "$work/numbers" "$mode"
done
run slapd "ldap://127.0.0.1:$slapd_port" cn=admin,o=Bench "$work/numbers00" kept
run caller-lookup "ldap://127.0.0.1:$ldap" bench "$work/numbers00" kept
