#!/usr/bin/env bash
# Fails on a tracked symbolic link whose target leaves the repository (an absolute path, or one
# that climbs out of it): such a link works on one machine only and dangles in every other
# checkout. Usage: scripts/check-links.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd -P)
bad=0
while IFS= read -r path; do
    target=$(readlink "$path")
    resolved=$(cd "$(dirname "$path")" && realpath -m "$target")
    if [[ "$target" == /* ]] || [[ "$resolved" != "$root"/* ]]; then
        echo "check-links: $path -> $target leaves the repository" >&2
        bad=1
    fi
done < <(git ls-files -s | awk -F '\t' '{ split($1, mode, " ") } mode[1] == "120000" { print $2 }')
[ "$bad" -eq 0 ] && echo "check-links: no tracked symbolic link leaves the repository" >&2
exit "$bad"
