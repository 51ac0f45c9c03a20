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
- GET /version answers DOUBLE_VERSION.
"""

import hmac
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
VERSION = os.environ.get("DOUBLE_VERSION", "1.0")
HEALTHY = os.environ.get("DOUBLE_MODE", "healthy") != "broken"


def connect(prefix: str, database: str | None = None):
    return pymysql.connect(
        host=os.environ[f"{prefix}_HOST"],
        port=int(os.environ[f"{prefix}_PORT"]),
        user=os.environ[f"{prefix}_USER"],
        # pymysql would encode a str password as latin-1; the server expects UTF-8 bytes.
        password=os.environ[f"{prefix}_PASSWORD"].encode(),
        database=database,
        connect_timeout=3,
    )


def record_start_when_database_answers() -> None:
    database = os.environ["SQL_INTERNAL_DATABASE"]
    while True:
        try:
            connection = connect("SQL_INTERNAL", database)
            break
        except pymysql.MySQLError as error:
            print(f"waiting for the internal database: {error.args[0]}", flush=True)
            time.sleep(1)
    with connection, connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS DoubleConnection ("
            " id INT AUTO_INCREMENT PRIMARY KEY, started_at DATETIME,"
            " double_version VARCHAR(32))"
        )
        cursor.execute(
            "INSERT INTO DoubleConnection (started_at, double_version) VALUES (NOW(), %s)",
            (VERSION,),
        )
        connection.commit()
    print("recorded this start in the internal database", flush=True)


def client_database_answers() -> str | None:
    """None when a fresh SQL_CLIENT_* login works, else a short reason (no secrets)."""
    try:
        with connect("SQL_CLIENT") as connection, connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return None
    except pymysql.MySQLError as error:
        return f"database unavailable (error {error.args[0]})"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format, *args):
        print(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}", flush=True)

    def _answer(self, status: int, body: str, content_type: str = "text/plain") -> None:
        payload = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _management(self) -> None:
        expected = f"Bearer {os.environ['SCHEMA_MANAGER_SECRET']}".encode()
        given = (self.headers.get("Authorization") or "").encode()
        if not hmac.compare_digest(given, expected):
            return self._answer(401, "Unauthorized")
        return self._answer(200, json.dumps({"ok": True}), "application/json")

    def _route(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith(("/cluster", "/management")):
            return self._management()
        if self.command != "GET":
            return self._answer(404, "Not Found")
        if path == "/status":
            if not HEALTHY:
                return self._answer(503, "broken build (DOUBLE_MODE=broken)")
            reason = client_database_answers()
            return self._answer(503, reason) if reason else self._answer(200, "OK")
        if path == "/version":
            return self._answer(200, VERSION)
        return self._answer(404, "Not Found")

    do_GET = do_POST = do_PUT = do_DELETE = _route


def main() -> None:
    missing = [name for name in CONTRACT if not os.environ.get(name)]
    if missing:
        print(f"prisma-double: missing environment: {', '.join(missing)}", file=sys.stderr)
        sys.exit(1)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=record_start_when_database_answers, daemon=True).start()
    port = int(os.environ["PORT"])
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    print(f"prisma-double {VERSION} listening on {port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
