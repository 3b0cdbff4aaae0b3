"""Input no program could use (JSON nested a thousand levels deep, a NUL in an env file) is one clear line with
125 in every command, never an internal error."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Result

Run = Callable[..., Result]
CANARY = "sk-canary-deep-44e0"
DEEP = '{"token": "' + CANARY + '", "deep": ' + '{"a":' * 1_000 + '"' + CANARY + '"' + "}" * 1_000 + "}"
TOO_DEEP = "secret 'deep' nests JSON objects or arrays more than 100 levels deep"


@pytest.fixture
def deep(sm: Any) -> None:
    sm.create_secret(Name="deep", SecretString=DEEP)


def one_line(r: Result, status: int, *words: str) -> None:
    assert r.returncode == status, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("envinject: "), r.stderr
    assert "internal error" not in r.stderr
    for w in words:
        assert w in lines[0]
    r.assert_no(CANARY)


@pytest.mark.parametrize(
    "args",
    [
        ["-s", "deep", "--", "true"],
        ["-s", "deep", "--dry-run", "--", "true"],
        ["export", "-s", "deep"],
        ["export", "-s", "deep", "-f", "json"],
    ],
)
def test_deep_json_in_run_and_export(deep: None, run: Run, args: list[str]) -> None:
    r = run(*args)
    one_line(r, 125, TOO_DEEP)
    assert r.stdout == ""


def test_deep_json_in_check(deep: None, run: Run) -> None:
    r = run("check", "-s", "deep")
    assert r.returncode == 1, r.stderr
    assert "internal error" not in r.stderr
    assert TOO_DEEP in r.stdout
    r.assert_no(CANARY)


def test_deep_json_in_push(deep: None, run: Run, tmp_path: Path, sm: Any) -> None:
    (tmp_path / "new.env").write_text("A=1\n")
    r = run("push", str(tmp_path / "new.env"), "-s", "deep", "--merge")
    one_line(r, 125, "secret 'deep' nests JSON more than 100 levels deep")
    assert sm.get_secret_value(SecretId="deep")["SecretString"] == DEEP  # nothing written


def test_nul_in_an_env_file_literal(run: Run, tmp_path: Path, sm: Any) -> None:
    env_file = tmp_path / "app.env"
    env_file.write_bytes(b'A=1\nB="' + CANARY.encode() + b'\x00x"\n')
    for args in (["-e", str(env_file), "--", "true"], ["export", "-e", str(env_file)]):
        one_line(run(*args), 125, f"{env_file}:2: the value of B contains a NUL byte")
    r = run("push", str(env_file), "-s", "new")
    one_line(r, 125, f"{env_file}:2: the value of B contains a NUL byte")
    assert json.dumps(sm.list_secrets()["SecretList"]) == "[]"
