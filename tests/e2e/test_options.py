"""Every number and option is checked in one place, before anything is read or sent, whatever it came from
(flags, environment, config file): one line, exit 125, no request, nothing run."""

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Result
from tests.emulator import Emulator
from tests.faults.proxy import FaultProxy

Run = Callable[..., Result]
CANARY = "canary-options-51c2"
SECONDS = "must be a number of seconds from"


@pytest.fixture
def proxy(sm: Any, emulator: Emulator) -> Iterator[FaultProxy]:
    """The emulator, with a secret, behind a proxy that counts what reaches it."""
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps({"openai": CANARY}))
    with FaultProxy(emulator.url) as p:
        yield p


# (arguments, config file, the one line envinject prints)
BAD: list[tuple[list[str], str | None, str]] = [
    (["--watch", "0"], None, f"--watch {SECONDS} 1 to 86400, not 0"),
    (["--watch", "-1"], None, f"--watch {SECONDS} 1 to 86400, not -1"),
    (["--watch", "inf"], None, f"--watch {SECONDS} 1 to 86400, not inf"),
    (["--watch", "nan"], None, f"--watch {SECONDS} 1 to 86400, not nan"),
    (["--kill-timeout", "-5"], None, f"--kill-timeout {SECONDS} 0 to 86400, not -5"),
    (["--timeout", "inf"], None, f"--timeout {SECONDS} 0.1 to 86400, not inf"),
    (["--timeout", "nan"], None, f"--timeout {SECONDS} 0.1 to 86400, not nan"),
    (["--timeout", "0"], None, f"--timeout {SECONDS} 0.1 to 86400, not 0"),
    (["--timeout", "-1"], None, f"--timeout {SECONDS} 0.1 to 86400, not -1"),
    (["--max-attempts", "0"], None, "--max-attempts must be a whole number from 1 to 100, not 0"),
    ([], "timeout = -1", f"timeout in '{{config}}' {SECONDS} 0.1 to 86400, not -1"),
    ([], "timeout = 0", f"timeout in '{{config}}' {SECONDS} 0.1 to 86400, not 0"),
    ([], "timeout = nan", f"timeout in '{{config}}' {SECONDS} 0.1 to 86400, not nan"),
    ([], "max-attempts = 0", "max-attempts in '{config}' must be a whole number from 1 to 100, not 0"),
    (["--endpoint-url", "localhost:4566"], None,
     "--endpoint-url is not an http:// or https:// URL with a valid host; for example http://localhost:4566"),
    (["--endpoint-url", "http://"], None,
     "--endpoint-url is not an http:// or https:// URL with a valid host; for example http://localhost:4566"),
    (["--endpoint-url", "http://127.0.0.1:99999"], None,
     "--endpoint-url is not an http:// or https:// URL with a valid host; for example http://localhost:4566"),
    ([], 'endpoint-url = "http://bad host"',
     "endpoint-url in '{config}' is not an http:// or https:// URL with a valid host; for example "
     "http://localhost:4566"),
    (["--region", "eu west 1"], None, "--region is not an AWS region name; for example eu-west-1"),
    ([], 'region = "a_b"', "region in '{config}' is not an AWS region name; for example eu-west-1"),
    (["--stop-signal", "SIGNOPE"], None, "--stop-signal is not a known signal; for example SIGTERM, SIGINT or 15"),
    (["--init", "--stop-signal", "99"], None,
     "--stop-signal is not a known signal; for example SIGTERM, SIGINT or 15"),
    (["--restart-on-exit"], None,
     "--restart-on-exit needs --watch; without --watch the command's exit ends envinject; let a supervisor such "
     "as systemd or your orchestrator restart it"),
    (["--prefix", "1X_"], None,
     "--prefix must start a variable name: letters, digits and _, not starting with a digit; for example APP_"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "config", "line"), BAD, ids=[" ".join(a) or c for a, c, _ in BAD])
def test_a_bad_option_is_one_line_before_any_request(
    proxy: FaultProxy, run: Run, tmp_path: Path, args: list[str], config: str | None, line: str
) -> None:
    marker = tmp_path / "ran"
    env: dict[str, str | None] = {"AWS_ENDPOINT_URL": proxy.url}
    if config is not None:
        (tmp_path / "envinject.toml").write_text(config + "\n")
        # The environment would win over the file's value.
        env.update(dict.fromkeys(["AWS_ENDPOINT_URL"] if "endpoint" in config else [], None))
        env.update(dict.fromkeys(["AWS_REGION", "AWS_DEFAULT_REGION"] if "region" in config else [], None))
    r = run("-s", "APIKEYS", *args, "--", "touch", str(marker), cwd=tmp_path, env=env)
    assert r.returncode == 125
    assert r.stderr == "envinject: " + line.format(config=tmp_path / "envinject.toml") + "\n"
    assert not marker.exists()
    assert proxy.counts.total == 0
    r.assert_no(CANARY)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("AWS_ENDPOINT_URL", "not a url"), ("AWS_ENDPOINT_URL_SSM", "ftp://x"), ("AWS_REGION", "eu_west_1")],
)
def test_a_bad_setting_from_the_environment_names_the_variable(run: Run, variable: str, value: str) -> None:
    r = run("-s", "ssm:///app/x", "--", "true", env={variable: value})
    assert r.returncode == 125
    assert r.stderr.startswith(f"envinject: {variable} is not ")
    assert r.stderr.count("\n") == 1


