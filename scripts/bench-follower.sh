#!/usr/bin/env bash
# Follower benchmark, on loopback with a release build:
#  1. warm start: an organization of CONTACTS contacts (default 1,000,000) imported by the CLI;
#     seconds from `serve` until /health says ok, the first lookup then and a warm one, and the
#     resident memory once warm against the index's own bytes (caller_lookup_index_bytes);
#  2. CLI-import-to-served lag over IMPORTS one-row imports (default 100) into another
#     organization of the running server: from the import command's exit until a lookup finds the
#     new number (p50, p99);
#  3. SIGTERM-to-exit with POLLS long polls pending (default 10, as ten mirrors hold them).
# Usage: scripts/bench-follower.sh [CONTACTS] [IMPORTS] [POLLS]   (needs python3 and curl)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

contacts=${1:-1000000}
imports=${2:-100}
polls=${3:-10}
bin=$(cl_binary release)
cl_tempdir work
port=$(cl_port)

cl_scratch_store "$work/data" Big big benchPassword
cl_scratch_store "$work/data" Lag lag lagPassword
"$bin" generate --rows "$contacts" --seed 14 > "$work/big.csv"
"$bin" import "$work/big.csv" --org Big --data "$work/data" >/dev/null
number=$(sed -n 2p "$work/big.csv" | tr ';' '\n' | grep -m1 '^"*+' | tr -d '"' | tr -d ' ')

# Started without waiting for /health: the time until it answers is the first figure.
cl_start "$work/server.log" "$bin" serve --port "$port" --data "$work/data"
server=$CL_PID
python3 - "$port" "$server" "$number" "$imports" "$bin" "$work" "$polls" "$contacts" <<'PY'
import base64, http.client, os, re, subprocess, sys, time
port, pid, number, imports, binary, work, polls = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6], int(sys.argv[7])
contacts = int(sys.argv[8])
started = time.monotonic()

def get(path, auth=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body

def rss_mb():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

while True:
    try:
        status, body = get("/health")
        if status == 200:
            break
    except OSError:
        pass
    time.sleep(0.01)
ready = time.monotonic() - started
lookup = "/v3/contacts/lookup/" + number.replace("+", "%2B")
t = time.monotonic(); status, _ = get(lookup, "big:benchPassword"); first = time.monotonic() - t
t = time.monotonic(); get(lookup, "big:benchPassword"); warm = time.monotonic() - t
_, metrics = get("/metrics")
index_bytes = float(re.search(rb'\ncaller_lookup_index_bytes ([0-9.e+]+)', metrics).group(1))
print(f"1. warm start, {contacts:,} contacts: ready after {ready:.2f} s; "
      f"first lookup {first * 1000:.2f} ms (status {status}), warm lookup {warm * 1000:.2f} ms")
print(f"   resident {rss_mb():.0f} MB once warm; index bytes {index_bytes / 1e6:.0f} MB")

def resident_by_mapping():
    """Resident MB of the process's mappings, grouped: the main heap, anonymous mappings (thread
    arenas, large blocks, stacks), the binary and its libraries."""
    groups, name = {}, None
    with open(f"/proc/{pid}/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                path = fields[5] if len(fields) > 5 else ""
                name = "heap" if path == "[heap]" else "anonymous" if path == "" else "stack" if path.startswith("[stack") \
                    else "files" if path.startswith("/") else path
            elif fields[0] == "Rss:":
                groups[name] = groups.get(name, 0) + int(fields[1]) / 1024
    return ", ".join(f"{key} {value:.0f}" for key, value in sorted(groups.items(), key=lambda item: -item[1]))
print(f"   resident by mapping (MB): {resident_by_mapping()}")

def percentiles(values, *ps):  # nearest rank: scripts/lib.sh's cl_percentile, as in every bench
    answer = subprocess.run(["bash", "scripts/lib.sh", "percentile", *map(str, ps)], check=True,
                            input="".join("%r\n" % v for v in values), capture_output=True, text=True)
    return [float(v) for v in answer.stdout.split()]

lags = []
for i in range(imports):
    phone = f"+420 601 {i // 1000:03d} {i % 1000:03d}"
    path = os.path.join(work, "one.csv")
    with open(path, "w") as f:
        f.write(f"lastName;phone1\nImport {i};{phone}\n")
    subprocess.run([binary, "import", path, "--org", "Lag", "--data", os.path.join(work, "data")],
                   check=True, stdout=subprocess.DEVNULL)
    done = time.monotonic()
    path = "/v3/contacts/lookup/" + phone.replace(" ", "").replace("+", "%2B")
    while get(path, "lag:lagPassword")[0] != 200:
        if time.monotonic() - done > 10:
            sys.exit(f"import {i} not served after 10 s")
    lags.append((time.monotonic() - done) * 1000)
p50, p99, most = percentiles(lags, 50, 99, 100)
print(f"2. CLI import to served over {imports} imports: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {most:.1f} ms")

_, body = get("/v3/whoami", "big:benchPassword")
version = int(re.search(rb'"version":(\d+)', body).group(1))
waiting = [subprocess.Popen(["curl", "-s", "-o", "/dev/null", "-u", "big:benchPassword",
                             f"http://127.0.0.1:{port}/v3/contacts/changes?since={version}&wait=25"]) for _ in range(polls)]
time.sleep(1)
t = time.monotonic()
os.kill(pid, 15)
while os.path.exists(f"/proc/{pid}") and open(f"/proc/{pid}/status").read().find("State:\tZ") < 0:
    time.sleep(0.005)
exited = time.monotonic() - t
for process in waiting:
    process.wait(timeout=30)
print(f"3. SIGTERM with {polls} long polls pending: exited after {exited * 1000:.0f} ms")
PY
cl_wait "$server" 2>/dev/null || true
