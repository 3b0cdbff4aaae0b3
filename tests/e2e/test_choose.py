"""Choosing what to inject, end to end: IAM-limited batch fallback, env files, precedence, config."""

import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHILD, Result
from tests.emulator import Emulator
from tests.faults.proxy import FaultProxy

Run = Callable[..., Result]
ANY_SECRET = "arn:aws:secretsmanager:*:*:secret:*"


def policy(*actions: str) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


@pytest.fixture
def proxy(emulator: Emulator) -> Iterator[FaultProxy]:
    """A pass-through proxy in front of the emulator that counts the requests it forwards."""
    with FaultProxy(emulator.url) as p:
        yield p


@pytest.fixture
def five(sm: Any) -> dict[str, str]:
    expected = {}
    for i in range(5):
        sm.create_secret(Name=f"app/s{i}", SecretString=json.dumps({f"key{i}": f"value-{i}"}))
        expected[f"KEY{i}"] = f"value-{i}"
    return expected


def test_seed_policy_works_through_the_fallback(five: dict[str, str], run: Run, iam: Any, proxy: FaultProxy) -> None:
    keys = iam(policy("secretsmanager:GetSecretValue"))
    args = [a for i in range(5) for a in ("-s", f"app/s{i}")]
    r = run("-v", *args, "--endpoint-url", proxy.url, "--", *CHILD, env=keys)
    assert r.returncode == 0, r.stderr
    assert {k: r.env[k] for k in five} == five
    assert "BatchGetSecretValue was denied" in r.stderr
    assert proxy.counts.operations["secretsmanager.BatchGetSecretValue"] == 1
    assert proxy.counts.operations["secretsmanager.GetSecretValue"] == 5
    assert not any(v in r.stderr for v in five.values())


def test_no_batch_skips_the_denied_call(five: dict[str, str], run: Run, iam: Any, proxy: FaultProxy) -> None:
    keys = iam(policy("secretsmanager:GetSecretValue"))
    args = [a for i in range(5) for a in ("-s", f"app/s{i}")]
    r = run(*args, "--no-batch", "--endpoint-url", proxy.url, "--", *CHILD, env=keys)
    assert r.returncode == 0, r.stderr
    assert dict(proxy.counts.operations) == {"secretsmanager.GetSecretValue": 5}


def test_batch_allowed_is_one_request(five: dict[str, str], run: Run, iam: Any, proxy: FaultProxy) -> None:
    keys = iam(policy("secretsmanager:GetSecretValue", "secretsmanager:BatchGetSecretValue"))
    args = [a for i in range(5) for a in ("-s", f"app/s{i}")]
    r = run(*args, "--endpoint-url", proxy.url, "--", *CHILD, env=keys)
    assert r.returncode == 0, r.stderr
    assert {k: r.env[k] for k in five} == five
    assert proxy.counts.total == 1
    assert dict(proxy.counts.operations) == {"secretsmanager.BatchGetSecretValue": 1}


def test_grammar_end_to_end(sm: Any, run: Run) -> None:
    arn = sm.create_secret(Name="team/db+x=y.z@corp-1", SecretString='{"conn": {"host": "h"}, "a.b": "dot"}')["ARN"]
    sm.put_secret_value(SecretId=arn, SecretString='{"conn": {"host": "h2"}, "a.b": "dot2"}')
    env = run(
        "-s", "team/db+x=y.z@corp-1#conn.host",
        "-s", "OLD=sm://team/db+x=y.z@corp-1?version-stage=AWSPREVIOUS#conn.host",
        "-s", "DOT=team/db+x=y.z@corp-1#a\\.b",
        "-s", f"ECS={arn}:a.b:AWSPREVIOUS:",
        "-s", f"PARTIAL={arn[:-7]}#conn.host",
        "--", *CHILD,
    ).env  # fmt: skip
    assert (env["CONN_HOST"], env["OLD"], env["DOT"], env["ECS"], env["PARTIAL"]) == ("h2", "h", "dot2", "dot", "h2")


def test_env_file_template(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="APIKEYS", SecretString='{"openai": "sk-1"}')
    template = tmp_path / "app.env"
    template.write_text("OPENAI_API_KEY=sm://APIKEYS#openai\nMODE=prod\nNOT_A_REF=APIKEYS#openai\nDOLLAR='${HOME}'\n")
    env = run("--env-file", str(template), "--", *CHILD).env
    assert (env["OPENAI_API_KEY"], env["MODE"], env["NOT_A_REF"], env["DOLLAR"]) == (
        "sk-1", "prod", "APIKEYS#openai", "${HOME}",
    )  # fmt: skip


