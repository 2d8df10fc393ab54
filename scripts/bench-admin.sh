#!/usr/bin/env bash
# The admin pages at 100,000 contacts, release build, one run:
#  1. the contacts list: page weight and time to first byte, p50/p99 over 1,000 searches by number
#     (messy forms of stored numbers) and 1,000 by name (stored last names), a signed-in session;
#  2. a 20 MB upload through the upload page's form (what its script sends) against the same file
#     with the customer's curl command to the API, alternating, three rounds each.
# Usage: scripts/bench-admin.sh [CONTACTS] [QUERIES]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

contacts=${1:-100000}
queries=${2:-1000}
bin=$(cl_binary release)
cl_tempdir work
port=$(cl_port)

cl_scratch_store "$work/data"
"$bin" generate --rows "$contacts" --seed 9 >"$work/contacts.csv"
"$bin" import "$work/contacts.csv" --org IPEX --data "$work/data" >/dev/null
# Two files of about 20 MB: each upload replaces every contact the other left.
"$bin" generate --rows 90000 --seed 10 >"$work/a.csv"
"$bin" generate --rows 90000 --seed 11 >"$work/b.csv"
cl_serve "$work/server.log" "$port" --data "$work/data"

/usr/bin/python3 - "$port" "$work/contacts.csv" "$queries" <<'EOF'
import http.client, random, re, statistics, subprocess, sys, time, urllib.parse
port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rows = [line.split(";") for line in open(path, encoding="utf-8").read().splitlines()]
header = rows[0]
phone, last = header.index("phone1"), header.index("lastName")
rows = [row for row in rows[1:] if len(row) == len(header)]
random.seed(7)
connection = http.client.HTTPConnection("127.0.0.1", port)
def get(target, cookie=""):
    connection.request("GET", target, headers={"Cookie": cookie} if cookie else {})
    started = time.perf_counter()
    response = connection.getresponse()
    first = time.perf_counter() - started
    body = response.read()
    return response, first, body
response, _, body = get("/admin/login")
login_cookie = response.getheader("Set-Cookie").split(";")[0]
csrf = re.search(rb'name="csrf" value="([^"]+)"', body).group(1).decode()
form = urllib.parse.urlencode({"csrf": csrf, "login": "novak", "password": "hesloNovak"})
connection.request("POST", "/admin/login", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": login_cookie})
response = connection.getresponse(); response.read()
session = response.getheader("Set-Cookie").split(";")[0]
def messy(number):  # +420601234567 -> 00420 601 234 567
    digits = number.lstrip("+")
    return "00" + digits[:3] + " " + digits[3:6] + " " + digits[6:9] + " " + digits[9:]
def percentiles(values, *ps):  # nearest rank: scripts/lib.sh's cl_percentile, as in every bench
    answer = subprocess.run(["bash", "scripts/lib.sh", "percentile", *map(str, ps)], check=True,
                            input="".join("%r\n" % v for v in values), capture_output=True, text=True)
    return [float(v) for v in answer.stdout.split()]
def measure(name, make):
    times, sizes, found = [], [], 0
    for _ in range(count):
        response, first, body = get("/admin/contacts?q=" + urllib.parse.quote(make(random.choice(rows))), session)
        assert response.status == 200, response.status
        times.append(first * 1000); sizes.append(len(body)); found += b"/admin/contacts/" in body
    p50, p99 = percentiles(times, 50, 99)
    print("  %-9s TTFB p50 %.2f ms, p99 %.2f ms; page %d bytes on average (%d of %d found something)"
          % (name, p50, p99, statistics.mean(sizes), found, count))
print("contacts list at %d contacts, %d searches each:" % (len(rows), count))
measure("by number", lambda row: messy(row[phone].strip('"')))
measure("by name", lambda row: row[last].strip('"'))
response, first, body = get("/admin/contacts", session)
print("  the first page (no search): %d bytes, TTFB %.2f ms" % (len(body), first * 1000))
with open("/tmp/caller-lookup-bench-admin-session", "w") as out:
    out.write(session + "\n" + re.search(rb'name="csrf" value="([^"]+)"', body).group(1).decode())
EOF

session=$(sed -n 1p /tmp/caller-lookup-bench-admin-session)
csrf=$(sed -n 2p /tmp/caller-lookup-bench-admin-session)
rm -f /tmp/caller-lookup-bench-admin-session
echo "20 MB upload ($(stat -c %s "$work/a.csv") and $(stat -c %s "$work/b.csv") bytes, alternating, each replacing every contact), seconds:"
for round in 1 2 3; do
    page=$(curl -s -o "$work/page.html" -w '%{time_total}' -H "Cookie: $session" -F "csrf=$csrf" -F "file=@$work/a.csv" \
        "http://127.0.0.1:$port/admin/upload")
    grep -q 'data-count="imported"' "$work/page.html" || { echo "the page's upload failed" >&2; exit 1; }
    api=$(curl -s -o "$work/api.json" -w '%{time_total}' -u novak:hesloNovak -F "file=@$work/b.csv" \
        "http://127.0.0.1:$port/v3/contacts/upload")
    grep -q '"imported"' "$work/api.json" || { echo "the API's upload failed" >&2; exit 1; }
    echo "  round $round: upload page $page s, curl to the API $api s"
done
