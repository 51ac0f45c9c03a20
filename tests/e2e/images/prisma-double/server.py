"""
prisma-double: a TEST DOUBLE of the Prisma 1 server's deploy contract, not Prisma.

What it honours, like the real server:
- the environment of the seed's compose file; any missing variable stops it (exit 1,
  names only, never values), so `restart: always` retries as with a crashing server;
- it logs in to the database with the SQL_INTERNAL_* credentials and records each start
  in <SQL_INTERNAL_DATABASE>.DoubleConnection (the proof that the credentials work);
- GET /status answers `OK` only while a fresh login with the SQL_CLIENT_* credentials
  works (DOUBLE_MODE=broken never answers OK, to exercise rollbacks);
- /cluster/* and /management/* refuse requests without
  `Authorization: Bearer <SCHEMA_MANAGER_SECRET>`;
- GET /version answers DOUBLE_VERSION;
- a WebSocket upgrade on a service path (`/<service>/<stage>`, where the real server
  takes subscriptions) gets the RFC 6455 handshake (101 with Sec-WebSocket-Accept), then
  every byte received is sent back: enough to show a proxy passes the upgrade and the
  frames both ways. It is not a GraphQL subscriptions server.
"""

import base64
import hashlib
import hmac
import json
import os
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pymysql

CONTRACT = (
    "PORT",
    "SCHEMA_MANAGER_SECRET",
    "SCHEMA_MANAGER_ENDPOINT",
    "SQL_CLIENT_HOST",
    "SQL_CLIENT_PORT",
    "SQL_CLIENT_USER",
    "SQL_CLIENT_PASSWORD",
    "SQL_CLIENT_CONNECTION_LIMIT",
    "SQL_INTERNAL_HOST",
    "SQL_INTERNAL_PORT",
    "SQL_INTERNAL_USER",
    "SQL_INTERNAL_PASSWORD",
    "SQL_INTERNAL_DATABASE",
    "SQL_INTERNAL_CONNECTION_LIMIT",
    "CLUSTER_ADDRESS",
    "CLUSTER_PUBLIC_KEY",
)
PORT_VARIABLES = ("PORT", "SQL_CLIENT_PORT", "SQL_INTERNAL_PORT")
MANAGEMENT_ROOTS = ("/cluster", "/management")
MAX_DISCARDED_BODY = 1 << 20
WEBSOCKET_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

VERSION = os.environ.get("DOUBLE_VERSION", "1.0")
HEALTHY = os.environ.get("DOUBLE_MODE", "healthy") == "healthy"
STARTED_AT = datetime.now(timezone.utc).replace(tzinfo=None)


def secret(name: str) -> bytes:
    """The variable's exact bytes: secrets may hold any character, and pymysql would
    encode a str password as latin-1, not as the UTF-8 it was set with."""
    return os.environb[name.encode()]


def connect(prefix: str, database: str | None = None):
    return pymysql.connect(
        host=os.environ[f"{prefix}_HOST"],
        port=int(os.environ[f"{prefix}_PORT"]),
        user=os.environ[f"{prefix}_USER"],
        password=secret(f"{prefix}_PASSWORD"),
        database=database,
        connect_timeout=3,
        read_timeout=5,
        write_timeout=5,
        autocommit=True,
    )


def record_start_when_database_answers() -> None:
    """Retry every second, as the real server waits for its internal database.

    The database itself is not created here: the mysql image creates it from
    MYSQL_DATABASE, so a deploy that forgets that keeps logging error 1049.
    The SQL stays plain: the server runs with ANSI_QUOTES, ORACLE, NO_BACKSLASH_ESCAPES...
    """
    while True:
        try:
            database = os.environ["SQL_INTERNAL_DATABASE"]
            with connect("SQL_INTERNAL", database) as connection, connection.cursor() as cursor:
                cursor.execute(
                    "CREATE TABLE IF NOT EXISTS DoubleConnection ("
                    "id INT AUTO_INCREMENT PRIMARY KEY, started_at DATETIME,"
                    " double_version VARCHAR(32))"
                )
                cursor.execute(
                    "INSERT INTO DoubleConnection (started_at, double_version) VALUES (%s, %s)",
                    (STARTED_AT, VERSION),
                )
            print("recorded this start in the internal database")
            return
        except pymysql.MySQLError as error:
            print(f"internal database not usable yet (error {error.args[0]}), retrying")
            time.sleep(1)


