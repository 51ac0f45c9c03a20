"""
prisma-double: a TEST DOUBLE of the Prisma 1.0 server's deploy contract, not Prisma.

It does what prismagraphql/prisma:1.0 does on every point the deploy depends on (sources
cited in ../README.md, "What the stand-ins copy from the real images"):
- it reads BUGSNAG_API_KEY with `sys.env(...)`: unset, the server dies at start (an empty
  value is fine); SQL_INTERNAL_*, SCHEMA_MANAGER_SECRET and CLUSTER_ADDRESS are required
  the same way; PORT defaults to 9000;
- it is slow to start (a JVM): DOUBLE_START_DELAY seconds before anything happens (the
  image default is the real server's order of magnitude) and it holds DOUBLE_MEMORY_MB
  of memory, as the JVM does;
- it creates its internal schema under the hard-coded name `graphcool` (logging in with
  SQL_INTERNAL_* without a database; a failure ends the process), then reads its
  `Migration` table through a connection to SQL_INTERNAL_DATABASE: any other name than
  graphcool ends the process with "Fatal error during deployment worker initialization";
- it prints the real start line, "Server running on :<port>";
- GET /status answers OK whenever it runs (the real health check checks nothing;
  DOUBLE_MODE=broken never answers OK, to exercise rollbacks);
- POST /cluster: every GraphQL field but clusterInfo needs `Authorization: Bearer <JWT>`,
  an RS256 token checked against CLUSTER_PUBLIC_KEY, with `exp` and a grant matching the
  service and stage (without CLUSTER_PUBLIC_KEY, authentication is off, with a warning);
- GET /cluster/schema/<project> needs `Authorization: Bearer <SCHEMA_MANAGER_SECRET>`;
  nothing else uses that secret; there is no /management route.
Test hooks that the real server does not have: GET /version answers DOUBLE_VERSION, and
each start is recorded in <SQL_INTERNAL_DATABASE>.DoubleConnection. A WebSocket upgrade
on a service path (`/<service>/<stage>`, where the real server takes subscriptions) gets
the RFC 6455 handshake (101 with Sec-WebSocket-Accept), then every byte received is sent
back: enough to show a proxy passes the upgrade and the frames both ways. It is not a
GraphQL subscriptions server.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import signal
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import jwt
import pymysql

# Read with sys.env(...) or as non-optional config substitutions: a missing one is fatal.
REQUIRED = (
    "BUGSNAG_API_KEY",
    "SCHEMA_MANAGER_SECRET",
    "CLUSTER_ADDRESS",
    "SQL_INTERNAL_HOST",
    "SQL_INTERNAL_PORT",
    "SQL_INTERNAL_USER",
    "SQL_INTERNAL_PASSWORD",
    "SQL_INTERNAL_DATABASE",
)
INTERNAL_SCHEMA = "graphcool"  # InternalDatabaseSchema.scala: hard-coded
# GraphQL fields of the cluster API that call verifyAuthOrThrow (SchemaBuilder.scala).
GUARDED_FIELDS = (
    "migrationStatus",
    "listProjects",
    "listMigrations",
    "project",
    "deploy",
    "addProject",
    "deleteProject",
)
NOT_FOUND = "The requested resource could not be found."
MAX_BODY = 1 << 20
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
        port=int(os.environ.get(f"{prefix}_PORT") or 0),
        user=os.environ.get(f"{prefix}_USER", ""),
        password=secret(f"{prefix}_PASSWORD") if f"{prefix}_PASSWORD" in os.environ else b"",
        database=database,
        connect_timeout=5,
        read_timeout=5,
        write_timeout=5,
        autocommit=True,
    )


def die(message: str, code: int) -> None:
    print(message, flush=True)
    os._exit(code)


def create_internal_schema() -> None:
    """DeployDependencies.setupAndGetInternalDatabase: the schema `graphcool`, made
    through a connection without a database; a failure ends the server."""
    try:
        with connect("SQL_INTERNAL") as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {INTERNAL_SCHEMA}")
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {INTERNAL_SCHEMA}.Project ("
                "id VARCHAR(200) NOT NULL PRIMARY KEY, ownerId VARCHAR(25))"
            )
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {INTERNAL_SCHEMA}.Migration ("
                "projectId VARCHAR(200) NOT NULL, revision INT NOT NULL,"
                " status VARCHAR(20) NOT NULL, PRIMARY KEY (projectId, revision))"
            )
    except pymysql.MySQLError as error:
        die(f'Exception in thread "main" java.sql.SQLException: {error.args[-1]}', 1)


def initialise_deployment_worker() -> None:
    """DeploymentSchedulerActor.initialize, through the `internal` connection, whose URL
    names SQL_INTERNAL_DATABASE; sys.exit(-1) when it fails."""
    print("Obtaining exclusive agent lock...")
    database = os.environ["SQL_INTERNAL_DATABASE"]
    try:
        with connect("SQL_INTERNAL", database) as connection, connection.cursor() as cursor:
            print("Obtaining exclusive agent lock... Successful.")
            cursor.execute("SELECT DISTINCT projectId FROM Migration WHERE status = 'PENDING'")
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS DoubleConnection ("
                "id INT AUTO_INCREMENT PRIMARY KEY, started_at DATETIME,"
                " double_version VARCHAR(32))"
            )
            cursor.execute(
                "INSERT INTO DoubleConnection (started_at, double_version) VALUES (%s, %s)",
                (STARTED_AT, VERSION),
            )
    except pymysql.MySQLError as error:
        die(f"Fatal error during deployment worker initialization: {error}", 255)
    print("Deployment worker initialization complete.")


class InvalidToken(Exception):
    code = 3015

    def __str__(self) -> str:
        return f"Authentication token is invalid: {self.args[0]}"


class TokenExpired(Exception):
    code = 3016

    def __str__(self) -> str:
        return "Authentication token is expired"


def grant_satisfies(grant: object, name: str, stage: str) -> bool:
    target = grant.get("target", "") if isinstance(grant, dict) else ""
    parts = str(target).split("/")
    if len(parts) != 2:
        raise InvalidToken(f"Contained invalid grant '{parts}'")
    granted_name, granted_stage = parts
    if not granted_name or not granted_stage:
        raise InvalidToken(f"Both service and stage must be defined in grant '{grant}'")
    return granted_name in ("*", name) and granted_stage in ("*", stage)


def verify_cluster_token(header: str | None, name: str, stage: str) -> None:
    """ClusterAuthImpl.verify: an RS256 JWT signed by the cluster's private key."""
    public_key = os.environ.get("CLUSTER_PUBLIC_KEY", "")
    if not public_key:
        print(
            "Warning: Cluster authentication is disabled. To protect your cluster you "
            "should provide the environment variable 'CLUSTER_PUBLIC_KEY'."
        )
        return
    if header is None:
        raise InvalidToken("'Authorization' header not provided")
    token = header.removeprefix("Bearer ")
    try:
        claims = jwt.decode(token, public_key, algorithms=["RS256"], options={"verify_exp": False})
    except jwt.PyJWTError as error:
        raise InvalidToken(f"Token can't be decoded: {error}") from None
    grants, expires = claims.get("grants"), claims.get("exp")
    if not isinstance(grants, list) or not isinstance(expires, int):
        raise InvalidToken("Failed to parse token data")
    if expires * 1000 < time.time() * 1000:
        raise TokenExpired()
    if not any(grant_satisfies(grant, name, stage) for grant in grants):
        raise InvalidToken(f"Token contained {len(grants)} grants but none satisfied the request.")