def test_env_file_errors_name_file_and_line(sm: Any, run: Run, tmp_path: Path) -> None:
    template = tmp_path / "app.env"
    template.write_text("A=1\nB='open\n")
    r = run("-e", str(template), "--", "true")
    assert r.returncode == 125
    assert f"{template}:2" in r.stderr
    r = run("-e", str(tmp_path / "missing.env"), "--", "true")
    assert r.returncode == 125
    assert "missing.env" in r.stderr


def test_precedence(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="a", SecretString='{"token": "from-a", "only_a": "x"}')
    sm.create_secret(Name="b", SecretString='{"token": "from-b"}')
    sm.create_secret(Name="t", SecretString="from-assignment")
    template = tmp_path / "f.env"
    template.write_text("TOKEN=from-file\nFILE_ONLY=f\n")
    inherited = {"TOKEN": "inherited", "ONLY_A": "inherited"}
    env = run("-e", str(template), "-s", "TOKEN=t", "-s", "a", "-s", "b", "--", *CHILD, env=inherited).env
    assert (env["TOKEN"], env["ONLY_A"], env["FILE_ONLY"]) == ("from-assignment", "x", "f")
    env = run("-e", str(template), "-s", "a", "-s", "b", "--", *CHILD).env
    assert env["TOKEN"] == "from-b"
    env = run("-e", str(template), "-s", "a", "--no-override", "--", *CHILD, env=inherited).env
    assert (env["TOKEN"], env["ONLY_A"], env["FILE_ONLY"]) == ("inherited", "inherited", "f")


def test_pristine(sm: Any, run: Run) -> None:
    sm.create_secret(Name="a", SecretString='{"token": "t"}')
    r = run("-s", "a", "--pristine", "--", *CHILD, env={"INHERITED": "x"})
    assert r.returncode == 0, r.stderr
    assert set(r.env) - {"LC_CTYPE"} == {"TOKEN"}  # Python itself may add LC_CTYPE


def test_require(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="a", SecretString='{"token": "t"}')
    marker = tmp_path / "ran"
    r = run("-s", "a", "--require", "TOKEN", "--require", "DATABASE_URL", "--require", "OTHER", "--",
            "touch", str(marker))  # fmt: skip
    assert r.returncode == 125
    assert "DATABASE_URL, OTHER" in r.stderr
    assert not marker.exists()
    assert run("-s", "a", "--require", "TOKEN", "--require", "HOME", "--", "true").returncode == 0


def test_protected_names(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="evil", SecretString=json.dumps({"LD_PRELOAD": "/tmp/evil.so", "path": "/tmp"}))
    r = run("-s", "evil", "--", "true")
    assert r.returncode == 125
    assert "LD_PRELOAD" in r.stderr
    assert "'evil'" in r.stderr
    r.assert_no("/tmp/evil.so")
    # The secret's PATH is /tmp, where no `true` is: the command is named by its path, as a real run would need.
    r = run("-s", "evil", "--allow", "LD_PRELOAD", "--allow", "PATH", "--dry-run", "--", sys.executable)
    assert r.returncode == 0, r.stderr
    assert "LD_PRELOAD" in r.stdout


def test_config_file(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="APIKEYS", SecretString='{"openai": "sk-1", "anthropic": "sk-2"}')
    sm.create_secret(Name="extra", SecretString='{"openai": "sk-extra"}')
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "bot"\n\n[tool.envinject]\nsecrets = ["APIKEYS"]\nprefix = "BOT_"\n'
        'env-files = ["defaults.env"]\nrequire = ["MODE"]\n'
    )
    (project / "defaults.env").write_text("MODE=dev\n")
    r = run("--", *CHILD, cwd=project / "sub")
    assert r.returncode == 0, r.stderr
    env = r.env
    assert (env["BOT_OPENAI"], env["BOT_ANTHROPIC"], env["MODE"]) == ("sk-1", "sk-2", "dev")
    # Command-line values add to (lists) or override (scalars) the file's.
    env = run("-s", "extra", "--prefix", "X_", "--", *CHILD, cwd=project / "sub").env
    assert (env["X_OPENAI"], env["X_ANTHROPIC"]) == ("sk-extra", "sk-2")
    assert "BOT_OPENAI" not in run("--no-config", "-s", "extra", "--", *CHILD, cwd=project).env
    (project / "envinject.toml").write_text("secret = ['typo']\n")
    r = run("--", "true", cwd=project)
    assert r.returncode == 125
    assert "unknown setting 'secret'" in r.stderr


