#!/usr/bin/env bash
# libFuzzer over the parsers: the CSV import reader and rules, the PBX caller-number normalizer, the
# compiled number plan (differential against libphonenumber) and the JSON readers of the REST API
# and the mirror's feed. The harness is Tests/Fuzz/Harness/FuzzHarness.swift; the same functions
# run over the seed corpus and every found input in the test suite (FuzzRegressionTests).
#
#   scripts/reliability/fuzz.sh [SECONDS_PER_TARGET] [TARGET…]     (default: 600 s, all four)
#
# Each target starts from Tests/Fuzz/corpus/TARGET and a working corpus in .build/fuzz-corpus/TARGET.
# A crash, sanitizer report or harness finding stops that target and leaves the input in
# Tests/Fuzz/regressions/TARGET/ (add it to git once fixed). The last status line of each run
# (executions, coverage, features, corpus) is printed and appended to .build/fuzz-results.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(csv normalizer number-plan json)

scripts/install-dependencies.sh >/dev/null
# lld links the sanitized executable (the default gold crashes on it); the toolset passes it to swiftc.
CALLER_LOOKUP_FUZZ=1 swift build -c release --build-path .build/fuzz --product caller-lookup-fuzz \
    --toolset scripts/reliability/fuzz-toolset.json -Xswiftc -sanitize=fuzzer,address
binary=.build/fuzz/release/caller-lookup-fuzz

for target in "${targets[@]}"; do
    work=.build/fuzz-corpus/$target
    found=Tests/Fuzz/regressions/$target
    mkdir -p "$work" "$found"
    log=.build/fuzz-$target.log
    echo "== $target: ${seconds} s"
    status=0
    FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=0 "$binary" "$work" "Tests/Fuzz/corpus/$target" \
        -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=4096 \
        -artifact_prefix="$found/" -print_final_stats=1 >"$log" 2>&1 || status=$?
    summary=$(grep -E "^#[0-9]+" "$log" | tail -1)
    execs=$(grep -E "stat::number_of_executed_units" "$log" | awk '{print $2}')
    rate=$(grep -E "stat::average_exec_per_sec" "$log" | awk '{print $2}')
    line="$(date -u +%FT%TZ) $target ${seconds}s exit=$status executions=${execs:-?} exec/s=${rate:-?} last: $summary"
    echo "$line" | tee -a .build/fuzz-results.txt
    if [ "$status" -ne 0 ]; then
        echo "   finding: see $log and $found/" >&2
        grep -E "Fatal error|ERROR: AddressSanitizer|SUMMARY|artifact_prefix|Test unit written" "$log" | head -5 >&2
    fi
done
