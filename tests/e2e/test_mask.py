"""--mask end to end: the installed envinject against moto_server, with a child that prints its values in the
forms programs print them in (tests/e2e/mask_child.py): at the start, and after a rotation in every --on-change
mode."""

import base64
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest

from tests.e2e.conftest import ENVINJECT, base_env
from tests.emulator import Emulator

MASK_CHILD = [sys.executable, str(Path(__file__).with_name("mask_child.py"))]
KEY_1 = "-----BEGIN KEY-----\nMIIfirst-canary/+é'\"<&>\n-----END KEY-----\n"
KEY_2 = "-----BEGIN KEY-----\r\nMIIsecond-canary\\/+ü'\"<&>\r\n-----END KEY-----\r\n"
LEVEL_1 = "level-canary-1 a/b 'q' \"d\""
LEVEL_2 = "level-canary-2 c/d 'r' \"e\""
#: Not valid UTF-8: masked byte for byte.
BINARY = b"\xff\xfe\x80binary-canary\x00\x01\x9c" * 3


def must_not_survive(value: bytes) -> list[bytes]:
    """The parts of what mask_child prints for ``value`` that give the value away, computed here on their own."""
    text = value.decode("utf-8", "surrogateescape")
    out = [value, *(line for line in value.splitlines() if len(line.decode("utf-8", "surrogateescape")) >= 6)]
    for prefix in (b"", b"u:", b"us:", b"use:"):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            # Past the digits the prefix shares, short of the last group (padding, or the bytes after the value).
            out.append(encode(prefix + value)[len(prefix) + 2 : -4])
    out += [quote(value).encode(), quote_plus(value).encode()]
    out += [
        json.dumps(text)[1:-1].encode(),
        json.dumps(text, ensure_ascii=False)[1:-1].encode("utf-8", "surrogateescape"),
    ]
    out += [repr(text)[1:-1].encode("utf-8", "surrogateescape"), repr(value)[2:-1].encode()]
    return out


class Reader:
    """Collects a pipe's bytes on a thread, so a test can wait for lines while the process runs."""

    def __init__(self, pipe: Any) -> None:
        self.data = b""
        self._pipe = pipe
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for chunk in iter(lambda: self._pipe.read1(65536), b""):
            self.data += chunk

    def rounds(self) -> list[list[bytes]]:
        return [line.split()[1:] for line in self.data.splitlines() if line.startswith(b"round ")]

    def join(self) -> bytes:
        self._thread.join(10)
        return self.data


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def assert_masked(out: bytes, *values: bytes) -> None:
    assert b"*****" in out
    for value in values:
        for part in must_not_survive(value):
            assert part not in out, (value, part)


def test_every_form_of_a_value_and_a_binary_files_bytes(sm: Any, emulator: Emulator) -> None:
    sm.create_secret(Name="app", SecretString=json.dumps({"key": KEY_1, "level": LEVEL_1}))
    sm.create_secret(Name="blob", SecretBinary=BINARY)
    p = subprocess.Popen(
        [ENVINJECT, "--init", "--mask", "--file", "TLS_KEY=app#key", "--file", "BLOB=blob", "-s", "LEVEL=app#level",
         "--", *MASK_CHILD, "file:TLS_KEY", "env:LEVEL", "file:BLOB"],
        env=base_env(emulator), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert p.stdout is not None
    out = Reader(p.stdout)
    try:
        wait_for(lambda: out.data.count(b"\ndict ") == 3)  # the last form of the last value
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    stdout = out.join()
    assert p.returncode == 0
    assert stdout.count(b"\nb64-2 ") == 3  # every form of every value was printed, and masked
    assert_masked(stdout, KEY_1.encode(), LEVEL_1.encode(), BINARY)
    assert b"canary" not in stdout and b"canary" not in err


#: --on-change mode: (extra options, the rotation, whether the same process prints the new value).
MODES = {
    "restart": ([], {"key": KEY_2, "level": LEVEL_2}, False),
    "signal, a file changed": (["--on-change", "signal:HUP"], {"key": KEY_2, "level": LEVEL_1}, True),
    "signal, a variable changed": (["--on-change", "signal:HUP"], {"key": KEY_2, "level": LEVEL_2}, False),
    "signal, accept-stale-env": (
        ["--on-change", "signal:HUP", "--accept-stale-env"],
        {"key": KEY_2, "level": LEVEL_2},
        True,
    ),
}


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("first", ["masked", "all short"])
def test_a_rotated_value_is_masked_in_every_on_change_mode(sm: Any, emulator: Emulator, mode: str, first: str) -> None:
    extra, rotated, same_process = MODES[mode]
    # "all short": nothing to mask at the start, so before, the command wrote to envinject's stdout directly and
    # a value that came with a signal could never be masked.
    initial = {"key": KEY_1, "level": LEVEL_1} if first == "masked" else {"key": "abc", "level": "one"}
    if first == "all short" and rotated["level"] == LEVEL_1:
        rotated = {**rotated, "level": "one"}
    sm.create_secret(Name="app", SecretString=json.dumps(initial))
    p = subprocess.Popen(
        [ENVINJECT, "--watch", "1", "--mask", *extra, "--file", "TLS_KEY=app#key", "-s", "LEVEL=app#level",
         "--", *MASK_CHILD, "file:TLS_KEY", "env:LEVEL"],
        env=base_env(emulator), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert p.stdout is not None
    out = Reader(p.stdout)
    try:
        wait_for(lambda: len(out.rounds()) == 1 and out.data.count(b"\ndict ") == 2)
        sm.put_secret_value(SecretId="app", SecretString=json.dumps(rotated))
        wait_for(lambda: len(out.rounds()) == 2 and out.data.count(b"\ndict ") == 4)
    finally:
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=30)
    stdout = out.join()
    (pid_1, _), (pid_2, n) = out.rounds()
    assert (pid_1 == pid_2) == same_process and n == (b"2" if same_process else b"1")
    assert_masked(stdout, *(v.encode() for v in {**initial, **rotated}.values() if len(v) >= 6))
    assert b"canary" not in stdout and b"canary" not in err
