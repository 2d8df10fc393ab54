"""Compares an answer a guide shows (an ```http answer block) with the one the server gave.

Usage: check-docs-answer.py SHOWN STDOUT STDERR, where STDOUT holds the block's output (each
curl's answer after a \\x1e mark) and STDERR each curl's `<<CL-ANSWER status` / header JSON /
`CL-ANSWER>>` report (scripts/check-docs.sh). Prints what differs and exits 1, or exits 0.
"""
import json, re, sys

ANY = "…"


def shown(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    status, headers = None, {}
    if lines and re.match(r"HTTP/[\d.]+ \d{3}", lines[0]):
        status = int(lines.pop(0).split()[1])
        while lines and lines[0].strip():
            name, _, value = lines.pop(0).partition(":")
            headers[name.strip().lower()] = value.strip()
        if lines:
            lines.pop(0)
    return status, headers, "\n".join(lines).strip()


def actual(out_path, err_path):
    out = open(out_path, encoding="utf-8", errors="replace").read()
    body = out.rsplit("\x1e", 1)[-1] if "\x1e" in out else out
    err = open(err_path, encoding="utf-8", errors="replace").read()
    reports = re.findall(r"<<CL-ANSWER (\d+)\n(.*?)\nCL-ANSWER>>", err, flags=re.S)
    if not reports:
        return None, {}, body.strip()
    code, header_json = reports[-1]
    # curl 7.88 writes each byte of a UTF-8 header value as a broken, sign-extended escape without
    # its backslash (uffffffc3): back to bytes, then to text.
    header_json = re.sub(r"uffffff([0-9a-f]{2})", lambda match: "\\u00" + match.group(1), header_json)
    try:
        headers = {name.lower(): ", ".join(map(utf8, values)) for name, values in json.loads(header_json).items()}
    except ValueError:
        headers = {}
    return int(code), headers, body.strip()


def utf8(text):
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def text_matches(want, got):
    if want == ANY:
        return True
    if want.endswith(ANY):
        return got.startswith(want[: -len(ANY)])
    return want == got


def differences(want, got, where="body"):
    if isinstance(want, str) and isinstance(got, str):
        return [] if text_matches(want, got) else [f"{where}: {got!r}, not {want!r}"]
    if want == ANY:
        return []
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return [f"{where}: {json.dumps(got, ensure_ascii=False)[:200]}, not an object"]
        found = []
        for key, value in want.items():
            if key not in got:
                found.append(f"{where}.{key}: missing")
            else:
                found += differences(value, got[key], f"{where}.{key}")
        return found
    if isinstance(want, list):
        if not isinstance(got, list):
            return [f"{where}: {json.dumps(got, ensure_ascii=False)[:200]}, not an array"]
        open_ended = bool(want) and want[-1] == ANY
        items = want[:-1] if open_ended else want
        if len(got) < len(items) or (not open_ended and len(got) != len(items)):
            return [f"{where}: {len(got)} items, not {len(items)}{' or more' if open_ended else ''}"]
        found = []
        for index, item in enumerate(items):
            found += differences(item, got[index], f"{where}[{index}]")
        return found
    return [] if want == got and type(want) is type(got) else [f"{where}: {json.dumps(got, ensure_ascii=False)}, not {json.dumps(want, ensure_ascii=False)}"]


def main():
    want_status, want_headers, want_body = shown(sys.argv[1])
    got_status, got_headers, got_body = actual(sys.argv[2], sys.argv[3])
    found = []
    if want_status is not None and want_status != got_status:
        found.append(f"status {got_status}, not {want_status}")
    for name, value in want_headers.items():
        if name not in got_headers:
            found.append(f"header {name}: missing")
        elif not text_matches(value, got_headers[name]):
            found.append(f"header {name}: {got_headers[name]!r}, not {value!r}")
    if want_body:
        try:
            want = json.loads(want_body)
        except ValueError:
            want = None
        if want is not None and not isinstance(want, str):
            try:
                found += differences(want, json.loads(got_body))
            except ValueError:
                found.append(f"body: {got_body[:200]!r} is not JSON")
        elif not text_matches(want_body, got_body):
            found.append(f"body: {got_body[:200]!r}, not {want_body!r}")
    for line in found:
        print(line)
    sys.exit(1 if found else 0)


main()
