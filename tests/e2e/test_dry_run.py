"""--dry-run checks the command as exec would find it: 127 when it is not found, 126 when it cannot be run."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Result

Run = Callable[..., Result]
CANARY = "canary-dry-run-Qm42"


@pytest.fixture
def apikeys(sm: Any) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps({"openai": CANARY}))


def test_a_missing_command_is_127_as_the_real_run(apikeys: None, run: Run) -> None:
    for args in (["--dry-run"], []):
        r = run("-s", "APIKEYS", *args, "--", "nosuchcmd-xyz")
        assert r.returncode == 127, r.stderr
        assert r.stderr == "envinject: nosuchcmd-xyz: command not found; check the name and PATH\n"
        assert r.stdout == ""
        r.assert_no(CANARY)


@pytest.mark.parametrize("kind", ["not executable", "folder"])
def test_a_command_that_cannot_run_is_126_as_the_real_run(apikeys: None, run: Run, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "tool"
    if kind == "folder":
        target.mkdir()
    else:
        target.write_text("#!/bin/sh\necho ran\n")
        target.chmod(0o644)
    for args in (["--dry-run"], []):
        r = run("-s", "APIKEYS", *args, "--", str(target))
        assert r.returncode == 126, r.stderr
        assert r.stderr.startswith(f"envinject: {target}: cannot run: ") and r.stderr.count("\n") == 1
        assert r.stdout == ""


def test_the_command_is_found_on_the_path_exec_would_search(apikeys: None, run: Run, tmp_path: Path) -> None:
    """Not executable in the first folder, executable in the second: exec runs the second, so does the dry run."""
    first, second = tmp_path / "a", tmp_path / "b"
    for folder, mode in ((first, 0o644), (second, 0o755)):
        folder.mkdir()
        (folder / "tool").write_text("#!/bin/sh\nexit 0\n")
        (folder / "tool").chmod(mode)
    path = f"{first}{os.pathsep}{second}{os.pathsep}{os.environ['PATH']}"
    r = run("-s", "APIKEYS", "--dry-run", "--", "tool", "x y", env={"PATH": path})
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["OPENAI\t<- APIKEYS#openai", f"exec: tool 'x y'  ({second / 'tool'})"]
    assert run("-s", "APIKEYS", "--", "tool", env={"PATH": path}).returncode == 0


def test_a_pristine_dry_run_searches_envinjects_own_path(apikeys: None, run: Run) -> None:
    r = run("-s", "APIKEYS", "--pristine", "--dry-run", "--", "true")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].startswith("exec: true  (/")


def test_dry_run_names_each_source_as_it_was_written(apikeys: None, run: Run, emulator: Any) -> None:
    """ssm:// and a version stay in what --dry-run shows: the reference a variable comes from, whole."""
    import boto3

    from tests.emulator import FAKE_CREDENTIALS

    ssm = boto3.client(
        "ssm", endpoint_url=emulator.url, region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip
    ssm.put_parameter(Name="/app/db", Value=CANARY, Type="SecureString")
    r = run("-s", "APIKEYS?version-stage=AWSCURRENT", "-s", "DB=ssm:///app/db", "-s", "DB2=ssm:///app/db:1",
            "--dry-run", "--", "true")  # fmt: skip
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "OPENAI\t<- APIKEYS?version-stage=AWSCURRENT#openai" in lines
    assert "DB\t<- ssm:///app/db" in lines
    assert "DB2\t<- ssm:///app/db:1" in lines
    r.assert_no(CANARY)