def _argument(query: str, name: str) -> str:
    found = re.search(rf"\b{name}\s*:\s*\"([^\"]*)\"", query)
    return found.group(1) if found else ""


def cluster_api(query: str, header: str | None) -> dict:
    """The cluster API's answer to one GraphQL request (HTTP 200 either way, as 1.0)."""
    fields = [field for field in GUARDED_FIELDS if re.search(rf"\b{field}\b", query)]
    if not fields:
        return {"data": {"clusterInfo": {"version": "1.0.0"}}}
    try:
        verify_cluster_token(header, _argument(query, "name"), _argument(query, "stage"))
    except (InvalidToken, TokenExpired) as error:
        return {"data": None, "errors": [{"code": error.code, "message": str(error)}]}
    return {"data": {field: [] if field.startswith("list") else None for field in fields}}


class Handler(BaseHTTPRequestHandler):
    server_version = "prisma-double"

    def log_request(self, code="-", size="-") -> None:
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

    def body(self) -> bytes:
        # Closing with unread bytes makes the kernel reset the connection.
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if 0 < length <= MAX_BODY else b""

    def schema_request(self) -> None:
        """ClusterServer: GET /cluster/schema/<project>, the only use of the secret."""
        expected = b"Bearer " + secret("SCHEMA_MANAGER_SECRET")
        given = self.headers.get("Authorization")
        if given is None:
            print("No Authorization Header supplied")
            self.answer(401, "No Authorization Header supplied")
        # http.server decoded the header as latin-1; this gives back the bytes sent.
        elif not hmac.compare_digest(given.encode("latin-1", "replace"), expected):
            print("Wrong Authorization Header supplied")
            self.answer(401, "Wrong Authorization Header supplied")
        else:
            project = urlsplit(self.path).path.split("/")[3]
            self.answer(400, f"com.prisma.deploy.schema.InvalidProjectId: {project}")

    def cluster_post(self, raw: bytes) -> None:
        try:
            query = json.loads(raw)["query"]
        except (ValueError, KeyError, TypeError):
            self.answer(400, json.dumps({"error": "no GraphQL query"}), "application/json")
            return
        answer = cluster_api(str(query), self.headers.get("Authorization"))
        self.answer(200, json.dumps(answer), "application/json")

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

    def route(self) -> None:
        raw = self.body()
        path = urlsplit(self.path).path
        upgrade = (self.headers.get("Upgrade") or "").lower() == "websocket"
        if upgrade and len([part for part in path.split("/") if part]) == 2:
            self.websocket()
        elif self.command == "POST" and (path == "/cluster" or path.startswith("/cluster/")):
            self.cluster_post(raw)
        elif self.command == "GET" and re.fullmatch(r"/cluster/schema/[^/]+/?", path):
            self.schema_request()
        elif self.command == "GET" and path == "/status":
            if HEALTHY:
                self.answer(200, "OK")
            else:
                self.answer(503, "not healthy: this double was built with DOUBLE_MODE=broken")
        elif self.command == "GET" and path == "/version":
            self.answer(200, VERSION)
        elif self.command == "GET" and path == "/cluster":
            self.answer(200, "<html><title>Graphcool Playground</title></html>", "text/html")
        else:
            self.answer(404, NOT_FOUND)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = route


def hold_memory(megabytes: int) -> bytearray:
    """Touch every page, so the memory is really in use (as a JVM's heap becomes)."""
    block = bytearray(megabytes << 20)
    for offset in range(0, len(block), 4096):
        block[offset] = 1
    return block


def main() -> None:
    # PID 1 has no default action for SIGTERM: without this, `docker stop` waits 10 s.
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    time.sleep(float(os.environ.get("DOUBLE_START_DELAY", "20")))
    held = hold_memory(int(os.environ.get("DOUBLE_MEMORY_MB", "600")))
    missing = [name for name in REQUIRED if name not in os.environ]
    if missing:
        # What the JVM prints for sys.env("X") or an unresolved ${X}: names, never values.
        die(f'Exception in thread "main" java.util.NoSuchElementException: key not found: '
            f"{', '.join(missing)}", 1)  # fmt: skip
    port = int(os.environ.get("PORT") or 9000)
    create_internal_schema()
    threading.Thread(target=initialise_deployment_worker, daemon=True).start()
    server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
    print(f"Server running on :{port}")  # ServerExecutor.scala
    server.held = held
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
