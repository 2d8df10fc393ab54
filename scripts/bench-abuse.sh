#!/usr/bin/env bash
# Abuse benchmark, release build, on loopback, same server, same run:
#  1. failed logins: `wrk -t1 -c8` sends wrong passwords for ever new logins (every request a
#     failed login) while `wrk -t1 -c16 --latency` looks numbers up with verified credentials;
#     prints the failed logins per second the server answered (401 and 429) and the lookups' p99
#     against the same lookups alone;
#  2. the worst uploads: the server's peak resident memory (VmHWM) before and after an upload of
#     20 MB of bad rows (`x;1`, every row rejected), then of 20 MB of short valid rows.
# Usage: scripts/bench-abuse.sh [CONTACTS] [DURATION]   (needs wrk, curl, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

contacts=${1:-100000}
duration=${2:-15s}
cl_need wrk curl python3
bin=$(cl_binary release)
cl_tempdir work
port=$(cl_port)

cl_scratch_store "$work/data" Lookups look lookPassword
"$bin" generate --rows "$contacts" --seed 31 > "$work/contacts.csv"
"$bin" import "$work/contacts.csv" --org Lookups --data "$work/data" >/dev/null
cl_serve "$work/serve.log" "$port" --data "$work/data"
server=$CL_PID

cl_wrk_lookups "$work/contacts.csv" look:lookPassword > "$work/lookup.lua"
# Every request a new login with a wrong password; counts the answers by status.
cat > "$work/attack.lua" <<'LUA'
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function base64(text)
    return ((text:gsub(".", function(c)
        local bits, byte = "", c:byte()
        for i = 8, 1, -1 do bits = bits .. (byte % 2 ^ i - byte % 2 ^ (i - 1) > 0 and "1" or "0") end
        return bits
    end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(bits)
        if #bits < 6 then return "" end
        local value = 0
        for i = 1, 6 do value = value + (bits:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
        return alphabet:sub(value + 1, value + 1)
    end) .. ({ "", "==", "=" })[#text % 3 + 1])
end
local counter = 0
request = function()
    counter = counter + 1
    return wrk.format("GET", "/v3/whoami", { ["Authorization"] = "Basic " .. base64("guess" .. counter .. ":wrong" .. counter) })
end
unauthorized, throttled, other = 0, 0, 0
response = function(status)
    if status == 401 then unauthorized = unauthorized + 1
    elseif status == 429 then throttled = throttled + 1
    else other = other + 1 end
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
done = function(summary)
    local totals = { [401] = 0, [429] = 0, [0] = 0 }
    for _, thread in ipairs(threads) do
        totals[401] = totals[401] + thread:get("unauthorized")
        totals[429] = totals[429] + thread:get("throttled")
        totals[0] = totals[0] + thread:get("other")
    end
    for status, count in pairs(totals) do io.write(string.format("status %d: %d\n", status, count)) end
end
LUA

wrk -t1 -c16 -d"$duration" --latency -s "$work/lookup.lua" "http://127.0.0.1:$port" > "$work/idle.txt"
cl_start "$work/attack.txt" wrk -t1 -c8 -d"$duration" -s "$work/attack.lua" "http://127.0.0.1:$port"
attack=$CL_PID
sleep 0.5
wrk -t1 -c16 -d"$duration" --latency -s "$work/lookup.lua" "http://127.0.0.1:$port" > "$work/busy.txt"
cl_wait "$attack" || true
python3 - "$(cl_wrk_ms 99 "$work/idle.txt")" "$(cl_wrk_ms 99 "$work/busy.txt")" "$work/attack.txt" "$duration" <<'PY'
import re, sys
idle, busy = float(sys.argv[1]), float(sys.argv[2])
attack = open(sys.argv[3]).read()
statuses = {int(s): int(c) for s, c in re.findall(r"status (\d+): (\d+)", attack)}
seconds = float(sys.argv[4].rstrip("s"))
failed = statuses.get(401, 0) + statuses.get(429, 0)
print(f"1. failed logins answered: {failed / seconds:.0f}/s (401: {statuses.get(401, 0)}, 429: {statuses.get(429, 0)}, "
      f"other: {sum(c for s, c in statuses.items() if s not in (401, 429))}); verified lookups p99 {busy:.2f} ms "
      f"during the attack against {idle:.2f} ms alone (ratio {busy / idle:.2f})")
PY

hwm() { awk '/^VmHWM:/ {print int($2 / 1024)}' "/proc/$server/status"; }
auth=$(printf 'look:lookPassword' | base64)
python3 - "$work/bad.csv" "$work/short.csv" <<'PY'
import sys
limit = 20 * 1024 * 1024 - 64
with open(sys.argv[1], "w") as bad:
    bad.write("lastName;phone1\n" + "x;1\n" * ((limit - 16) // 4))
with open(sys.argv[2], "w") as short:
    short.write("lastName;phone1\n")
    size, row = 16, 0
    while True:
        line = f"N{row};+420 601 {row % 1000000:06d}\n"
        if size + len(line) > limit:
            break
        short.write(line)
        size += len(line)
        row += 1
PY
for file in bad short; do
    before=$(hwm)
    answer=$(curl -s -o "$work/$file.answer" -w '%{http_code} %{size_download}' -X POST -H "Content-Type: multipart/form-data" \
        -H "Authorization: Basic $auth" --form "file=@$work/$file.csv" "http://127.0.0.1:$port/v3/contacts/upload")
    echo "2. upload of $(stat -c %s "$work/$file.csv") bytes of $file rows: answer ${answer% *}, ${answer#* } bytes; peak resident $before MB before, $(hwm) MB after"
done
