"""One validation for every command: each bad option, from a flag, the environment or a config file, is one line
naming it and where it came from, exit 125, before any connection is opened (the endpoint here is a black hole
that would hold a request for the whole --timeout)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.conftest import Result

Run = Callable[..., Result]


@dataclass
class BlackHole:
    """A loopback port that accepts connections into the kernel's backlog and never answers."""

    url: str
    sock: socket.socket

    def connections(self) -> int:
        """How many connections reached it (each is taken off the backlog)."""
        count = 0
        self.sock.setblocking(False)
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield BlackHole(f"http://127.0.0.1:{s.getsockname()[1]}", s)


def command_line(command: str, tmp_path: Path) -> tuple[list[str], list[str]]:
    """(the words before the options, the words after them) for a command that would otherwise work."""
    (tmp_path / "x.env").write_text("A=1\n")
    (tmp_path / "t.json").write_text('{"pw": {{ sm://APIKEYS#openai }}}\n')
    return {
        "run": (["-s", "APIKEYS"], ["--", "true"]),
        "export": (["export", "-s", "APIKEYS"], []),
        "render": (["render", str(tmp_path / "t.json")], []),
        "check": (["check", "-s", "APIKEYS"], []),
        "policy": (["policy", "-s", "APIKEYS"], []),
        "push": (["push", str(tmp_path / "x.env"), "-s", "APIKEYS"], []),
        "diff": (["diff", str(tmp_path / "x.env"), "APIKEYS"], []),
    }[command]


COMMANDS = ["run", "export", "render", "check", "policy", "push", "diff"]
CONFIG = "{config}"
#: Settings every command takes: (flags, config file line, environment, the line's start).
SHARED: list[tuple[list[str], str | None, dict[str, str], str]] = [
    (["--timeout", "nan"], None, {}, "--timeout must be a number of seconds from 0.1 to 86400, not nan"),
    (["--timeout", "0"], None, {}, "--timeout must be a number of seconds from 0.1 to 86400, not 0"),
    (["--max-attempts", "0"], None, {}, "--max-attempts must be a whole number from 1 to 100, not 0"),
    (["--region", "eu west 1"], None, {}, "--region is not an AWS region name"),
    (["--endpoint-url", "localhost:4566"], None, {}, "--endpoint-url is not an http:// or https:// URL"),
    ([], "timeout = -1", {}, f"timeout in '{CONFIG}' must be a number of seconds from 0.1 to 86400, not -1"),
    ([], "max-attempts = 1000", {}, f"max-attempts in '{CONFIG}' must be a whole number from 1 to 100"),
    ([], 'region = "a_b"', {"AWS_REGION": "", "AWS_DEFAULT_REGION": ""}, f"region in '{CONFIG}' is not an AWS region"),
    ([], "timeout = true", {}, f"{CONFIG}: timeout must be a number"),
    ([], 'unknown = "x"', {}, f"{CONFIG}: unknown setting 'unknown'"),
    ([], None, {"AWS_REGION": "eu_west_1"}, "AWS_REGION is not an AWS region name"),
    ([], 'resolve-env = ["*"]', {}, f"{CONFIG}: resolve-env takes variable names and NAME_* prefixes, and '*'"),
    ([], None, {"ENVINJECT_RESOLVE_ENV": "DB-*"}, "ENVINJECT_RESOLVE_ENV takes variable names and NAME_* prefixes"),
    ([], None, {"ENVINJECT_VIA": "fast"}, "ENVINJECT_VIA must be auto, agent or api"),
    ([], 'via = "agents"', {}, f"via in '{CONFIG}' must be auto, agent or api"),
    ([], 'agent-url = "http://10.0.0.1:2773"', {}, f"agent-url in '{CONFIG}' must be an http:// URL to this machine"),
    ([], None, {"ENVINJECT_AGENT_URL": "https://localhost"}, "ENVINJECT_AGENT_URL must be an http:// URL to this"),
    ([], None, {"ENVINJECT_ROLE": "admin"}, "ENVINJECT_ROLE is not an IAM role ARN"),
    ([], None, {"ENVINJECT_STAGE": "qa"}, "ENVINJECT_STAGE names stage 'qa', and no config file defines stages"),
    ([], 'failover-regions = ["mars"]', {}, f"failover-regions in '{CONFIG}' takes AWS region names, and 'mars'"),
]  # fmt: skip
#: Each command's own options.
OWN: list[tuple[str, list[str], str]] = [
    ("run", ["--watch", "0"], "--watch must be a number of seconds from 1 to 86400, not 0"),
    ("run", ["--kill-timeout", "-5"], "--kill-timeout must be a number of seconds from 0 to 86400, not -5"),
    ("run", ["--stop-signal", "NOPE"], "--stop-signal is not a known signal"),
    ("run", ["--watch", "5", "--on-change", "reload"], "--on-change 'reload' is not known"),
    ("run", ["--watch", "5", "--on-change", "signal:NOPE"], "--on-change signal:NAME is not a known signal"),
    ("run", ["--on-change", "signal:HUP"], "--on-change goes with --watch"),
    ("run", ["--restart-on-exit"], "--restart-on-exit needs --watch"),
    ("run", ["--accept-stale-env"], "--accept-stale-env goes with --on-change signal:NAME"),
    ("run", ["--prefix", "1X_"], "--prefix must start a variable name"),
    ("run", ["--name-case", "title"], "the command line: name-case must be upper, lower or keep"),
    ("run", ["--resolve-env", "*"], "the command line: resolve-env takes variable names and NAME_* prefixes"),
    ("check", ["--resolve-env", "A", "--no-resolve-env"], "--resolve-env and --no-resolve-env disagree"),
    ("export", ["-f", "yaml"], "unknown format 'yaml'; use one of dotenv, shell, json, docker, github"),
    ("export", ["-o", ""], "-o was given an empty file name"),
    ("render", ["-f", "xml"], "unknown format 'xml'; use one of"),
    ("render", ["-o", ""], "-o was given an empty file name"),
    ("check", ["--prefix", "A-"], "--prefix must start a variable name"),
    ("run", ["--via", "fast"], "--via must be auto, agent or api"),
    ("run", ["--role", "arn:aws:iam::1:role/x"], "--role is not an IAM role ARN"),
    ("export", ["--failover-region", "us-west-2,mars"], "--failover-region takes AWS region names, and 'mars'"),
    ("export", ["--agent-url", "http://example.com:2773"], "--agent-url must be an http:// URL to this machine"),
    ("render", ["--via", "API"], "--via must be auto, agent or api"),
    ("policy", ["--agent-url", "http://[::1]:2773/x"], "--agent-url must be an http:// URL to this machine"),
    ("policy", ["--name-case", "x"], "the command line: name-case must be upper, lower or keep"),
    ("diff", ["--stage", "qa"], "diff compares two sources, and 3 were given"),
    ("push", [], "push stores one Secrets Manager secret, and 'ssm:///app/x' is a parameter"),
]


