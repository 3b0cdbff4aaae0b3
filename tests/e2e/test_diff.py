"""`envinject diff` and stages, with the installed envinject against moto_server."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHILD, Result
from tests.emulator import Emulator
from tests.faults.proxy import FaultProxy

Run = Callable[..., Result]
#: Short values (a plain hash of one is easy to reverse), each a canary.
VALUES = {"SAME": "pw1", "CHANGED": "x9", "ONLY_STAGING": "canaryQ", "EMPTY": ""}

STAGES = """
secrets = ["common"]

[stages.base]
secrets = ["base/app"]

[stages.staging]
layers-on = "base"
secrets = ["staging/app"]

[stages.prod]
layers-on = "base"
secrets = ["prod/app"]
region = "us-east-1"

[stages.prod-eu]
layers-on = "prod"
secrets = ["prod-eu/app"]
"""


def forms(value: str) -> list[str]:
    """What would give a value away: itself, and its SHA-256, SHA-1 and MD5 in hex and base64."""
    out = [value] if len(value) >= 2 else []
    for algorithm in (hashlib.sha256, hashlib.sha1, hashlib.md5):
        digest = algorithm(value.encode()).digest()
        out += [digest.hex(), base64.b64encode(digest).decode()]
    return out


@pytest.fixture
def stages(sm: Any, tmp_path: Path) -> Path:
    sm.create_secret(Name="common", SecretString=json.dumps({"COMMON": "c"}))
    sm.create_secret(Name="base/app", SecretString=json.dumps({"LEVEL": "base", "BASE_ONLY": "b"}))
    sm.create_secret(Name="staging/app", SecretString=json.dumps({**VALUES, "LEVEL": "staging"}))
    prod = {k: v for k, v in VALUES.items() if k != "ONLY_STAGING" and k != "EMPTY"}
    sm.create_secret(Name="prod/app", SecretString=json.dumps({**prod, "CHANGED": "y8", "LEVEL": "prod"}))
    sm.create_secret(Name="prod-eu/app", SecretString=json.dumps({"LEVEL": "prod-eu"}))
    (tmp_path / "envinject.toml").write_text(STAGES)
    return tmp_path


def test_two_stages_drift_by_name_and_never_by_value(run: Run, stages: Path) -> None:
    r = run("diff", "--stage", "staging", "--stage", "prod", cwd=stages)
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert "  CHANGED       differs" in lines and "  LEVEL         differs" in lines
    assert "  EMPTY         only in A (stage:staging)" in lines  # an empty value against an unset one
    assert "  ONLY_STAGING  only in A (stage:staging)" in lines
    assert lines[-1] == "drift: 2 differ, 2 only in A, 0 only in B, 3 the same"  # SAME, COMMON, BASE_ONLY
    for fmt in ([], ["--json"], ["--github"], ["--keys-only"]):
        out = run("diff", "--stage", "staging", "--stage", "prod", *fmt, cwd=stages)
        for value in [*VALUES.values(), "y8"]:
            for form in forms(value):
                assert form not in out.stdout + out.stderr, (fmt, value)


def test_json_and_github_and_keys_only(run: Run, stages: Path) -> None:
    doc = json.loads(run("diff", "stage:staging", "stage:prod", "--json", cwd=stages).stdout)
    assert doc["variables"]["CHANGED"] == "differs" and doc["variables"]["SAME"] == "same" and doc["drift"]
    assert doc["counts"] == {"only_a": 2, "only_b": 0, "differs": 2, "same": 3}
    github = run("diff", "--stage", "staging", "--stage", "prod", "--github", cwd=stages).stdout.splitlines()
    assert "::warning title=envinject diff::CHANGED differs" in github
    keys = run("diff", "--stage", "staging", "--stage", "prod", "--keys-only", "--ignore", "ONLY_*", "--ignore",
               "EMPTY", cwd=stages)  # fmt: skip
    assert keys.returncode == 0 and keys.stdout.splitlines()[-1].startswith("no drift")


def test_files_references_and_the_exit_statuses(run: Run, stages: Path) -> None:
    (stages / "a.env").write_text("SAME=pw1\nCHANGED=x9\nLOCAL=1\n")
    (stages / "b.env").write_text("SAME=pw1\nCHANGED=x9\nLOCAL=1\n")
    assert run("diff", "a.env", "b.env", cwd=stages).returncode == 0
    against = run("diff", "a.env", "staging/app", cwd=stages)
    assert against.returncode == 1 and "  LOCAL         only in A (a.env)" in against.stdout.splitlines()
    missing = run("diff", "a.env", "no/such/secret", cwd=stages)
    assert missing.returncode == 125 and missing.stdout == "" and "no/such/secret" in missing.stderr
    one = run("diff", "a.env", cwd=stages)
    assert one.returncode == 125 and "diff compares two sources" in one.stderr


def test_two_stages_of_twenty_secrets_take_two_requests(run: Run, sm: Any, emulator: Emulator, tmp_path: Path) -> None:
    for side in ("a", "b"):
        for i in range(20):
            sm.create_secret(Name=f"{side}/s{i}", SecretString=json.dumps({f"K{i}": f"{side}{i}"}))
    (tmp_path / "envinject.toml").write_text(
        "[stages.a]\nsecrets = [" + ", ".join(f'"a/s{i}"' for i in range(20)) + "]\n"
        "[stages.b]\nsecrets = [" + ", ".join(f'"b/s{i}"' for i in range(20)) + "]\n"
    )
    with FaultProxy(emulator.url) as proxy:
        r = run("diff", "--stage", "a", "--stage", "b", cwd=tmp_path, env={"AWS_ENDPOINT_URL": proxy.url})
        assert (
            r.returncode == 1 and r.stdout.splitlines()[-1] == "drift: 20 differ, 0 only in A, 0 only in B, 0 the same"
        )
        assert proxy.counts.total == 2 and set(proxy.counts.operations) == {"secretsmanager.BatchGetSecretValue"}


def test_every_command_honours_the_stage_layered_two_deep(run: Run, stages: Path) -> None:
    r = run("--stage", "prod-eu", "--", *CHILD, cwd=stages)
    assert r.returncode == 0, r.stderr
    env = r.env
    assert (env["LEVEL"], env["COMMON"], env["BASE_ONLY"], env["CHANGED"]) == ("prod-eu", "c", "b", "y8")
    assert "LEVEL from 'prod/app' is replaced by the later 'prod-eu/app'" in r.stderr  # which stage's secret won
    by_env = run("--", *CHILD, cwd=stages, env={"ENVINJECT_STAGE": "staging"})
    assert by_env.env["LEVEL"] == "staging"
    (stages / "envinject.toml").write_text('default-stage = "staging"\n' + STAGES)
    assert run("--", *CHILD, cwd=stages).env["LEVEL"] == "staging"
    assert run("--stage", "prod", "--", *CHILD, cwd=stages).env["LEVEL"] == "prod"
    exported = run("export", "--stage", "prod", "-f", "json", cwd=stages)
    assert json.loads(exported.stdout)["LEVEL"] == "prod"
    check = run("check", "--stage", "prod", cwd=stages)
    assert check.returncode == 0 and "prod/app" in check.stdout
    policy = json.loads(run("policy", "--stage", "prod", cwd=stages).stdout)
    assert "prod/app-??????" in json.dumps(policy) and "staging/app" not in json.dumps(policy)
    unknown = run("--stage", "qa", "--", *CHILD, cwd=stages)
    assert unknown.returncode == 125 and "--stage names stage 'qa'" in unknown.stderr and "prod-eu" in unknown.stderr


def test_policy_writes_one_policy_per_stage(run: Run, stages: Path) -> None:
    r = run("policy", "--each-stage", cwd=stages)
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    assert list(docs) == ["base", "staging", "prod", "prod-eu"]
    assert "staging/app-??????" in json.dumps(docs["staging"]) and "prod/app" not in json.dumps(docs["staging"])
    assert "prod-eu/app-??????" in json.dumps(docs["prod-eu"]) and "base/app-??????" in json.dumps(docs["prod-eu"])
    none = run("policy", "--each-stage", "-s", "x")
    assert none.returncode == 125 and "needs a config file that defines stages" in none.stderr


def test_render_push_and_pyproject_honour_the_stage(run: Run, emulator: Emulator, sm: Any, tmp_path: Path) -> None:
    import boto3

    eu = boto3.client("secretsmanager", endpoint_url=emulator.url, region_name="eu-west-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    eu.create_secret(Name="regional", SecretString=json.dumps({"K": "from-eu"}))
    (tmp_path / "pyproject.toml").write_text('[tool.envinject.stages.eu]\nregion = "eu-west-1"\n')
    (tmp_path / "t.json").write_text('{"k": {{ sm://regional#K }}}\n')
    no_region = {"AWS_REGION": None, "AWS_DEFAULT_REGION": None}  # the environment would win over the stage
    rendered = run("render", "--stage", "eu", "t.json", cwd=tmp_path, env=no_region)
    assert rendered.returncode == 0, rendered.stderr
    assert json.loads(rendered.stdout) == {"k": "from-eu"}
    (tmp_path / "x.env").write_text("PUSHED=1\n")
    pushed = run("push", "x.env", "-s", "pushed-in-eu", "--stage", "eu", cwd=tmp_path, env=no_region)
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(eu.get_secret_value(SecretId="pushed-in-eu")["SecretString"]) == {"PUSHED": "1"}


def test_a_stage_that_layers_on_itself_is_one_line(run: Run, tmp_path: Path) -> None:
    (tmp_path / "envinject.toml").write_text('[stages.a]\nlayers-on = "b"\n[stages.b]\nlayers-on = "a"\n')
    r = run("--stage", "a", "--", *CHILD, cwd=tmp_path)
    assert r.returncode == 125 and r.stderr.count("\n") == 1 and "layers on itself through a -> b" in r.stderr
