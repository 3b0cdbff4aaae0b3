"""A stand-in for the AWS Secrets Manager Agent, for the tests and the benchmark: the same requests and answers.

It answers ``GET /secretsmanager/get?secretId=&versionId=&versionStage=&refreshNow=`` from a cache in front of a
Secrets Manager endpoint (the tests' moto_server), ``GET /ping`` with ``healthy`` and no token; a missing or wrong
``X-Aws-Parameters-Secrets-Token`` gets 403, ``X-Forwarded-For`` or an unknown parameter 400, another method 405,
and Secrets Manager's own errors pass through as ``{"__type": CODE, "message": ...}`` with status 400, as the agent
does (aws/aws-workload-credentials-provider, server.rs and cache_manager.rs). ``fail_with`` makes it answer a
status (429, 500, 504), close the connection, or hang, to test what a client does then. It counts every request
it receives and every call it makes to Secrets Manager.

    python -m tests.fake_agent --upstream http://127.0.0.1:PORT --token T [--port 2773]
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.exceptions import ClientError

TOKEN_HEADER = "X-Aws-Parameters-Secrets-Token"
_PARAMETERS = {"secretId", "versionId", "versionStage", "refreshNow"}


class FakeAgent:
    def __init__(self, upstream: str, token: str, *, region: str = "us-east-1", ttl: float = 300.0, port: int = 0):
        self.token = token
        self.ttl = ttl
        self.client = boto3.client(
            "secretsmanager", endpoint_url=upstream, region_name=region,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str | None, str | None], tuple[float, int, bytes]] = {}
        #: Requests received, by path; GetSecretValue calls sent to Secrets Manager.
        self.received: dict[str, int] = {}
        self.api_calls = 0
        #: The last request's headers, as received (to check what a client sends).
        self.last_headers: dict[str, str] = {}
        #: None, an HTTP status to answer every secret request with, "close" or "hang".
        self.failure: int | str | None = None
        #: A raw answer to send as it is, instead of any other (a hostile agent).
        self.raw: bytes | None = None
        agent = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                agent._handle(self)

            def do_POST(self) -> None:
                self._send(405, b"Not allowed")

            do_PUT = do_DELETE = do_POST

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # as the agent's listener (tokio's default backlog); http.server's is 5

        self.server = Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def env(self) -> dict[str, str]:
        """What points envinject at this agent: its token and its URL."""
        return {"AWS_TOKEN": self.token, "ENVINJECT_AGENT_URL": self.url}

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self.received.clear()
            self.api_calls = 0
        self.failure = self.raw = None

    def _count(self, path: str) -> None:
        with self._lock:
            self.received[path] = self.received.get(path, 0) + 1

    def _handle(self, h: Any) -> None:
        parts = urlsplit(h.path)
        self._count(parts.path)
        self.last_headers = dict(h.headers.items())
        if self.raw is not None:
            h.wfile.write(self.raw)
            h.close_connection = True
            return
        if parts.path == "/ping":
            return h._send(200, b"healthy")
        if "X-Forwarded-For" in h.headers:
            return h._send(400, b"Forwarded")
        if h.headers.get(TOKEN_HEADER) != self.token:
            return h._send(403, b"Bad Token")
        if parts.path != "/secretsmanager/get":
            return h._send(404, b"Not found")
        if self.failure == "hang":
            time.sleep(3600)
        if self.failure == "close":
            h.close_connection = True
            return
        if isinstance(self.failure, int):
            return h._send(self.failure, json.dumps({"__type": "InternalFailure"}).encode())
        query = parse_qs(parts.query, keep_blank_values=True)
        if set(query) - _PARAMETERS or any(len(v) != 1 for v in query.values()) or "secretId" not in query:
            body = {"__type": "InvalidParameterException", "message": "bad query"}
            return h._send(400, json.dumps(body).encode())
        one = {k: v[0] for k, v in query.items()}
        key = (one["secretId"], one.get("versionId"), one.get("versionStage"))
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self.ttl and one.get("refreshNow") != "true":
            return h._send(cached[1], cached[2])
        status, body = self._ask(key)
        if status == 200:
            with self._lock:
                self._cache[key] = (time.monotonic(), status, body)
        h._send(status, body)

    def _ask(self, key: tuple[str, str | None, str | None]) -> tuple[int, bytes]:
        kwargs = {"SecretId": key[0]}
        if key[1]:
            kwargs["VersionId"] = key[1]
        if key[2]:
            kwargs["VersionStage"] = key[2]
        with self._lock:
            self.api_calls += 1
        try:
            resp = self.client.get_secret_value(**kwargs)
        except ClientError as e:
            err = e.response.get("Error", {})
            return 400, json.dumps({"__type": err.get("Code"), "message": err.get("Message", "")}).encode()
        doc: dict[str, Any] = {k: resp[k] for k in ("ARN", "Name", "VersionId", "VersionStages") if k in resp}
        if "SecretString" in resp:
            doc["SecretString"] = resp["SecretString"]
        if "SecretBinary" in resp:
            doc["SecretBinary"] = base64.b64encode(resp["SecretBinary"]).decode()
        doc["CreatedDate"] = resp["CreatedDate"].timestamp() if "CreatedDate" in resp else None
        return 200, json.dumps(doc).encode()

    def serve(self) -> None:
        self.server.serve_forever()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def fake_agent(upstream: str, token: str = "agent-token-for-tests", **kwargs: Any) -> Iterator[FakeAgent]:
    """A fake agent on a free loopback port, serving in a thread until the block ends."""
    agent = FakeAgent(upstream, token, **kwargs)
    threading.Thread(target=agent.serve, daemon=True).start()
    try:
        yield agent
    finally:
        agent.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    agent = FakeAgent(args.upstream, args.token, port=args.port)
    print(agent.url, flush=True)
    agent.serve()


if __name__ == "__main__":
    main()