def client_database_problem() -> str | None:
    """None when a fresh SQL_CLIENT_* login works, else a short reason (no secrets)."""
    try:
        with connect("SQL_CLIENT") as connection, connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return None
    except pymysql.MySQLError as error:
        return f"database unavailable (error {error.args[0]})"


def is_management(path: str) -> bool:
    return any(path == root or path.startswith(root + "/") for root in MANAGEMENT_ROOTS)


class Handler(BaseHTTPRequestHandler):
    server_version = "prisma-double"

    def log_request(self, code="-", size="-") -> None:
        # Without the query string: callers may put tokens there.
        path = urlsplit(getattr(self, "path", "")).path
        print(f"{self.command or '-'} {path or '-'} {int(code)}")

    def log_message(self, format, *args) -> None:
        pass  # http.server's own messages may quote raw request bytes; log_request suffices

    def answer(self, status: int, body: str, content_type: str = "text/plain") -> None:
        payload = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def discard_body(self) -> None:
        # Closing with unread bytes makes the kernel reset the connection, and the
        # client may lose the answer.
        length = int(self.headers.get("Content-Length") or 0)
        if 0 < length <= MAX_DISCARDED_BODY:
            self.rfile.read(length)

    def management(self) -> None:
        expected = b"Bearer " + secret("SCHEMA_MANAGER_SECRET")
        # http.server decoded the header as latin-1; this gives back the bytes sent.
        given = (self.headers.get("Authorization") or "").encode("latin-1", "replace")
        if not hmac.compare_digest(given, expected):
            self.answer(401, "Unauthorized")
        else:
            self.answer(200, json.dumps({"ok": True}), "application/json")

    def websocket(self) -> None:
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + WEBSOCKET_GUID).encode()).digest())
        self.protocol_version = "HTTP/1.1"  # an upgrade is HTTP/1.1 (RFC 6455)
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept.decode())
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        while chunk := self.connection.recv(4096):
            self.connection.sendall(chunk)

    def status(self) -> None:
        if not HEALTHY:
            self.answer(503, "not healthy: this double was built with DOUBLE_MODE=broken")
            return
        problem = client_database_problem()
        if problem:
            self.answer(503, problem)
        else:
            self.answer(200, "OK")

    def route(self) -> None:
        self.discard_body()
        path = urlsplit(self.path).path
        upgrade = (self.headers.get("Upgrade") or "").lower() == "websocket"
        if upgrade and len([part for part in path.split("/") if part]) == 2:
            self.websocket()
        elif is_management(path):
            self.management()
        elif path in ("/status", "/version") and self.command not in ("GET", "HEAD"):
            self.answer(405, "Method Not Allowed")
        elif path == "/status":
            self.status()
        elif path == "/version":
            self.answer(200, VERSION)
        else:
            self.answer(404, "Not Found")

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = route


def contract_problem() -> str | None:
    """What is wrong with the environment, by variable names only (never values)."""
    missing = [name for name in CONTRACT if not os.environ.get(name)]
    if missing:
        return f"missing environment: {', '.join(missing)}"
    not_ports = [name for name in PORT_VARIABLES if not os.environ[name].isdecimal()]
    if not_ports:
        return f"not a port number: {', '.join(not_ports)}"
    return None


def main() -> None:
    problem = contract_problem()
    if problem:
        print(f"prisma-double: {problem}", file=sys.stderr)
        sys.exit(1)
    # PID 1 has no default action for SIGTERM: without this, `docker stop` waits 10 s.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=record_start_when_database_answers, daemon=True).start()
    port = int(os.environ["PORT"])
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    print(f"prisma-double {VERSION} listening on {port}")
    server.serve_forever()


if __name__ == "__main__":
    main()
