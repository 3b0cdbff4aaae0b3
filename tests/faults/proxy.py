"""A small threaded HTTP/1.1 proxy that forwards to a loopback upstream and injects faults per request.

plan = FaultPlan(throttle=0.4, error_503=0.1, seed=1)
with FaultProxy("http://127.0.0.1:5000", plan) as proxy:
    client = boto3.client("secretsmanager", endpoint_url=proxy.url, ...)
    proxy.set_plan(FaultPlan(script=["throttle", "ok"]))
    proxy.counts.faults["throttle"]
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: Every kind of answer the proxy can give; "ok" is a plain pass-through.
FAULTS = (
    "ok", "throttle", "error_503", "error_500", "delay", "hang", "reset", "truncate", "garble", "error_cut",
    "query_error", "forged_code", "pem_line",
)  # fmt: skip
_RANDOM = FAULTS[1:]
_ERRORS = {
    "throttle": (400, "ThrottlingException", "Rate exceeded"),
    "error_503": (503, "ServiceUnavailable", "Service unavailable"),
    "error_500": (500, "InternalServiceError", "Internal service error"),
}
_JSON = "application/x-amz-json-1.1"
#: An error code that forges a line of envinject's own: escape sequences that erase the line, a carriage return
#: and a newline. A 500, so that it is retried and the deadline's "last try" may name it.
FORGED_CODE = "\x1b[1A\x1b[2K\renvinject fetched 1 secret\r\nenvinject"
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailers", "transfer-encoding", "upgrade"}
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class FaultPlan:
    """Fractions of requests that get each fault (the rest pass through); `script` is consumed first, in order."""

    throttle: float = 0.0
    error_503: float = 0.0
    error_500: float = 0.0
    delay: float = 0.0
    hang: float = 0.0
    reset: float = 0.0
    truncate: float = 0.0
    garble: float = 0.0
    #: A 500 whose body is the first half of the upstream's answer: a cut-off error body with a value in it.
    error_cut: float = 0.0
    #: A 400 with an ``x-amzn-query-error`` header naming a code, and the first half of the upstream's answer as
    #: its body: botocore takes the header's code, and the raw body as the message.
    query_error: float = 0.0
    #: A 500 AWS error document whose code is :data:`FORGED_CODE`.
    forged_code: float = 0.0
    #: A 400 whose body is the upstream's answer as the lines of a PEM key (no error document), with a
    #: query-error header.
    pem_line: float = 0.0
    delay_seconds: float = 0.0
    seed: int | None = None
    script: list[str] = field(default_factory=list)
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        fractions = [getattr(self, kind) for kind in _RANDOM]
        if min(fractions) < 0 or sum(fractions) > 1:
            raise ValueError(f"fault fractions must be >= 0 and sum to <= 1: {self}")
        self._check(self.script)
        self._rng = random.Random(self.seed)

    @staticmethod
    def _check(kinds: list[str]) -> None:
        unknown = set(kinds) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; choose from {FAULTS}")

    def choose(self) -> str:
        """The fault for the next request: the next scripted one, else a random draw (not thread-safe alone)."""
        if self.script:
            self._check(self.script[:1])
            return self.script.pop(0)
        draw, acc = self._rng.random(), 0.0
        for kind in _RANDOM:
            acc += getattr(self, kind)
            if draw < acc:
                return kind
        return "ok"


@dataclass
class Counts:
    """What the proxy saw: all requests, per fault kind (including "ok"), per AWS operation."""

    total: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    operations: Counter[str] = field(default_factory=Counter)
    #: Requests by the region they were signed for.
    regions: Counter[str] = field(default_factory=Counter)


def _operation(headers: Any, body: bytes) -> str:
    """`secretsmanager.GetSecretValue` from X-Amz-Target, else the query protocol's Action (e.g. STS)."""
    target = headers.get("X-Amz-Target")
    if target:
        return str(target)
    action = parse_qs(body.decode("latin-1")).get("Action")
    return action[0] if action else "unknown"


def _pem(payload: bytes) -> bytes:
    """The upstream's answer (which holds the value) cut into the 64-character body lines of a PEM private key:
    an endpoint that echoes what it holds as a key file would."""
    text = payload.decode("utf-8", "replace")
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join(["-----BEGIN PRIVATE KEY-----", *lines, "-----END PRIVATE KEY-----", ""]).encode()