def test_the_environment_overrides_the_config_file(sm: Any, run: Run, tmp_path: Path) -> None:
    # An image carries the project's config; the deployment's environment must win over it without flags.
    sm.create_secret(Name="APIKEYS", SecretString='{"openai": "sk-1"}')
    (tmp_path / "envinject.toml").write_text(
        'secrets = ["APIKEYS"]\nregion = "eu-west-1"\nendpoint-url = "http://127.0.0.1:1"\nprofile = "nosuch"\n'
    )
    (tmp_path / "aws-config").write_text("[profile dev]\n")
    profile = {"AWS_CONFIG_FILE": str(tmp_path / "aws-config"), "AWS_PROFILE": "dev"}
    r = run("--timeout", "5", "--", *CHILD, cwd=tmp_path, env=profile)
    assert r.returncode == 0, r.stderr
    assert r.env["OPENAI"] == "sk-1"
    # Without those variables the file's settings apply: its profile first.
    r = run("--timeout", "5", "--", "true", cwd=tmp_path, env={**profile, "AWS_PROFILE": None})
    assert r.returncode == 125
    assert "'nosuch'" in r.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_config_file_of_another_user_is_not_obeyed(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="APIKEYS", SecretString='{"openai": "sk-1"}')
    shared = tmp_path / "shared"
    (shared / "checkout").mkdir(parents=True)
    (shared / "envinject.toml").write_text('env-files = ["evil.env"]\nendpoint-url = "http://127.0.0.1:1"\n')
    (shared / "evil.env").write_text("LD_PRELOAD=/tmp/evil.so\n")
    os.chown(shared / "envinject.toml", 4242, 4242)
    r = run("-s", "APIKEYS", "--", *CHILD, cwd=shared / "checkout")
    assert r.returncode == 0, r.stderr
    assert r.env["OPENAI"] == "sk-1"
    assert "LD_PRELOAD" not in r.env
    config = str(shared / "envinject.toml")
    assert r.stderr == f"envinject: ignoring config file {config!r}: it is owned by uid 4242, not by you or root\n"


def test_a_template_a_config_names_must_be_yours_too(sm: Any, run: Run, tmp_path: Path) -> None:
    # The project's own config is obeyed; a template it names in a folder others can write is not read, and
    # nothing runs (a run without that file would be half a run).
    sm.create_secret(Name="db", SecretString='{"password": "canary-db-password"}')
    (tmp_path / "project").mkdir()
    (tmp_path / "shared").mkdir()
    (tmp_path / "project" / "envinject.toml").write_text('files = ["CFG=@../shared/cfg.json"]\n')
    template = tmp_path / "shared" / "cfg.json"
    template.write_text('{"password": {{ sm://db#password }}, "endpoint": "http://attacker.example"}')
    template.chmod(0o666)
    r = run("--", *CHILD, cwd=tmp_path / "project")
    assert (r.returncode, r.stdout) == (125, "")
    config = str(tmp_path / "project" / "envinject.toml")
    shown = str(tmp_path / "project" / ".." / "shared" / "cfg.json")
    assert r.stderr == (
        f"envinject: template {shown!r} named in {config!r} is not obeyed: others can write to it; "
        "make it yours and writable only by you, or name it on the command line\n"
    )
    r.assert_no("canary-db-password")
    template.chmod(0o644)
    r = run("--", sys.executable, "-c", "import os; print(open(os.environ['CFG']).read())", cwd=tmp_path / "project")
    assert r.returncode == 0, r.stderr
    assert '"canary-db-password"' in r.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a link to another user needs root")
def test_a_symlinked_config_another_user_planted_is_not_obeyed(sm: Any, run: Run, tmp_path: Path) -> None:
    sm.create_secret(Name="APIKEYS", SecretString='{"openai": "sk-1"}')
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "envinject.toml").write_text('endpoint-url = "http://127.0.0.1:1"\n')
    shared = tmp_path / "shared"
    (shared / "checkout").mkdir(parents=True)
    (shared / "envinject.toml").symlink_to(tmp_path / "mine" / "envinject.toml")
    os.lchown(shared / "envinject.toml", 4242, 4242)
    os.chown(shared, 4242, 4242)
    r = run("-s", "APIKEYS", "--", *CHILD, cwd=shared / "checkout")
    assert r.returncode == 0, r.stderr
    assert r.env["OPENAI"] == "sk-1"
    link = str(shared / "envinject.toml")
    assert r.stderr == (
        f"envinject: ignoring config file {link!r}: the symbolic link {link!r} is owned by uid 4242, "
        "not by you or root\n"
    )
