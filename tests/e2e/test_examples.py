"""Every recipe in examples/ runs: the same command line the runtime would run, against moto_server."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ENVINJECT, base_env
from tests.emulator import Emulator

EXAMPLES = Path(__file__).parents[2] / "examples"
BOT = str(EXAMPLES / "bot.py")
KEYS = {"openai": "sk-example-openai-1234", "anthropic": "sk-ant-example-5678"}


@pytest.fixture
def apikeys(sm: Any) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps(KEYS))


def env_with_envinject_on_path(emulator: Emulator) -> dict[str, str]:
    env = base_env(emulator)
    env["PATH"] = f"{Path(ENVINJECT).parent}{os.pathsep}{env['PATH']}"
    return env


def localize(argv: list[str]) -> list[str]:
    """The container's `python bot.py` (or /opt/bot/bot.py) as this machine's interpreter and example."""
    return [sys.executable if a == "python" else BOT if a.endswith("bot.py") else a for a in argv]


def assert_bot_ran(p: subprocess.CompletedProcess[str]) -> None:
    assert p.returncode == 0, p.stderr
    assert "bot: OPENAI = sk-...34" in p.stdout
    assert "bot: ANTHROPIC = sk-...78" in p.stdout
    assert KEYS["openai"] not in p.stdout + p.stderr


def test_dockerfile_entrypoint_and_cmd(apikeys: None, emulator: Emulator) -> None:
    text = (EXAMPLES / "Dockerfile").read_text()
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))  # type: ignore[union-attr]
    argv = localize(entrypoint + cmd)
    assert argv[0] == "envinject"
    assert_bot_ran(subprocess.run(argv, env=env_with_envinject_on_path(emulator), capture_output=True, text=True))


def test_ecs_task_definition_and_its_policy(apikeys: None, emulator: Emulator) -> None:
    task = json.loads((EXAMPLES / "ecs-task-definition.json").read_text())
    container = task["containerDefinitions"][0]
    env = env_with_envinject_on_path(emulator)
    env.update({e["name"]: e["value"] for e in container["environment"]})
    argv = localize(container["entryPoint"] + container["command"])
    assert_bot_ran(subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60))
    policy = subprocess.run([ENVINJECT, "policy", "-s", "APIKEYS"], env=env, capture_output=True, text=True)
    assert json.loads(policy.stdout) == json.loads((EXAMPLES / "ecs-task-role-policy.json").read_text())


def test_github_actions_step(apikeys: None, emulator: Emulator, tmp_path: Path) -> None:
    text = (EXAMPLES / "github-actions.yml").read_text()
    step = re.search(r"- name: keys\n\s+run: (.*)\n", text).group(1)  # type: ignore[union-attr]
    github_env = tmp_path / "github_env"
    env = {**env_with_envinject_on_path(emulator), "GITHUB_ENV": str(github_env)}
    p = subprocess.run(["bash", "-c", step], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert f"::add-mask::{KEYS['openai']}" in p.stdout.splitlines()
    lines = dict(line.split("=", 1) for line in github_env.read_text().splitlines())
    assert lines == {"OPENAI": KEYS["openai"], "ANTHROPIC": KEYS["anthropic"]}


def test_github_actions_references_step(apikeys: None, emulator: Emulator, tmp_path: Path) -> None:
    """The step that writes references in its env: runs under GitHub Actions' markers, as on a runner; without
    its --resolve-env the same step resolves nothing there."""
    import yaml

    steps = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())["jobs"]["test"]["steps"]
    step = next(s for s in steps if s.get("name") == "references")
    env = {**env_with_envinject_on_path(emulator), "GITHUB_ACTIONS": "true", "CI": "true", **step["env"]}
    (tmp_path / "bot.py").write_text((EXAMPLES / "bot.py").read_text())
    command = step["run"].replace("python", sys.executable, 1)
    assert_bot_ran(subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, cwd=tmp_path))
    undeclared = re.sub(r"--resolve-env \w+ ", "", command)
    p = subprocess.run(["bash", "-c", undeclared], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert "bot: OPENAI = sm:...ai" in p.stdout, p.stdout + p.stderr  # the reference itself, as written
    assert "OPENAI is written as a reference and is left as it is" in p.stderr
    assert KEYS["openai"] not in p.stdout + p.stderr


def test_systemd_unit(apikeys: None, emulator: Emulator) -> None:
    text = (EXAMPLES / "envinject.service").read_text()
    exec_start = re.search(r"^ExecStart=(.*)$", text, re.M).group(1).split()  # type: ignore[union-attr]
    env = env_with_envinject_on_path(emulator)
    for name, value in re.findall(r"^Environment=(\w+)=(.*)$", text, re.M):
        env[name] = value
    assert_bot_ran(subprocess.run(localize(exec_start), env=env, capture_output=True, text=True, timeout=60))


def test_makefile_snippet(apikeys: None, emulator: Emulator, tmp_path: Path) -> None:
    env = env_with_envinject_on_path(emulator)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # `python` is this interpreter
    (tmp_path / "bot.py").write_text((EXAMPLES / "bot.py").read_text())
    p = subprocess.run(["make", "-s", "-f", str(EXAMPLES / "Makefile.snippet"), "run"], env=env,
                       capture_output=True, text=True, cwd=tmp_path, timeout=60)  # fmt: skip
    assert_bot_ran(p)


def test_kubernetes_manifest(apikeys: None, emulator: Emulator) -> None:
    import yaml

    docs = list(yaml.safe_load_all((EXAMPLES / "kubernetes.yaml").read_text()))
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = env_with_envinject_on_path(emulator)
    env.update({e["name"]: e["value"] for e in container["env"]})  # the references, as Kubernetes sets them
    assert env["OPENAI"].startswith("sm://")
    argv = localize(container["command"] + container["args"])
    assert argv[0] == "envinject"
    assert_bot_ran(subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60))


def test_lambda_layer_and_exec_wrapper(apikeys: None, emulator: Emulator, tmp_path: Path) -> None:
    """The layer as the build script makes it, started the way the Lambda runtime starts an exec wrapper: the
    runtime's interpreter (one with no envinject of its own), /opt/python on PYTHONPATH, and the references in
    the function's environment."""
    runtime_python = Path(sys.base_prefix) / "bin" / "python3"
    layer = tmp_path / "layer"
    build = subprocess.run(
        ["sh", str(EXAMPLES / "lambda" / "build-layer.sh"), str(layer)],
        env={**os.environ, "PATH": f"{runtime_python.parent}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    assert (tmp_path / "layer.zip").is_file()
    wrapper = layer / "envinject-wrapper"
    assert os.access(wrapper, os.X_OK)
    env = base_env(emulator)
    env.update({
        "PATH": f"{runtime_python.parent}{os.pathsep}/usr/bin{os.pathsep}/bin",
        "PYTHONPATH": str(layer / "python"),
        "AWS_LAMBDA_EXEC_WRAPPER": str(wrapper),
        "AWS_LAMBDA_FUNCTION_NAME": "bot",
        "OPENAI": "sm://APIKEYS#openai",
        "ANTHROPIC": "sm://APIKEYS#anthropic",
    })  # fmt: skip
    check = subprocess.run([str(runtime_python), "-c", "import envinject"], env={"PATH": env["PATH"]},
                           capture_output=True, cwd=tmp_path)  # fmt: skip
    assert check.returncode != 0, "the runtime's interpreter must not have envinject of its own"
    p = subprocess.run([str(wrapper), str(runtime_python), BOT], env=env, capture_output=True, text=True, timeout=60,
                       cwd=tmp_path)  # fmt: skip
    assert_bot_ran(p)
