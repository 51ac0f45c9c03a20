"""Answers every GET or POST with 200 and prints `ping <method> <path>` on stdout."""

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorder(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        print(f"ping {self.command} {self.path}", flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"OK")

    do_GET = do_POST = do_HEAD = _answer

    def log_message(self, *args) -> None:
        pass


ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Recorder).serve_forever()