def _garble(payload: bytes) -> bytes:
    junk = b"<html>oops</html>"
    return (junk * (len(payload) // len(junk) + 1))[: max(len(payload), len(junk))]


class _Gauge:
    """A thread-safe count of the blocks being run right now (``with gauge: ...``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def __enter__(self) -> None:
        with self._lock:
            self.count += 1

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self.count -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64
    proxy: FaultProxy

    def server_bind(self) -> None:  # skip HTTPServer's getfqdn(), which may do a slow reverse DNS lookup
        TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", self.server_address[1]


def _signed_region(headers: Any) -> str:
    """The region a SigV4 request was signed for: ``Credential=AKID/DATE/REGION/SERVICE/aws4_request``."""
    auth = str(headers.get("Authorization", ""))
    _, found, rest = auth.partition("Credential=")
    parts = rest.split(",")[0].split("/") if found else []
    return parts[2] if len(parts) >= 5 else ""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.proxy._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.proxy._track(self.connection, False)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        proxy = self.server.proxy
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        kind, delay_seconds = proxy._next_fault(_operation(self.headers, body), _signed_region(self.headers))
        if kind in _ERRORS:
            status, type_, message = _ERRORS[kind]
            self._send(status, [("Content-Type", _JSON)], json.dumps({"__type": type_, "message": message}).encode())
        elif kind == "hang":
            self.close_connection = True
            with proxy._hanging:
                proxy._stopping.wait()
        elif kind == "reset":
            self.close_connection = True
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.rfile.close()  # drop the makefile() reference so close() really closes (and sends RST)
            self.connection.close()
        else:
            if kind == "delay":
                proxy._stopping.wait(delay_seconds)
            status, headers, payload = self._forward(body)
            if kind == "garble":
                status, payload = 200, _garble(payload)
            elif kind == "error_cut":
                status, payload = 500, payload[: len(payload) // 2]
            elif kind == "query_error":
                status, payload = 400, payload[: len(payload) // 2]
                headers = [("Content-Type", _JSON), ("x-amzn-query-error", "InvalidParameterValue;Sender")]
            elif kind == "pem_line":
                status, payload = 400, _pem(payload)
                headers = [("Content-Type", "text/plain"), ("x-amzn-query-error", "ValidationError;Sender")]
            elif kind == "forged_code":
                status, payload = 500, json.dumps({"__type": FORGED_CODE, "message": "try again"}).encode()
                headers = [("Content-Type", _JSON)]
            self._send(status, headers, payload, truncate=kind == "truncate")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        host, port = self.server.proxy.upstream
        conn = http.client.HTTPConnection(host, port, timeout=self.server.proxy.upstream_timeout)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            drop = {*_HOP_BY_HOP, "content-length", "server", "date"}
            return resp.status, [(k, v) for k, v in resp.getheaders() if k.lower() not in drop], resp.read()
        except (OSError, http.client.HTTPException) as exc:
            error = {"__type": "ProxyUpstreamError", "message": f"upstream {host}:{port} failed: {exc!r}"}
            return 502, [("Content-Type", _JSON)], json.dumps(error).encode()
        finally:
            conn.close()

    def _send(self, status: int, headers: list[tuple[str, str]], payload: bytes, *, truncate: bool = False) -> None:
        self.send_response(status)
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(max(len(payload), 1) if truncate else len(payload)))
        self.end_headers()
        if truncate:  # promise the full length, send half, hang up
            self.close_connection = True
            payload = payload[: len(payload) // 2]
        self.wfile.write(payload)


class FaultProxy:
    """Loopback-only fault-injecting proxy in front of `upstream_url`; use as a context manager."""

    def __init__(self, upstream_url: str, plan: FaultPlan | None = None, *, upstream_timeout: float = 10.0) -> None:
        parts = urlsplit(upstream_url)
        if parts.scheme != "http" or parts.hostname not in _LOOPBACK:
            raise ValueError(f"upstream must be http:// on loopback, got {upstream_url!r}")
        self.upstream = (str(parts.hostname), parts.port or 80)
        self.upstream_timeout = upstream_timeout
        self._plan = plan or FaultPlan()
        self._counts = Counts()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self._hanging = _Gauge()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.proxy = self
        self._thread: threading.Thread | None = None
        #: A fault for every request signed for a region (SigV4's credential scope names it), over the plan.
        self.region_faults: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def plan(self) -> FaultPlan:
        with self._lock:
            return self._plan

    def set_plan(self, plan: FaultPlan) -> None:
        """Swap the plan; requests already being handled keep the fault they drew."""
        with self._lock:
            self._plan = plan

    @property
    def counts(self) -> Counts:
        """A snapshot copy of the counters."""
        with self._lock:
            c = self._counts
            return Counts(c.total, Counter(c.faults), Counter(c.operations), Counter(c.regions))

    @property
    def hanging(self) -> int:
        """How many requests are being held by "hang" right now: a test waits for it, then acts while a
        request is hung (a SIGTERM during a hung --watch poll)."""
        return self._hanging.count

    def reset_counts(self) -> None:
        with self._lock:
            self._counts = Counts()

    def start(self) -> FaultProxy:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fault-proxy", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, release hung handlers and close every client connection; idempotent."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):  # already closed, e.g. by a reset
                conn.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def _next_fault(self, operation: str, region: str = "") -> tuple[str, float]:
        with self._lock:
            kind = self.region_faults.get(region) or self._plan.choose()
            self._counts.total += 1
            self._counts.regions[region] += 1
            self._counts.faults[kind] += 1
            self._counts.operations[operation] += 1
            return kind, self._plan.delay_seconds

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)
