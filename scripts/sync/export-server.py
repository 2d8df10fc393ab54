#!/usr/bin/env python3
"""A CRM's export for scripts/sync-test.sh: Python's http.server over a directory, with Last-Modified
and If-Modified-Since (304) from http.server itself, plus:

* /private/...  needs "Authorization: Bearer $EXPORT_TOKEN" (401 otherwise);
* /slow/...     answers after $EXPORT_DELAY seconds (default 5);
* /pages/N.json the JSON page N, with a Link: rel="next" header to page N+1 while it exists.

Usage: export-server.py PORT DIRECTORY
"""
import http.server
import os
import sys
import time

port, directory = int(sys.argv[1]), sys.argv[2]
token = os.environ.get("EXPORT_TOKEN", "")
delay = float(os.environ.get("EXPORT_DELAY", "5"))


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=directory, **kwargs)

    def log_message(self, format, *args):
        sys.stderr.write("%s %s\n" % (self.headers.get("User-Agent", "-"), format % args))

    def do_GET(self):
        if self.path.startswith("/private/") and self.headers.get("Authorization") != "Bearer " + token:
            self.send_error(401, "a Bearer token is required")
            return
        if self.path.startswith("/slow/"):
            time.sleep(delay)
        super().do_GET()

    def end_headers(self):
        if self.path.startswith("/pages/") and self.path.endswith(".json"):
            number = int(self.path.rsplit("/", 1)[1].split(".")[0])
            if os.path.exists(os.path.join(directory, "pages", "%d.json" % (number + 1))):
                self.send_header("Link", '</pages/%d.json>; rel="next"' % (number + 1))
        super().end_headers()


http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
