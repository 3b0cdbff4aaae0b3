"""A secret's keys belong to whoever wrote the secret: they never reach the terminal raw, and every message or
report line stays one printable line."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Result

Run = Callable[..., Result]
CANARY = "sk-canary-escape-81c2"
FORGED = "envinject: everything is fine"
KEYS = {f"a\n{FORGED}": CANARY, "b\x1b]0;pwned\x07\x1b[2J": CANARY + "2", "c\r\u202e": CANARY + "3"}


@pytest.fixture
def hostile(sm: Any) -> None:
    sm.create_secret(Name="app", SecretString=json.dumps(KEYS))


def assert_clean(text: str) -> None:
    for line in text.splitlines():
        assert line.replace("\t", " ").isprintable(), repr(line)  # dry-run separates its columns with a tab
        assert line != FORGED, "a key forged a line"
    assert "\x1b" not in text and "\r" not in text
    assert CANARY not in text


@pytest.mark.parametrize(
    "args",
    [
        ["-s", "app", "--dry-run", "--", "true"],
        ["check", "-s", "app"],
        ["check", "-s", "app#nokey"],
        ["-s", "app#nokey", "--", "true"],
        ["-v", "-s", "app", "-s", "app#nokey", "--", "true"],
    ],
)
def test_keys_are_escaped_in_dry_run_check_and_messages(hostile: None, run: Run, args: list[str]) -> None:
    r = run(*args)
    assert_clean(r.stdout)
    assert_clean(r.stderr)
    assert "\\n" + FORGED in r.stdout + r.stderr  # shown, escaped, on the line of the key it belongs to


def test_one_line_for_a_huge_reference(run: Run, tmp_path: Path) -> None:
    # An argument is at most 128 KiB (MAX_ARG_STRLEN); a file has no limit.
    (tmp_path / "f.env").write_text(f"A=sm://bad name{'x' * 1_000_000}\n")
    for args in (
        ["-s", "bad name\n" + "x" * 100_000, "--", "true"],
        ["--env-file", str(tmp_path / "f.env"), "--", "true"],
    ):
        r = run(*args)
        assert r.returncode == 125
        assert len(r.stderr.splitlines()) == 1 and len(r.stderr) < 1000, len(r.stderr)
