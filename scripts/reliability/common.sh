# Sourced by the reliability scripts (after they set `bin`): a scratch store with one organization
# and its user, and the server started on it.

# scratch_store NAME LOGIN PASSWORD: sets work (a temporary directory), port, db and auth (the
# Basic credentials' base64), and creates the organization (CZ) and its user.
scratch_store() {
    work=$(mktemp -d)
    port=$((20000 + RANDOM % 20000))
    db="$work/data/caller-lookup.sqlite"
    auth=$(printf '%s' "$2:$3" | base64)
    "$bin" org create "$1" --default-region CZ --data "$work/data" >/dev/null
    printf '%s\n' "$3" | "$bin" user add "$2" --org "$1" --data "$work/data" >/dev/null
}

# start_server: serves the scratch store on its port (log in $work/server.log), sets `server` to
# its pid and waits until /health answers; exits the script if it does not within 10 s.
start_server() {
    "$bin" serve --port "$port" --data "$work/data" >>"$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return; sleep 0.05; done
    echo "$(basename "$0"): the server did not start (see $work/server.log)" >&2
    exit 1
}