@pytest.mark.parametrize("command", ["export", "check", "policy"])
def test_every_command_checks_its_options_first(proxy: FaultProxy, run: Run, command: str) -> None:
    r = run(command, "-s", "APIKEYS", "--timeout", "nan", env={"AWS_ENDPOINT_URL": proxy.url})
    assert (r.returncode, r.stdout) == (125, "")
    assert r.stderr == f"envinject: --timeout {SECONDS} 0.1 to 86400, not nan\n"
    assert proxy.counts.total == 0


def test_push_checks_its_options_first(proxy: FaultProxy, run: Run, tmp_path: Path) -> None:
    (tmp_path / "x.env").write_text("A=1\n")
    r = run("push", str(tmp_path / "x.env"), "-s", "APIKEYS", "--timeout", "-1", env={"AWS_ENDPOINT_URL": proxy.url})
    assert r.returncode == 125
    assert r.stderr == f"envinject: --timeout {SECONDS} 0.1 to 86400, not -1\n"
    assert proxy.counts.total == 0


def test_a_pyproject_whose_tool_is_not_a_table(run: Run, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("tool = 5\n")
    r = run("-s", "APIKEYS", "--", "true", cwd=tmp_path)
    assert r.returncode == 125
    assert (
        r.stderr == f"envinject: {str(tmp_path / 'pyproject.toml')!r}: tool must be a table; write [tool.envinject]\n"
    )


def test_good_values_at_the_edges_run(proxy: FaultProxy, run: Run, tmp_path: Path) -> None:
    args = ["--timeout", "0.1", "--max-attempts", "100", "--kill-timeout", "0", "--stop-signal", "int"]
    r = run("-s", "APIKEYS", "--timeout", "30", *args[2:], "--", "true", env={"AWS_ENDPOINT_URL": proxy.url})
    assert r.returncode == 0, r.stderr
    r = run("-s", "APIKEYS", "--watch", "86400", "--restart-on-exit", "--dry-run", "--", "true",
            env={"AWS_ENDPOINT_URL": proxy.url})  # fmt: skip
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--secret", "--"], "--secret"),
        (["-s", "--"], "-s"),
        (["-vs", "--"], "-s"),
        (["-s", "APIKEYS", "--env-file", "--"], "--env-file"),
        (["-s", "--dry-run", "--"], "-s"),  # click would take --dry-run as the secret's name
        (["-s", "APIKEYS", "--watch", "--"], "--watch"),
        (["run", "--secret", "--"], "--secret"),
    ],
)
def test_an_option_without_its_value_is_a_usage_error(
    proxy: FaultProxy, run: Run, tmp_path: Path, args: list[str], option: str
) -> None:
    marker = tmp_path / "ran"
    r = run(*args, "touch", str(marker), env={"AWS_ENDPOINT_URL": proxy.url})
    assert r.returncode == 125
    assert r.stderr == f"envinject: {option} needs a value; see envinject --help\n"
    assert not marker.exists()
    assert proxy.counts.total == 0


def test_the_separator_after_a_value_is_the_separator(proxy: FaultProxy, run: Run, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    r = run(
        "-s", "APIKEYS", "--", "sh", "-c", 'touch "$0"', str(marker), "-s", "--", env={"AWS_ENDPOINT_URL": proxy.url}
    )
    assert r.returncode == 0, r.stderr
    assert marker.exists()
    r = run("export", "-s", "--", env={"AWS_ENDPOINT_URL": proxy.url})
    assert (r.returncode, r.stderr) == (125, "envinject: -s needs a value; see envinject --help\n")


NOTHING = "envinject: nothing to inject: pass --secret, set ENVINJECT_SECRETS, or add a config file\n"


@pytest.mark.parametrize("command", ["export", "check", "policy"])
def test_nothing_to_inject_is_an_error_for_what_reports_it(proxy: FaultProxy, run: Run, command: str) -> None:
    r = run(command, env={"AWS_ENDPOINT_URL": proxy.url})
    assert (r.returncode, r.stdout, r.stderr) == (125, "", NOTHING)
    assert proxy.counts.total == 0


def test_nothing_to_inject_is_a_warning_for_run(proxy: FaultProxy, run: Run, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "envinject.toml").write_text('prefix = "APP_"\n')  # a config file that names nothing
    r = run("--", "touch", str(marker), cwd=tmp_path, env={"AWS_ENDPOINT_URL": proxy.url})
    assert (r.returncode, r.stderr) == (0, NOTHING)
    assert marker.exists()


def test_any_source_is_something_to_inject(proxy: FaultProxy, run: Run, tmp_path: Path) -> None:
    env = {"AWS_ENDPOINT_URL": proxy.url}
    r = run("export", env={**env, "ENVINJECT_SECRETS": "APIKEYS"})
    assert (r.returncode, r.stderr) == (0, "")
    (tmp_path / "a.env").write_text("MODE=dev\n")
    r = run("export", "-e", str(tmp_path / "a.env"), env=env)
    assert (r.returncode, r.stderr) == (0, "")
    assert "MODE=" in r.stdout
    (tmp_path / "envinject.toml").write_text('env-files = ["a.env"]\n')
    r = run("--", "true", cwd=tmp_path, env=env)
    assert (r.returncode, r.stderr) == (0, "")
    r = run("check", env={**env, "OPENAI": "sm://APIKEYS#openai"})  # a reference written in the environment
    assert (r.returncode, NOTHING in r.stderr) == (0, False)
    r = run("check", "--file", "KEY=APIKEYS#openai", env=env)
    assert (r.returncode, NOTHING in r.stderr) == (0, False)
    r = run("check", "--no-resolve-env", env={**env, "OPENAI": "sm://APIKEYS#openai"})
    assert (r.returncode, r.stderr) == (125, NOTHING)
