"""An HTTP server on a Unix socket, as Docker's API is served, for the unit tests that
run the hosts' commands against a stand-in of it."""

from __future__ import annotations

import socketserver


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
