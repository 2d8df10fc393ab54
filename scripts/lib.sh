# shellcheck shell=bash
# What every script that runs caller-lookup shares: the binary, free ports, a scratch store, servers
# started in the background and stopped by their PID, and one percentile formula. Sourced after the
# script's own `set -euo pipefail` and `cd` to the repository root:
#
#     set -euo pipefail
#     cd "$(dirname "$0")/.."
#     source scripts/lib.sh
#
# Sourcing it registers cl_cleanup on EXIT, so a script that sources it sets no EXIT trap of its own:
# it hands its processes to cl_start / cl_track and its other clean-up to cl_tempdir / cl_on_exit.
#
#   cl_binary [--fresh] debug|release|any [PATH]   path of the caller-lookup binary (built if missing)
#   cl_need COMMAND…                               installs the Debian package of a missing command
#   cl_port                                        a free loopback port
#   cl_tempdir VAR                                 a scratch directory in VAR, removed on exit
#   cl_scratch_store DIR [ORG [LOGIN [PASSWORD]]]  a 0700 data directory: an organization, its admin
#   cl_start LOG COMMAND [ARGS…]                   a background process, logged, stopped on exit
#   cl_serve LOG PORT [SERVE_ARGS…]                `caller-lookup serve`, returns once /health answers
#   cl_wait_health PID PORT [TEXT]                 waits for /health; fails with the log's tail
#   cl_stop PID [SIGNAL], cl_wait PID              ends a process / waits for its end, and forgets it
#   cl_track PID…, cl_forget PID…, cl_detach       what cl_cleanup stops
#   cl_kill [-SIGNAL] PID…                         a signal, CL_GRACE seconds, then SIGKILL
#   cl_on_exit COMMAND [ARGS…]                     runs at exit (last registered first)
#   cl_cleanup                                     the EXIT trap
#   cl_percentile P… < NUMBERS                     nearest-rank percentiles: the one formula
#   cl_wrk_ms P FILE                               the P% latency of a `wrk --latency` report, in ms
#   cl_wrk_lookups CSV LOGIN:PASSWORD              a wrk Lua script looking up a generated file's numbers
#   cl_say TEXT…, cl_die TEXT…                     a message (and exit 1) prefixed with the script's name
#
# Settings (environment): CALLER_LOOKUP_BIN (a binary to use as it is, never built),
# CL_HEALTH_TIMEOUT (whole seconds cl_wait_health waits, default 60), CL_GRACE (whole seconds cl_kill
# waits before SIGKILL, default 30), CL_CWD (the directory cl_start runs its command in).
#
# Run rather than sourced, it calls one function, for programs that are not bash:
#   bash scripts/lib.sh percentile 50 99 < NUMBERS

CL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CL_NAME=$(basename "$0" .sh)
CL_PIDS=()              # what cl_cleanup stops
CL_EXIT=()              # what cl_cleanup runs, each a quoted command line
declare -gA CL_LOGS=()   # PID → its log, for cl_wait_health's message
declare -gA CL_WHAT=()   # PID → what it runs ("caller-lookup serve"), likewise
# The ports cl_port handed out in this run (cl_port runs in $(…): a file, not a variable; $$ is the
# script's PID in its subshells too).
CL_PORTS_FILE=${TMPDIR:-/tmp}/caller-lookup-ports.$$

# cl_say TEXT…: TEXT on standard error, after the script's name ("e2e: …").
cl_say() { printf '%s: %s\n' "$CL_NAME" "$*" >&2; }

# cl_die TEXT…: cl_say, then exit 1 (cl_cleanup stops what was started).
cl_die() {
    cl_say "$@"
    exit 1
}

