"""The installed envinject keeps its trimmed copy of botocore's endpoints in the user's cache folder, and runs
the same whether that copy is there, spoiled, or cannot be written."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.conftest import CHILD, Result

Run = Callable[..., Result]
CANARY = "sk-cache-canary-7"


def test_cache_written_under_xdg_cache_home_and_reused(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps({"token": CANARY}))
    env = {"XDG_CACHE_HOME": str(tmp_path), "HOME": str(tmp_path / "home")}
    first = run("-s", "APIKEYS", "--", *CHILD, env=env)
    assert first.env["TOKEN"] == CANARY
    (cached,) = (tmp_path / "envinject").glob("endpoints-*.json")
    assert CANARY not in cached.read_text()
    cached.write_text("{spoiled")
    again = run("-s", "APIKEYS", "--", *CHILD, env=env)
    assert again.env["TOKEN"] == CANARY
    assert json.loads(cached.read_text())["data"]["partitions"]  # rebuilt


def test_home_without_a_writable_cache_still_runs(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps({"token": CANARY}))
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("")
    r = run("-s", "APIKEYS", "--", *CHILD, env={"XDG_CACHE_HOME": str(blocker), "HOME": "/nonexistent"})
    assert r.returncode == 0, r.stderr
    assert r.env["TOKEN"] == CANARY
    assert r.stderr == ""
