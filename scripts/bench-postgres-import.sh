#!/usr/bin/env bash
# PostgreSQL import benchmark: a generated file of all 22 columns (default 80,000 rows, about 18 MB)
# imported by `caller-lookup import --store postgres://…` into an empty organization (a first
# import), then the same file again (nothing changes), against `psql \copy` of the same rows into
# a 22-column text table with an index on phone1 — in the same run, on the same throwaway
# PostgreSQL (scripts/postgres.sh). RUNS rounds (default 3), each on a new organization and a new
# baseline table; prints every round, the medians and the ratios to `psql \copy`.
# Usage: scripts/bench-postgres-import.sh [ROWS] [RUNS]   (needs a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

rows=${1:-80000}
runs=${2:-3}
bin=$(cl_binary release)
cl_tempdir work
# The server's folder (owned by postgres, which also reads the baseline's file from it).
cl_tempdir pg
url=$(scripts/postgres.sh start "$pg")
cl_on_exit scripts/postgres.sh stop "$pg"
port=${url##*:}
port=${port%%/*}
psql_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)/psql
sql() { runuser -u postgres -- "$psql_bin" -h 127.0.0.1 -p "$port" -U postgres -d callerlookup -q -v ON_ERROR_STOP=1 "$@"; }
"$bin" migrate --store "$url" >/dev/null

"$bin" generate --rows "$rows" --seed 9 > "$work/contacts.csv"
tail -n +2 "$work/contacts.csv" > "$pg/rows.csv"
chown postgres "$pg/rows.csv"
columns=$(head -1 "$work/contacts.csv" | tr ';' '\n' | sed 's/.*/"&" text/' | paste -sd, -)

seconds() { local start end; start=$(date +%s%N); "$@" >/dev/null; end=$(date +%s%N); awk -v n=$((end - start)) 'BEGIN {printf "%.3f", n / 1e9}'; }
copy_rows() { sql -c "\\copy baseline FROM '$pg/rows.csv' WITH (FORMAT csv, DELIMITER ';')"; }
import_file() { "$bin" import "$work/contacts.csv" --org "$1" --store "$url"; }

copies=(); firsts=(); agains=()
for ((round = 1; round <= runs; round++)); do
    sql -c "DROP TABLE IF EXISTS baseline; CREATE TABLE baseline($columns); CREATE INDEX baseline_phone1 ON baseline(phone1);"
    copies+=("$(seconds copy_rows)")
    "$bin" org create "Bench$round" --default-region CZ --store "$url" >/dev/null
    firsts+=("$(seconds import_file "Bench$round")")
    agains+=("$(seconds import_file "Bench$round")")
    printf 'round %d: psql \\copy %s s, first import %s s, the same file again %s s\n' "$round" "${copies[-1]}" "${firsts[-1]}" "${agains[-1]}"
done
stored=$(sql -t -A -c "SELECT count(*) FROM baseline")
imported=$(sql -t -A -c "SELECT count(*) FROM contacts c JOIN organizations o ON o.id = c.organization_id WHERE o.name = 'Bench1'")
copy_median=$(printf '%s\n' "${copies[@]}" | cl_percentile 50)
first_median=$(printf '%s\n' "${firsts[@]}" | cl_percentile 50)
again_median=$(printf '%s\n' "${agains[@]}" | cl_percentile 50)
echo "file: $rows rows, $(stat -c %s "$work/contacts.csv") bytes ($stored rows copied, $imported imported)"
awk -v c="$copy_median" -v f="$first_median" -v a="$again_median" 'BEGIN {
    printf "medians: psql \\copy %.3f s; first import %.3f s (%.2fx); again %.3f s (%.2fx)\n", c, f, f / c, a, a / c }'
