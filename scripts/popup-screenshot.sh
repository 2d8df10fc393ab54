#!/usr/bin/env bash
# Renders the screen-pop page in headless Chromium and saves it as a PNG (the README's picture).
# Starts a server on a scratch store with the customer's maximal sample, field labels from the
# customer's document and a signed popup link, then opens /popup for +420 222 333 444.
# Usage: scripts/popup-screenshot.sh [OUTPUT.png] [LANGUAGE]   (default docs/popup.png, cs)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

output=${1:-docs/popup.png}
language=${2:-cs}
scripts/install-dependencies.sh >/dev/null
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
    echo "popup-screenshot: installing chromium" >&2
    apt-get install -y -qq chromium >/dev/null
    browser=$(command -v chromium)
fi
bin=$(cl_binary --fresh debug)
cl_tempdir work
port=$(cl_port)

cl_scratch_store "$work" IPEX ""
"$bin" import Tests/TestSupport/Fixtures/maximal.csv --org IPEX --data "$work" >/dev/null
"$bin" org labels IPEX --data "$work" --set customField1=Důležitost --set customField2=Obchodník \
    --set customField3=Technik --set customField4=Středisko --set customField5=Obrat --set customField6=Dluh >/dev/null
link=$("$bin" org popup-link IPEX --data "$work" --base-url "http://127.0.0.1:$port")
cl_serve "$work/serve.log" "$port" --data "$work"

url=${link/\{NUMBER\}/%2B420222333444}
mkdir -p "$(dirname "$output")"
"$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --lang="$language" \
    --accept-lang="$language" --window-size=560,900 --screenshot="$PWD/$output" "$url" >/dev/null 2>&1
echo "popup-screenshot: saved $output ($(stat -c %s "$output") bytes) from $url" >&2
