"""Every command that talks to AWS keeps --timeout, names the network failure it gave up on, and ends at once
on SIGINT or SIGTERM, whatever it is waiting for."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ENVINJECT, Result, base_env
from tests.emulator import Emulator
from tests.faults.proxy import FORGED_CODE, FaultPlan, FaultProxy

Run = Callable[..., Result]
REFUSED = "http://127.0.0.1:1"


def command_args(command: str, tmp_path: Path) -> list[str]:
    """Each command that talks to AWS, reading (or writing) the secret 'good'."""
    env_file = tmp_path / "push.env"
    env_file.write_text("A=1\n")
    return {
        "run": ["-s", "good", "--timeout", "3", "--", "true"],
        "export": ["export", "-s", "good", "--timeout", "3"],
        "check": ["check", "-s", "good", "--timeout", "3"],
        "policy": ["policy", "-s", "good", "--timeout", "3"],
        "push": ["push", str(env_file), "-s", "good", "--timeout", "3"],
    }[command]


def one_line(r: Result) -> str:
    assert r.returncode == 125, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("envinject: ")
    return lines[0]


@pytest.mark.parametrize("command", ["run", "export", "check", "policy", "push"])
@pytest.mark.parametrize("endpoint", ["refused", "hangs"])
def test_every_command_keeps_the_deadline(
    run: Run, silent_endpoint: str, tmp_path: Path, command: str, endpoint: str
) -> None:
    url = REFUSED if endpoint == "refused" else silent_endpoint
    started = time.monotonic()
    r = run(*command_args(command, tmp_path), env={"AWS_ENDPOINT_URL": url}, timeout=60)
    elapsed = time.monotonic() - started
    line = one_line(r)
    assert not r.stdout
    if endpoint == "refused":
        assert f"cannot connect to {url} (connection refused)" in line
    else:
        assert f"timed out after 3s waiting for {url}" in line
    assert "'good'" in line and "--timeout" in line
    # A correctness bound on the 3 s deadline (start-up included), not a speed measurement.
    assert elapsed < 20


@pytest.fixture
def silent_proxy() -> Iterator[tuple[str, list[str]]]:
    """An HTTP proxy on loopback that never answers, and the first line of each request sent through it:
    ``CONNECT host:443 HTTP/1.1`` for https, ``POST http://host/ HTTP/1.1`` for http."""
    asked: list[str] = []
    held: list[socket.socket] = []
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed: the test is over
                return
            held.append(conn)
            conn.settimeout(5)
            data = b""
            try:
                while b"\r\n" not in data and (chunk := conn.recv(4096)):
                    data += chunk
            except OSError:
                pass
            asked.append(data.split(b"\r\n")[0].decode("ascii", "replace"))

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", asked
    server.close()
    for conn in held:
        conn.close()


