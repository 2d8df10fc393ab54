#!/usr/bin/env bash
# Checks the documentation as a reader would meet it:
#   1. every relative link in README.md, CHANGELOG.md, config/README.md and docs/ points to a file
#      that exists;
#   2. every shell block marked runnable (a fence opened with ```sh run) runs as shown, each file's
#      blocks in order, against a fresh server: the organization IPEX with its admin novak
#      (password hesloNovak), `caller-lookup` on the PATH, the repository's Tests/ beside it, the
#      server's 127.0.0.1:8080 mapped to a free port. A block passes when it exits 0 with every
#      curl answered 2xx (curl runs with --fail-with-body); a block opened with ```sh run 4xx
#      shows a refusal: its curl may be answered 4xx.
# Usage: scripts/check-docs.sh [BINARY]   (part of scripts/test.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
bin=$(realpath "$(cl_binary debug "${1:-}")")
repo=$(pwd)
files=(README.md CHANGELOG.md config/README.md $(find docs -name '*.md' | sort))

/usr/bin/python3 - "${files[@]}" <<'EOF'
import os, re, sys
broken = []
for path in sys.argv[1:]:
    text = open(path, encoding="utf-8").read()
    # Links outside code blocks: [text](target) and <target>.
    prose = re.sub(r"```.*?```", "", text, flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", prose):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file = os.path.normpath(os.path.join(os.path.dirname(path), target.split("#")[0]))
        if not os.path.exists(file):
            broken.append(f"{path}: {target}")
if broken:
    print("check-docs: broken links:\n  " + "\n  ".join(broken), file=sys.stderr)
    sys.exit(1)
print(f"check-docs: every relative link of {len(sys.argv) - 1} files resolves", file=sys.stderr)
EOF

cl_tempdir work
server=
mkdir -p "$work/bin" "$work/strict"
ln -s "$bin" "$work/bin/caller-lookup"
# curl that fails on an HTTP error answer (and still shows its body).
printf '#!/bin/sh\nexec %s --fail-with-body "$@"\n' "$(command -v curl)" >"$work/strict/curl"
chmod +x "$work/strict/curl"
blocks=0
for file in "${files[@]}"; do
    # The file's runnable blocks, one script each.
    rm -rf "$work/blocks" && mkdir -p "$work/blocks"
    /usr/bin/python3 - "$file" "$work/blocks" <<'EOF'
import re, sys, textwrap
text = open(sys.argv[1], encoding="utf-8").read()
for number, (kind, block) in enumerate(re.findall(r"^[ \t]*```sh run( 4xx)?\n(.*?)^[ \t]*```", text, flags=re.S | re.M)):
    name = f"{sys.argv[2]}/{number:03d}{'-4xx' if kind else ''}.sh"
    open(name, "w", encoding="utf-8").write(textwrap.dedent(block))
EOF
    [ -n "$(ls "$work/blocks")" ] || continue
    # A fresh scratch directory and server per file; the blocks run in it, on its ./data.
    if [ -n "$server" ]; then cl_stop "$server"; fi
    scratch="$work/run-$blocks-$(basename "$file" .md)"
    mkdir -p "$scratch"
    ln -s "$repo/Tests" "$scratch/Tests"
    port=$(cl_port)
    cl_scratch_store "$scratch/data"
    CL_CWD=$scratch cl_serve "$work/server.log" "$port"
    server=$CL_PID
    for block in "$work"/blocks/*.sh; do
        sed -i "s/127\.0\.0\.1:8080/127.0.0.1:$port/g" "$block"
        path="$work/strict:$work/bin:$PATH"
        case "$block" in *-4xx.sh) path="$work/bin:$PATH" ;; esac
        if ! (cd "$scratch" && PATH="$path" bash -euo pipefail "$block") >"$work/out" 2>&1; then
            echo "check-docs: a runnable block of $file failed:" >&2
            cat "$block" >&2
            echo "--- its output:" >&2
            tail -20 "$work/out" >&2
            exit 1
        fi
        blocks=$((blocks + 1))
    done
done
echo "check-docs: $blocks runnable blocks ran as shown" >&2
