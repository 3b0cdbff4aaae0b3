"""End-to-end fixtures: a moto_server on 127.0.0.1 and the installed envinject script run as a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.emulator import Emulator, moto_server

ENVINJECT = str(Path(sys.executable).with_name("envinject"))
CHILD = [sys.executable, str(Path(__file__).with_name("child.py"))]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def env(self) -> dict[str, str]:
        """The environment the child reported."""
        return dict(json.loads(self.stdout))

    def assert_no(self, *values: str) -> None:
        for value in values:
            assert value not in self.stdout, "a secret value leaked to stdout"
            assert value not in self.stderr, "a secret value leaked to stderr"


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with moto_server() as emu:
        yield emu


@pytest.fixture
def sm(emulator: Emulator) -> Iterator[Any]:
    """A boto3 Secrets Manager client on a freshly reset emulator."""
    emulator.reset()
    yield boto3.client(
        "secretsmanager",
        endpoint_url=emulator.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def base_env(emulator: Emulator) -> dict[str, str]:
    """A clean environment: PATH, HOME and the emulator's settings, nothing from the developer's AWS setup."""
    return {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8", **emulator.env()}


@pytest.fixture
def run(emulator: Emulator, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Result]:
    """Runs the installed envinject in an empty folder (so no config file is found unless a test writes one)."""
    default_cwd = tmp_path_factory.mktemp("cwd")

    def _run(
        *args: str, env: dict[str, str | None] | None = None, timeout: float = 60, cwd: Path | None = None
    ) -> Result:
        full = base_env(emulator)
        for k, v in (env or {}).items():
            if v is None:
                full.pop(k, None)
            else:
                full[k] = v
        p = subprocess.run(
            [ENVINJECT, *args], env=full, capture_output=True, text=True, timeout=timeout, cwd=cwd or default_cwd
        )
        return Result(p.returncode, p.stdout, p.stderr)

    return _run


@pytest.fixture
def iam(emulator: Emulator) -> Iterator[Callable[[str | None], dict[str, str]]]:
    """Makes an IAM user with an optional policy and returns its keys; IAM is enforced until the test ends."""

    def post(value: str) -> None:
        req = urllib.request.Request(
            f"{emulator.url}/moto-api/reset-auth",
            data=value.encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(req, timeout=5).close()

    def make_user(policy: str | None) -> dict[str, str]:
        post("inf")
        client = boto3.client(
            "iam",
            endpoint_url=emulator.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        name = f"user{os.urandom(4).hex()}"
        client.create_user(UserName=name)
        if policy:
            client.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=policy)
        key = client.create_access_key(UserName=name)["AccessKey"]
        post("0")  # enforce from the next request on
        return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}

    yield make_user
    post("inf")


@pytest.fixture
def canned() -> Iterator[Callable[[int, dict[str, str]], str]]:
    """A loopback server that answers every request with one fixed AWS JSON error; returns its URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(status: int, body: dict[str, str]) -> str:
        payload = json.dumps(body).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for s in servers:
        s.shutdown()
        s.server_close()


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A loopback port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"