def test_an_ignored_endpoint_is_neither_asked_nor_named(run: Run, silent_proxy: tuple[str, list[str]]) -> None:
    proxy, asked = silent_proxy
    ignored = {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true", "AWS_ENDPOINT_URL": "http://127.0.0.9:1"}
    # Every request goes through the proxy, which tells where it was meant to go and then lets it time out.
    r = run("-s", "good", "--timeout", "2", "--", "true", env={**ignored, "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy})
    line = one_line(r)
    assert "127.0.0.9" not in line
    assert "secretsmanager.us-east-1.amazonaws.com" in line
    assert asked and all(a.startswith("CONNECT secretsmanager.us-east-1.amazonaws.com:443 ") for a in asked), asked


@pytest.fixture
def plain_http_port() -> Iterator[int]:
    """A port that speaks plain HTTP, so a TLS handshake with it fails."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("kind", ["refused", "dns", "tls"])
@pytest.mark.parametrize("ending", ["deadline", "attempts"])
def test_a_network_failure_is_named_not_called_a_timeout(
    run: Run, plain_http_port: int, tmp_path: Path, kind: str, ending: str
) -> None:
    url, reason = {
        "refused": (REFUSED, "(connection refused)"),
        "dns": ("http://nosuchhost.invalid", "(DNS lookup failed)"),
        "tls": (f"https://127.0.0.1:{plain_http_port}", "(TLS error"),
    }[kind]
    # Retried until the deadline (an endpoint that is restarting comes back), or until the tries run out.
    # A resolver may take a few seconds to say a name does not exist: give it time to, within the deadline.
    seconds = "8" if kind == "dns" else "2"
    limit = ["--timeout", seconds] if ending == "deadline" else ["--max-attempts", "1"]
    r = run("-s", "good", *limit, "--", "true", env={"AWS_ENDPOINT_URL": url})
    line = one_line(r)
    assert f"cannot connect to {url} {reason}" in line
    assert "'good'" in line
    assert "timed out" not in line


@pytest.mark.parametrize("cause", ["no region", "no credentials", "unknown profile", "unreachable"])
def test_policy_reports_the_real_cause(run: Run, tmp_path: Path, cause: str) -> None:
    env: dict[str, str | None] = {
        "no region": {"AWS_REGION": None, "AWS_DEFAULT_REGION": None},
        "no credentials": {"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None},
        "unknown profile": {"AWS_PROFILE": "nosuch"},
        "unreachable": {"AWS_ENDPOINT_URL": REFUSED},
    }[cause]
    words = {
        "no region": ["no AWS region is set", "--region", "AWS_REGION"],
        "no credentials": ["no AWS credentials were found", "AWS_PROFILE"],
        "unknown profile": ["AWS profile 'nosuch' is not in your AWS config"],
        "unreachable": [f"cannot connect to {REFUSED} (connection refused)"],
    }[cause]
    limit = ["--max-attempts", "1", "--timeout", "3"]
    policy = one_line(run("policy", "-s", "good", *limit, env=env))
    assert "cannot learn the AWS account" not in policy
    for w in words:
        assert w in policy, policy
    # The same cause as a run reports.
    ran = one_line(run("-s", "good", *limit, "--", "true", env=env))
    for w in words:
        assert w in ran, ran


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("refs", [["-s", "good", "-s", "ssm:///app/x"], ["--no-batch", "-s", "good", "-s", "other"]])
def test_a_stop_signal_ends_a_concurrent_fetch(emulator: Emulator, signum: int, refs: list[str]) -> None:
    with FaultProxy(emulator.url, FaultPlan(hang=1.0)) as proxy:
        env = {**base_env(emulator), "AWS_ENDPOINT_URL": proxy.url}
        proc = subprocess.Popen(
            [ENVINJECT, *refs, "--", "true"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            preexec_fn=_default_sigint,
        )  # fmt: skip
        try:
            wait_for(lambda: proxy.counts.total >= 2)  # both requests are in flight, hung
            sent = time.monotonic()
            proc.send_signal(signum)
            out, err = proc.communicate(timeout=25)
            elapsed = time.monotonic() - sent
        finally:
            proc.kill()
            proc.wait()
    assert proc.returncode == 128 + signum, err
    assert "timed out" not in err and "Traceback" not in err
    assert not out
    # The default deadline is 30 s: ending well before it is the behaviour under test, not a speed claim.
    assert elapsed < 5


def _default_sigint() -> None:
    # A job started in the background inherits SIGINT ignored, and envinject keeps an ignored SIGINT ignored
    # (as Python and the shells do); a terminal's Ctrl-C reaches a process whose SIGINT is not ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


#: Error codes an endpoint can send in an AWS error document that would forge or hide a line on a terminal: the
#: fault proxy's, a newline, an OSC title sequence, a right-to-left override, a lone carriage return.
FORGED_CODES = [FORGED_CODE, "X\nenvinject fetched 1 secret", "\x1b]0;owned\x07X", "\u202eX", "X\renvinject fetched"]


@pytest.mark.parametrize("code", FORGED_CODES)
def test_the_deadline_message_forges_no_line(run: Run, canned: Callable[[int, dict[str, str]], str], code: str) -> None:
    # A 500 is retried until the deadline, whose message names the last try's answer.
    url = canned(500, {"__type": code, "message": "try again"})
    r = run("-s", "good", "--timeout", "1.5", "--max-attempts", "100", "--", "true", env={"AWS_ENDPOINT_URL": url})
    line = one_line(r)
    assert "timed out after 1.5s" in line and "last try" in line, line
    assert line.isprintable(), repr(line)
