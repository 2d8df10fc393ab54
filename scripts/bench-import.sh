#!/usr/bin/env bash
# Import benchmark: a generated file of all 22 columns (default 90,000 rows, about 20 MB),
# imported by `caller-lookup import` and, as the baseline in the same run, by sqlite3's own `.import`
# into a 22-column table with an index on phone1. Each is run RUNS times (default 3) on a fresh
# database; prints the medians and their ratio. Usage: scripts/bench-import.sh [ROWS] [RUNS]
# (needs a release build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

rows=${1:-90000}
runs=${2:-3}
bin=$(cl_binary release)
cl_tempdir work

"$bin" generate --rows "$rows" --seed 20 > "$work/contacts.csv"
header=$(head -1 "$work/contacts.csv")
columns=$(printf '%s' "$header" | tr ';' '\n' | sed 's/.*/"&" TEXT/' | paste -sd, -)
tail -n +2 "$work/contacts.csv" > "$work/rows.csv"
bytes=$(stat -c %s "$work/contacts.csv")

seconds() { local start end; start=$(date +%s%N); "$@" >/dev/null; end=$(date +%s%N); awk -v n=$((end - start)) 'BEGIN {printf "%.3f", n / 1e9}'; }
median() { cl_percentile 50; }

sqlite_import() {
    rm -f "$work/baseline.sqlite"
    sqlite3 "$work/baseline.sqlite" "CREATE TABLE contacts($columns); CREATE INDEX contacts_phone1 ON contacts(phone1);" \
        ".mode csv" ".separator ;" ".import $work/rows.csv contacts"
}
our_import() {
    rm -rf "$work/data"
    "$bin" org create Bench --default-region CZ --data "$work/data" >/dev/null
    "$bin" import "$work/contacts.csv" --org Bench --data "$work/data"
}

sqlite_times=(); ours_times=()
for _ in $(seq 1 "$runs"); do
    sqlite_times+=("$(seconds sqlite_import)")
    ours_times+=("$(seconds our_import)")
done
stored=$(sqlite3 "$work/baseline.sqlite" "SELECT count(*) FROM contacts")
report=$("$bin" import "$work/contacts.csv" --org Bench --data "$work/data" | cut -c1-120)
sqlite_median=$(printf '%s\n' "${sqlite_times[@]}" | median)
ours_median=$(printf '%s\n' "${ours_times[@]}" | median)
echo "file:           $rows rows, $bytes bytes, 22 columns ($stored rows in the sqlite3 table)"
echo "sqlite3 .import ${sqlite_times[*]} s  (median $sqlite_median s)"
echo "caller-lookup   ${ours_times[*]} s  (median $ours_median s)"
echo "ratio           $(awk -v a="$ours_median" -v b="$sqlite_median" 'BEGIN {printf "%.2f", a / b}')"
echo "re-import:      $report"