# cl_binary [--fresh] debug|release|any [PATH]: prints the path of the caller-lookup binary to run.
# PATH (a script's BINARY argument) when given, else $CALLER_LOOKUP_BIN when set — either is used as
# it is, never built; else .build/CONFIG/caller-lookup, built (swift build, output on standard error)
# when it is missing, or every time with --fresh. `any` is the release build when there is one, else
# the debug build. Fails when the binary is not executable.
cl_binary() {
    local fresh="" config path
    if [ "${1:-}" = --fresh ]; then
        fresh=1
        shift
    fi
    config=${1:?cl_binary: debug, release or any}
    path=${2:-${CALLER_LOOKUP_BIN:-}}
    if [ -z "$path" ]; then
        if [ "$config" = any ]; then
            config=debug
            if [ -x "$CL_ROOT/.build/release/caller-lookup" ]; then config=release; fi
        fi
        path=$CL_ROOT/.build/$config/caller-lookup
        if [ -n "$fresh" ] || [ ! -x "$path" ]; then
            (cd "$CL_ROOT" && swift build -c "$config" --product caller-lookup >&2) || cl_die "swift build -c $config failed"
        fi
    fi
    [ -x "$path" ] || cl_die "no caller-lookup binary at $path"
    printf '%s\n' "$path"
}

# cl_need COMMAND…: what the script runs besides caller-lookup (wrk, curl, python3, sqlite3: each
# command is its Debian package's name); installs those missing with apt-get, saying so.
cl_need() {
    local command
    for command in "$@"; do
        command -v "$command" >/dev/null && continue
        cl_say "installing $command"
        apt-get install -y -qq "$command" >/dev/null || cl_die "could not install $command"
    done
}