def expect_refused(r: Result, line: str, black_hole: BlackHole) -> None:
    assert r.returncode == 125, r.stderr
    assert r.stdout == ""
    assert r.stderr.startswith("envinject: " + line), r.stderr
    assert r.stderr.count("\n") == 1
    assert black_hole.connections() == 0


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("flags", "config", "env", "line"), SHARED, ids=[" ".join(f) or c or str(e) for f, c, e, _ in SHARED]
)
def test_a_bad_setting_stops_every_command_before_a_connection(
    run: Run, tmp_path: Path, black_hole: BlackHole, command: str, flags: list[str], config: str | None,
    env: dict[str, str], line: str,
) -> None:  # fmt: skip
    head, tail = command_line(command, tmp_path)
    if config is not None:
        (tmp_path / "envinject.toml").write_text(config + "\n")
    environ = {"AWS_ENDPOINT_URL": black_hole.url, **env}
    r = run(*head, *flags, *tail, env=environ, cwd=tmp_path)
    expect_refused(r, line.format(config=tmp_path / "envinject.toml"), black_hole)


@pytest.mark.parametrize(("command", "flags", "line"), OWN, ids=[f"{c} {' '.join(f)}" for c, f, _ in OWN])
def test_a_bad_option_of_a_command_stops_it_before_a_connection(
    run: Run, tmp_path: Path, black_hole: BlackHole, command: str, flags: list[str], line: str
) -> None:
    head, tail = command_line(command, tmp_path)
    if command == "push" and not flags:
        head = [*head[:-1], "ssm:///app/x"]
    r = run(*head, *flags, *tail, env={"AWS_ENDPOINT_URL": black_hole.url}, cwd=tmp_path)
    expect_refused(r, line, black_hole)


def test_push_reads_the_config_file_as_every_command_does(run: Run, tmp_path: Path, sm: object) -> None:
    """A config that names the region and endpoint serves push as it serves export."""
    env = {"AWS_REGION": None, "AWS_DEFAULT_REGION": None, "AWS_ENDPOINT_URL": None}
    endpoint = sm.meta.endpoint_url  # type: ignore[attr-defined]
    (tmp_path / "envinject.toml").write_text(f'region = "us-east-1"\nendpoint-url = "{endpoint}"\n')
    (tmp_path / "x.env").write_text("A=1\n")
    r = run("push", str(tmp_path / "x.env"), "-s", "FROMCONFIG", "--dry-run", env=env, cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "would create secret 'FROMCONFIG'\n  + A\n"), r.stderr
