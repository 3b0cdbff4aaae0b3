"""Start and stop a local moto_server on 127.0.0.1: for the tests, the demo and the benchmarks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: Credentials the emulator accepts; no real AWS account is ever involved.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _moto_server() -> list[str]:
    # moto_server itself, with AWS's IAM wildcard matching (see that file for why).
    return [sys.executable, str(Path(__file__).with_name("moto_server_aws_wildcards.py"))]


@dataclass
class Emulator:
    url: str
    process: subprocess.Popen[bytes]

    def env(self, region: str = "us-east-1") -> dict[str, str]:
        """Variables that point AWS clients (and envinject) at this emulator, and nowhere else."""
        return {
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.url,
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST"), timeout=5)


@contextmanager
def moto_server(timeout: float = 30.0) -> Iterator[Emulator]:
    """Run moto_server on a free loopback port until the block ends."""
    port = free_port()
    proc = subprocess.Popen(
        [*_moto_server(), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"moto_server did not start on {url}") from None
                time.sleep(0.05)
        yield Emulator(url, proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
