"""An error that comes from an env file names the file and line, and its hint is written for an env file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Result

Run = Callable[..., Result]
CANARY = "canary-envfile-Hq73"


@pytest.fixture
def secrets(sm: Any) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps({"openai": CANARY}))
    sm.create_secret(Name="PLAIN", SecretString=f"plain {CANARY}")


def one_line(r: Result) -> str:
    assert r.returncode == 125, r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    r.assert_no(CANARY)
    return r.stderr


def test_a_missing_secret_names_the_file_and_line(secrets: None, run: Run, tmp_path: Path) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text("# keys\nOPENAI=sm://APIKEYS#openai\nA=sm://APIKEYZ\n")
    err = one_line(run("--env-file", str(env_file), "--", "true"))
    assert err.startswith(f"envinject: {env_file}:3: secret 'APIKEYZ' was not found"), err


def test_a_secret_asked_for_by_a_file_and_the_command_line_names_the_file(
    secrets: None, run: Run, tmp_path: Path
) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text("A=sm://APIKEYZ\n")
    err = one_line(run("--env-file", str(env_file), "-s", "APIKEYS", "-s", "B=APIKEYZ", "--", "true"))
    assert err.startswith(f"envinject: {env_file}:1: secret 'APIKEYZ' was not found"), err
    assert one_line(run("-s", "APIKEYZ", "--", "true")).startswith("envinject: secret 'APIKEYZ' was not found")


@pytest.mark.parametrize(
    ("line", "fits"),
    [
        ("A=sm://PLAIN#openai", "write A=sm://PLAIN to put it whole into A"),
        ("A=sm://", "A=sm://NAME"),
        ("A=ssm:///myapp/prod/", "A=ssm:///PATH/NAME"),
        ("A=ssm://", "A=ssm:///PATH/NAME"),
    ],
)
def test_a_hint_inside_an_env_file_says_what_to_write_there(
    secrets: None, run: Run, tmp_path: Path, line: str, fits: str
) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text(f"LOG_LEVEL=info\n{line}\n")
    err = one_line(run("--env-file", str(env_file), "--", "true"))
    assert err.startswith(f"envinject: {env_file}:2: "), err
    assert fits in err
    assert "VAR=" not in err and "drop" not in err and "--secret" not in err, err


def test_the_same_reference_on_the_command_line_keeps_its_own_hint(secrets: None, run: Run) -> None:
    assert "write VAR=PLAIN to put it whole into VAR" in one_line(run("-s", "PLAIN#openai", "--", "true"))
    assert "write A=PLAIN to put it whole into A" in one_line(run("-s", "A=PLAIN#openai", "--", "true"))


# A line without NAME= is reported by file, line and length, never by its text: it is often a value that lost
# its quotes, as the body of an unquoted PEM key or a token pasted alone.
NOT_ASSIGNMENTS = [
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7pemCanary01",  # base64 letters and digits only
    "u1/Zb+9xQ2kL0pW3vR8sT6yN4mE7cA5dF1gH3jK9lZ0xC2vB4nM6qW8eR1tY3uI5",  # with + and /
    "AbCd+/EfPemCanary02==",  # the last body line, padded: text before '=' that is no name
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",  # a bare token that is a valid name
    "sk-proj-PemCanary03.abc",  # a bare token that is not
]


@pytest.mark.parametrize("command", ["--env-file", "push"])
@pytest.mark.parametrize("line", NOT_ASSIGNMENTS)
def test_a_line_without_name_equals_is_never_echoed(run: Run, tmp_path: Path, command: str, line: str) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_text(f"KEY=-----BEGIN PRIVATE KEY-----\n{line}\n-----END PRIVATE KEY-----\n")
    r = (
        run("--env-file", str(env_file), "--", "true")
        if command == "--env-file"
        else run("push", str(env_file), "-s", "x")
    )
    assert r.returncode == 125, r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert f"{env_file}:2" in r.stderr and f"{len(line)} characters" in r.stderr, r.stderr
    for piece in (line, line.split("=")[0], line[:12], line[-12:].rstrip("=")):
        r.assert_no(piece)