# cl_port: prints a TCP port on 127.0.0.1 that nothing listens on and that this run has not handed
# out before, from 20000–31999: high, and below Linux's ephemeral range (32768–60999), so that no
# client connection takes it before the server binds it.
cl_port() {
    local port _
    for _ in $(seq 1 500); do
        port=$((20000 + RANDOM % 12000))
        grep -qsx "$port" "$CL_PORTS_FILE" && continue
        # Connecting succeeds only when something listens.
        if ! (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port" >>"$CL_PORTS_FILE"
            echo "$port"
            return 0
        fi
    done
    cl_die "no free port in 20000–31999"
}

# cl_tempdir VAR: makes a scratch directory (mktemp -d, mode 0700), stores its path in the variable
# VAR and removes it on exit.
cl_tempdir() {
    local cl_made  # not a name a script passes: printf -v would set this local one
    cl_made=$(mktemp -d)
    printf -v "$1" '%s' "$cl_made"
    cl_on_exit rm -rf "$cl_made"
}

# cl_scratch_store DIR [ORG [LOGIN [PASSWORD]]]: a SQLite data directory DIR (made, mode 0700) with
# the organization ORG (default IPEX, region CZ) and its admin user LOGIN (default novak) with
# PASSWORD (default hesloNovak), made by the CLI ($bin). An empty LOGIN makes no user.
cl_scratch_store() {
    local dir=$1 org=${2:-IPEX} login=${3-novak} password=${4:-hesloNovak}
    : "${bin:?cl_scratch_store: set bin (cl_binary) first}"
    mkdir -p "$dir"
    chmod 700 "$dir"
    "$bin" org create "$org" --default-region CZ --data "$dir" >/dev/null
    if [ -n "$login" ]; then
        printf '%s\n' "$password" | "$bin" user add "$login" --org "$org" --data "$dir" >/dev/null
    fi
}

# cl_start LOG COMMAND [ARGS…]: runs COMMAND in the background (in CL_CWD when set), its output and
# errors in LOG (made anew), sets CL_PID to its PID and remembers it for cl_cleanup. Environment
# assignments before cl_start reach COMMAND: `CALLER_LOOKUP_TOKEN=… cl_start log "$bin" mirror …`.
cl_start() {
    local log=$1
    shift
    (cd "${CL_CWD:-.}" && exec "$@") >"$log" 2>&1 &
    CL_PID=$!
    CL_PIDS+=("$CL_PID")
    CL_LOGS[$CL_PID]=$log
    CL_WHAT[$CL_PID]=${1##*/}
    if [[ "${2:-}" =~ ^[a-z] ]]; then CL_WHAT[$CL_PID]+=" $2"; fi
}

# cl_serve LOG PORT [SERVE_ARGS…]: `$bin serve --port PORT SERVE_ARGS…` with cl_start (CL_PID is its
# PID), then cl_wait_health: returns once its /health answers, fails if it never does.
cl_serve() {
    local log=$1 port=$2
    shift 2
    : "${bin:?cl_serve: set bin (cl_binary) first}"
    cl_start "$log" "$bin" serve --port "$port" "$@"
    cl_wait_health "$CL_PID" "$port"
}

# cl_wait_health PID PORT [TEXT]: waits until http://127.0.0.1:PORT/health answers 2xx — with TEXT,
# until its answer (whatever the status) contains TEXT — polling every 0.05 s. Fails, with the last
# lines of PID's log, when the process PID exits first or CL_HEALTH_TIMEOUT seconds (default 60) pass.
cl_wait_health() {
    local pid=$1 port=$2 text=${3:-} url="http://127.0.0.1:$2/health" seconds=${CL_HEALTH_TIMEOUT:-60}
    local body status=0 i
    for ((i = 0; i < seconds * 20; i++)); do
        if [ -z "$text" ]; then
            curl -sf -m 5 -o /dev/null "$url" 2>/dev/null && cl_alive "$pid" && return 0
        else
            body=$(curl -s -m 5 "$url" 2>/dev/null || true)
            [[ "$body" == *"$text"* ]] && cl_alive "$pid" && return 0
        fi
        if ! cl_alive "$pid"; then
            wait "$pid" 2>/dev/null || status=$?
            cl_health_failed "$pid" "exited (status $status) before $url answered${text:+ with $text}"
        fi
        sleep 0.05
    done
    cl_health_failed "$pid" "did not answer $url${text:+ with $text} within $seconds s"
}

# cl_health_failed PID WHAT: cl_wait_health's failure: the message, the log's last 20 lines, exit 1.
cl_health_failed() {
    local log=${CL_LOGS[$1]:-}
    cl_say "${CL_WHAT[$1]:-process} (PID $1${log:+, log $log}) $2"
    if [ -n "$log" ] && [ -f "$log" ]; then
        echo "--- the last lines of $log:" >&2
        tail -20 "$log" >&2
    fi
    exit 1
}

# cl_alive PID: true while the process runs (a zombie does not count).
cl_alive() {
    local stat state
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    state=${stat##*) }
    state=${state%% *}
    [ "$state" != Z ] && [ "$state" != X ]
}

# cl_kill [-SIGNAL] PID…: sends SIGNAL (default TERM) to every PID, waits up to CL_GRACE seconds
# (default 30) until all have exited, sends SIGKILL to those left, and reaps those that are this
# shell's children.
cl_kill() {
    local signal=TERM pid left i
    case "${1:-}" in -*) signal=${1#-} && shift ;; esac
    [ $# -gt 0 ] || return 0
    for pid in "$@"; do kill "-$signal" "$pid" 2>/dev/null || true; done
    for ((i = 0; ; i++)); do
        left=()
        for pid in "$@"; do cl_alive "$pid" && left+=("$pid"); done
        [ ${#left[@]} -gt 0 ] || break
        if [ "$i" -ge $((${CL_GRACE:-30} * 50)) ]; then
            kill -KILL "${left[@]}" 2>/dev/null || true
            break
        fi
        sleep 0.02
    done
    for pid in "$@"; do wait "$pid" 2>/dev/null || true; done
}

# cl_stop PID [SIGNAL]: cl_kill's SIGNAL (default TERM) to one process started with cl_start; returns
# once it has exited, and forgets it.
cl_stop() {
    cl_kill "-${2:-TERM}" "$1"
    cl_forget "$1"
}

# cl_wait PID: waits until a process this shell started ends by itself, forgets it and returns its
# exit status.
cl_wait() {
    local status=0
    wait "$1" || status=$?
    cl_forget "$1"
    return "$status"
}

# cl_track PID…: processes started some other way (`… & cl_track $!`), for cl_cleanup to stop.
cl_track() { CL_PIDS+=("$@"); }

# cl_forget PID…: cl_cleanup leaves them alone (they ended, or the script ended them itself).
cl_forget() {
    local pid gone kept=()
    for pid in "${CL_PIDS[@]}"; do
        for gone in "$@"; do [ "$pid" = "$gone" ] && continue 2; done
        kept+=("$pid")
    done
    CL_PIDS=("${kept[@]}")
}

# cl_detach: everything started and registered so far outlives the script (cluster.sh start, on
# success): cl_cleanup neither stops it nor runs the cl_on_exit commands.
cl_detach() {
    CL_PIDS=()
    CL_EXIT=()
}

# cl_on_exit COMMAND [ARGS…]: runs the command at exit, after the processes are stopped; the last
# registered runs first.
cl_on_exit() { CL_EXIT+=("$(printf '%q ' "$@")"); }

# cl_cleanup: the EXIT trap. Stops every remembered process (cl_kill) and waits for it, then runs the
# cl_on_exit commands, on success and on failure alike; the script's exit status stays.
cl_cleanup() {
    local status=$? i
    set +e
    cl_kill "${CL_PIDS[@]}"
    CL_PIDS=()
    for ((i = ${#CL_EXIT[@]} - 1; i >= 0; i--)); do eval "${CL_EXIT[i]}"; done
    CL_EXIT=()
    rm -f "$CL_PORTS_FILE"
    return "$status"
}
trap cl_cleanup EXIT

# cl_percentile P… < NUMBERS: the P-th percentiles (0 < P ≤ 100; 100 is the maximum) of the numbers
# on standard input (the first field of each non-empty line), by the nearest-rank method: sorted
# ascending, the value at rank ⌈P/100 × N⌉ (at least 1). Prints them on one line, in the order asked,
# as they were written. Every bench that times requests itself reports its p50/p90/p99 with this
# (those that run wrk report wrk's own figures: cl_wrk_ms).
cl_percentile() {
    [ $# -gt 0 ] || cl_die "cl_percentile: which percentiles?"
    awk 'NF { print $1 }' | sort -g | awk -v asked="$*" '
        { value[++n] = $1 }
        END {
            if (n == 0) { print "cl_percentile: no numbers" > "/dev/stderr"; exit 1 }
            count = split(asked, p, " ")
            for (i = 1; i <= count; i++) {
                exact = p[i] / 100 * n
                rank = int(exact)
                if (exact - rank > 1e-9) rank++
                if (rank < 1) rank = 1
                if (rank > n) rank = n
                printf "%s%s", (i > 1 ? " " : ""), value[rank]
            }
            print ""
        }'
}

# cl_wrk_ms P FILE: the P% line (50, 75, 90 or 99) of a `wrk --latency` report in FILE, in
# milliseconds (812.00us → 0.812, 5.32ms → 5.32, 1.20s → 1200). wrk computes these itself from every
# request's latency (its own rank rule, microsecond resolution): the samples never leave wrk, so
# they are not cl_percentile's.
cl_wrk_ms() {
    awk -v p="$1%" '
        $1 == p {
            v = $2
            if (v ~ /us$/) f = 0.001; else if (v ~ /ms$/) f = 1; else if (v ~ /s$/) f = 1000
            else if (v ~ /m$/) f = 60000; else f = 3600000
            sub(/[a-z]+$/, "", v)
            printf "%.6g\n", v * f
            found = 1
        }
        END { exit !found }' "$2"
}

# cl_wrk_lookups CSV LOGIN:PASSWORD: prints a wrk Lua script that looks up, at random, the phone1
# numbers of the first 1,000 rows of a file written by `caller-lookup generate`, with those Basic
# credentials.
cl_wrk_lookups() {
    printf 'numbers = {'
    awk -F';' 'NR > 1 && NR <= 1001 { gsub(/"/, "", $6); sub(/\+/, "%2B", $6); printf "\"%s\",", $6 }' "$1"
    printf '}\nwrk.headers["Authorization"] = "Basic %s"\n' "$(printf '%s' "$2" | base64)"
    printf 'request = function() return wrk.format("GET", "/v3/contacts/lookup/" .. numbers[math.random(#numbers)]) end\n'
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    "cl_${1:?usage: bash scripts/lib.sh FUNCTION [ARGS…], e.g. percentile 50 99 < NUMBERS}" "${@:2}"
fi
