#!/usr/bin/env bash
# Checks the documentation as a reader would meet it:
#   1. every relative link in README.md, CHANGELOG.md, config/README.md and docs/ points to a file
#      that exists;
#   2. every shell block marked runnable (a fence opened with ```sh run) runs as shown, each file's
#      blocks in order, against a fresh server: the organization IPEX with its admin novak
#      (password hesloNovak), `caller-lookup` on the PATH, the repository's Tests/ beside it, the
#      server's 127.0.0.1:8080 mapped to a free port. A block passes when it exits 0 with every
#      curl answered 2xx (curl runs with --fail-with-body); a block opened with ```sh run 4xx
#      shows a refusal: its curl may be answered 4xx;
#   3. every answer a guide shows is the answer the server gives: a block opened with
#      ```http answer right below a runnable block (blank lines between at most) shows what its
#      last curl got — an optional status line (`HTTP/1.1 404 Not Found`: the code is compared),
#      optional header lines (`X-Caller-Name: Jan Novák`), a blank line, and the body. Every
#      header shown must be in the answer with that value; a JSON body must have every field
#      shown, with the value shown (objects may have more fields; arrays the same items, or more
#      after a last item "…"); any other body must be the text shown. "…" stands for any value,
#      and a text ending in "…" for any text that starts so (ids, versions, dates, secrets).
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
# curl that marks where its answer starts on standard output and reports its status and headers
# on standard error (for the answers shown), and fails on an HTTP error answer (still showing its
# body) unless the block shows a refusal.
mkdir -p "$work/lenient"
for kind in strict lenient; do
    fail=--fail-with-body
    [ "$kind" = lenient ] && fail=
    printf '#!/bin/sh\nprintf "\\036"\nexec %s %s -w "%%{stderr}\\n<<CL-ANSWER %%{http_code}\\n%%{header_json}\\nCL-ANSWER>>\\n" "$@"\n' \
        "$(command -v curl)" "$fail" >"$work/$kind/curl"
    chmod +x "$work/$kind/curl"
done
answers=0
blocks=0
for file in "${files[@]}"; do
    # The file's runnable blocks, one script each.
    rm -rf "$work/blocks" && mkdir -p "$work/blocks"
    /usr/bin/python3 - "$file" "$work/blocks" <<'EOF'
import re, sys, textwrap
text = open(sys.argv[1], encoding="utf-8").read()
pattern = r"^[ \t]*```sh run( 4xx)?\n(.*?)^[ \t]*```[ \t]*\n(?:\s*?^[ \t]*```http answer\n(.*?)^[ \t]*```)?"
for number, (kind, block, answer) in enumerate(re.findall(pattern, text, flags=re.S | re.M)):
    name = f"{sys.argv[2]}/{number:03d}{'-4xx' if kind else ''}"
    open(name + ".sh", "w", encoding="utf-8").write(textwrap.dedent(block))
    if answer:
        open(name + ".answer", "w", encoding="utf-8").write(textwrap.dedent(answer))
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
        if [ -f "${block%.sh}.answer" ]; then sed -i "s/127\.0\.0\.1:8080/127.0.0.1:$port/g" "${block%.sh}.answer"; fi
        path="$work/strict:$work/bin:$PATH"
        case "$block" in *-4xx.sh) path="$work/lenient:$work/bin:$PATH" ;; esac
        if ! (cd "$scratch" && PATH="$path" bash -euo pipefail "$block") >"$work/out" 2>"$work/err"; then
            echo "check-docs: a runnable block of $file failed:" >&2
            cat "$block" >&2
            echo "--- its output:" >&2
            tr -d '\036' <"$work/out" | tail -20 >&2
            grep -v '^<<CL-ANSWER\|^CL-ANSWER>>' "$work/err" | tail -20 >&2
            exit 1
        fi
        blocks=$((blocks + 1))
        answer=${block%.sh}.answer
        [ -f "$answer" ] || continue
        if ! /usr/bin/python3 scripts/check-docs-answer.py "$answer" "$work/out" "$work/err" >"$work/diff" 2>&1; then
            echo "check-docs: a block of $file does not answer what the guide shows:" >&2
            cat "$block" >&2
            echo "--- shown:" >&2
            cat "$answer" >&2
            echo "--- but:" >&2
            cat "$work/diff" >&2
            exit 1
        fi
        answers=$((answers + 1))
    done
done
echo "check-docs: $blocks runnable blocks ran as shown, $answers answers shown are the server's" >&2
