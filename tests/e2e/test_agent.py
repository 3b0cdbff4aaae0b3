"""Through the local Secrets Manager agent, with the installed envinject and a fake agent in front of moto_server.

Each run-path feature runs twice, through the API and through the agent, and must give the same answer. On the
agent's leg the AWS endpoint is a closed port, so a request that went to the API instead would fail the test.
"""

from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHILD, ENVINJECT, Result, base_env
from tests.e2e.test_mask import MASK_CHILD, Reader, must_not_survive
from tests.emulator import Emulator, free_port
from tests.fake_agent import FakeAgent, fake_agent
from tests.waiting import wait_for

FILE_CHILD = [sys.executable, str(Path(__file__).with_name("file_child.py"))]
CANARY = "canary-E2eAgent-77"
Run = Callable[..., Result]


@pytest.fixture
def agent(emulator: Emulator, sm: Any) -> Iterator[FakeAgent]:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps({"openai": CANARY, "anthropic": "sk-ant-2"}))
    sm.create_secret(Name="TLS", SecretString="-----BEGIN KEY-----\nMII" + CANARY + "\n-----END KEY-----\n")
    sm.create_secret(Name="BIN", SecretBinary=b"\xff\x00" + CANARY.encode())
    with fake_agent(emulator.url) as running:
        yield running


def through_agent(agent: FakeAgent, **more: str | None) -> dict[str, str | None]:
    """The agent's variables, --via agent, and an AWS endpoint nothing listens on: the API is never reached."""
    return {**agent.env(), "ENVINJECT_VIA": "agent", "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}", **more}


def both(run: Run, agent: FakeAgent, *args: str) -> tuple[Result, Result]:
    """The same command line through the API and through the agent."""
    api = run(*args, env={"ENVINJECT_VIA": "api"})
    assert agent.received == {}
    return api, run(*args, env=through_agent(agent))


def same(api: Result, through: Result, agent: FakeAgent) -> None:
    assert through.returncode == api.returncode, through.stderr
    assert through.stdout == api.stdout
    by = f" (answered by the Secrets Manager agent at {agent.url})"
    assert through.stderr.replace(by, "").replace(" in the agent's region", " in us-east-1") == api.stderr
    assert CANARY not in through.stderr + api.stderr  # stdout may be an export: the values are its content


def child_env(r: Result) -> dict[str, str]:
    return {k: v for k, v in r.env.items() if k in ("OPENAI", "ANTHROPIC", "KEY", "TLS")}


@pytest.mark.parametrize(
    "refs",
    [
        ["-s", "APIKEYS"],
        ["-s", "KEY=APIKEYS#openai", "-s", "TLS"],
        ["-s", "APIKEYS?version-stage=AWSCURRENT"],
        ["-s", "APIKEYS", "-s", "NOPE"],  # all or nothing: nothing runs
        ["-s", "APIKEYS?version-stage=NOSUCH"],
        ["-s", "APIKEYS#missing"],
    ],
)
def test_a_run_gives_the_same_environment_or_error_either_way(run: Run, agent: FakeAgent, refs: list[str]) -> None:
    api, through = both(run, agent, *refs, "--", *CHILD)
    if api.returncode == 0:
        assert child_env(api) and child_env(through) == child_env(api)
        api, through = Result(0, "", api.stderr), Result(0, "", through.stderr)  # the child's whole env differs
    same(api, through, agent)
    assert agent.api_calls >= 1


def test_a_version_id_pins_the_same_version(run: Run, agent: FakeAgent, sm: Any) -> None:
    first = sm.get_secret_value(SecretId="APIKEYS")["VersionId"]
    sm.put_secret_value(SecretId="APIKEYS", SecretString=json.dumps({"openai": "rotated"}))
    api, through = both(run, agent, "-s", f"APIKEYS?version-id={first}", "--", *CHILD)
    assert child_env(api)["OPENAI"] == child_env(through)["OPENAI"] == CANARY


def test_export_dry_run_and_init_are_the_same_either_way(run: Run, agent: FakeAgent) -> None:
    for args in (["export", "-s", "APIKEYS", "-f", "shell"], ["--dry-run", "-s", "APIKEYS", "--", "true"],
                 ["--init", "-s", "APIKEYS", "--", *CHILD, "3"]):  # fmt: skip
        api, through = both(run, agent, *args)
        if args[0] == "--init":
            assert api.returncode == through.returncode == 3
            assert child_env(api) == child_env(through)
        else:
            same(api, through, agent)
        agent.clear()


def test_file_secrets_and_mask_through_the_agent(run: Run, agent: FakeAgent, emulator: Emulator) -> None:
    r = run("--file", "TLS_KEY=TLS", "--file", "BLOB=BIN", "--", *FILE_CHILD, "TLS_KEY", "BLOB",
            env=through_agent(agent))  # fmt: skip
    assert r.returncode == 0, r.stderr
    read = json.loads(r.stdout)  # what the child read from each file, base64
    assert base64.b64decode(read["BLOB"]["content"]) == b"\xff\x00" + CANARY.encode()
    assert CANARY.encode() in base64.b64decode(read["TLS_KEY"]["content"])
    env = {k: v for k, v in {**base_env(emulator), **through_agent(agent)}.items() if v is not None}
    p = subprocess.Popen([ENVINJECT, "--mask", "--file", "TLS_KEY=TLS", "--file", "BLOB=BIN", "-s", "APIKEYS",
                          "--", *MASK_CHILD, "file:TLS_KEY", "env:OPENAI", "file:BLOB"],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert p.stdout is not None
    out = Reader(p.stdout)
    try:
        wait_for(lambda: out.data.count(b"\ndict ") == 3, timeout=30)  # the last form of the last value
    finally:
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=30)
    stdout = out.join()
    assert stdout.count(b"\nb64-2 ") == 3  # every form of every value was printed, and masked
    for value in (CANARY.encode(), b"\xff\x00" + CANARY.encode()):
        for form in must_not_survive(value):
            assert form not in stdout, form


def test_a_run_through_the_agent_loads_no_botocore_and_version_no_typer(emulator: Emulator, agent: FakeAgent) -> None:
    env = {**base_env(emulator), **through_agent(agent)}
    env = {k: v for k, v in env.items() if v is not None}
    for argv in (["-s", "APIKEYS", "--", sys.executable, "-c", "pass"], ["--version"]):
        r = subprocess.run([sys.executable, "-X", "importtime", "-m", "envinject", *argv], env=env,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
        assert r.returncode == 0, r.stderr
        imported = {line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if "|" in line}
        assert not {m for m in imported if m.split(".")[0] in ("botocore", "boto3", "typer", "click", "ssl")}


def test_auto_without_a_token_never_asks_the_agent(run: Run, agent: FakeAgent) -> None:
    for env in ({"ENVINJECT_AGENT_URL": agent.url}, {"ENVINJECT_AGENT_URL": agent.url, "AWS_SESSION_TOKEN": "s"},
                {"AWS_TOKEN": "", "ENVINJECT_AGENT_URL": agent.url}):  # fmt: skip
        r = run("-s", "APIKEYS", "--", *CHILD, env=env)
        assert r.returncode == 0 and child_env(r)["OPENAI"] == CANARY
    assert agent.received == {}


def test_auto_reads_through_the_agent_when_its_token_is_there(run: Run, agent: FakeAgent) -> None:
    for _ in range(3):
        r = run("-v", "-s", "APIKEYS", "--", *CHILD, env={**agent.env(), "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
        assert r.returncode == 0, r.stderr
        assert "1 request(s) (1 agent GetSecretValue)" in r.stderr and "botocore" not in r.stderr
    assert agent.received == {"/secretsmanager/get": 3} and agent.api_calls == 1  # the agent's cache


@pytest.mark.parametrize("failure", [503, 429, "close", "down"])
def test_auto_falls_back_to_the_api_within_the_deadline(run: Run, agent: FakeAgent, failure: int | str) -> None:
    env: dict[str, str | None] = dict(agent.env())
    if failure == "down":
        env["ENVINJECT_AGENT_URL"] = f"http://127.0.0.1:{free_port()}"
    else:
        agent.failure = failure
    r = run("-v", "--timeout", "20", "-s", "APIKEYS", "--", *CHILD, env=env)
    assert r.returncode == 0, r.stderr
    assert child_env(r)["OPENAI"] == CANARY
    assert "from the API instead" in r.stderr and CANARY not in r.stderr


def test_an_answer_from_the_agent_stands_and_via_agent_never_falls_back(run: Run, agent: FakeAgent) -> None:
    # A closed AWS endpoint: a fallback would show as a connection error to it, not as the agent's answer.
    wrong = run("-s", "APIKEYS", "--", *CHILD, env={**through_agent(agent), "ENVINJECT_VIA": None,
                                                    "AWS_TOKEN": "wrong"})  # fmt: skip
    assert wrong.returncode == 125 and "refused the token from AWS_TOKEN" in wrong.stderr
    agent.failure = 500
    failing = run("-s", "APIKEYS", "--", *CHILD, env=through_agent(agent))
    assert failing.returncode == 125 and "HTTP 500" in failing.stderr and "--via api" in failing.stderr
    down = run("-s", "APIKEYS", "--", *CHILD, env=through_agent(agent, ENVINJECT_AGENT_URL="http://127.0.0.1:9"))
    assert down.returncode == 125 and "cannot connect to the Secrets Manager agent" in down.stderr
    for r in (wrong, failing, down):
        r.assert_no(CANARY)
        assert len(r.stderr.splitlines()) == 1 and r.stdout == ""


def test_the_deadline_holds_for_an_agent_that_never_answers(run: Run, agent: FakeAgent) -> None:
    agent.failure = "hang"
    r = run("--timeout", "1", "-s", "APIKEYS", "--", *CHILD, env=through_agent(agent), timeout=30)
    assert r.returncode == 125 and r.stdout == ""
    assert "agent" in r.stderr and len(r.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTP/1.1 400 Bad\r\nContent-Length: 60\r\n\r\n"
        + json.dumps({"__type": "X\x1b]0;", "message": CANARY}).encode(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + json.dumps({"SecretString": 1, "n": CANARY}).encode(),
        b"HTTP/1.1 500 " + CANARY.encode() + b"\r\nX-Note: " + CANARY.encode() + b"\r\nContent-Length: 0\r\n\r\n",
        b"\x1b[2J" + CANARY.encode() + b"\r\n\r\n",
    ],
)
def test_a_hostile_agent_gets_one_clean_line(run: Run, agent: FakeAgent, raw: bytes) -> None:
    agent.raw = raw
    r = run("-s", "APIKEYS", "--", *CHILD, env=through_agent(agent))
    assert r.returncode == 125 and r.stdout == "" and len(r.stderr.splitlines()) == 1, r.stderr
    assert "\x1b" not in r.stderr
    r.assert_no(CANARY)


def test_the_lambda_extension_gets_the_session_token_on_its_own_port_only(run: Run, emulator: Emulator) -> None:
    with fake_agent(emulator.url, token="session-token") as extension:
        port = extension.url.rsplit(":", 1)[1]
        lambda_env = {"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "AWS_SESSION_TOKEN": "session-token",
                      "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": port, "ENVINJECT_AGENT_URL": extension.url}  # fmt: skip
        r = run("-s", "NOPE", "--", *CHILD, env={**lambda_env, "ENVINJECT_VIA": "agent"})
        assert "answered by the Secrets Manager agent" in r.stderr  # it reached the extension, with its token
        assert extension.received == {"/secretsmanager/get": 1}
        elsewhere = run("-s", "NOPE", "--", *CHILD, env={**lambda_env, "ENVINJECT_VIA": "agent",
                                                         "PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "1"})  # fmt: skip
        assert elsewhere.returncode == 125 and "needs the agent's token" in elsewhere.stderr
        run("-s", "NOPE", "--", *CHILD, env=lambda_env)  # auto: the extension does not answer during INIT
        assert extension.received == {"/secretsmanager/get": 1}


@pytest.mark.parametrize(
    "url", ["http://example.com:2773", "https://localhost:2773", "http://localhost:2773/path", "http://u@localhost",
            "http://10.0.0.1:2773", "http://localhost:99999"],
)  # fmt: skip
def test_an_agent_url_off_this_machine_is_refused_before_anything_is_sent(run: Run, url: str) -> None:
    r = run("-s", "APIKEYS", "--", *CHILD, env={"AWS_TOKEN": "t", "ENVINJECT_AGENT_URL": url})
    assert r.returncode == 125 and "ENVINJECT_AGENT_URL must be an http:// URL to this machine" in r.stderr


def test_check_says_whether_the_agent_answered_and_policy_names_its_role(run: Run, agent: FakeAgent) -> None:
    r = run("check", "-s", "APIKEYS", "-s", "ssm:///app/x", env=dict(agent.env()))
    assert f"agent: {agent.url} (healthy), token from AWS_TOKEN: answered for 1 secret(s)" in r.stdout
    none = run("check", "-s", "APIKEYS")
    assert "agent: none found (no AWS_TOKEN" in none.stdout
    as_json = json.loads(run("check", "--json", "-s", "APIKEYS", env=dict(agent.env())).stdout)
    assert as_json["agent"].startswith(agent.url)
    policy = run("policy", "-s", "APIKEYS", env=dict(agent.env()))
    assert policy.returncode == 0 and "the agent's role" in policy.stderr
    assert json.loads(policy.stdout)["Statement"]


def test_a_watch_poll_skips_the_agents_cache(emulator: Emulator, agent: FakeAgent, sm: Any, tmp_path: Path) -> None:
    out = tmp_path / "seen"
    script = f"import os; open({str(out)!r}, 'a').write(os.environ['OPENAI'] + '\\n'); import time; time.sleep(60)"
    env = {k: v for k, v in {**base_env(emulator), **through_agent(agent)}.items() if v is not None}
    proc = subprocess.Popen([ENVINJECT, "--watch", "1", "-s", "APIKEYS", "--", sys.executable, "-c", script],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        wait_for(lambda: out.exists() and CANARY in out.read_text(), timeout=30)
        sm.put_secret_value(SecretId="APIKEYS", SecretString=json.dumps({"openai": "rotated-value"}))
        wait_for(lambda: "rotated-value" in out.read_text(), timeout=30)  # the agent's cache lasts 300 s
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_a_reference_with_a_role_is_read_from_the_api(run: Run, agent: FakeAgent) -> None:
    role = "arn:aws:iam::210987654321:role/reader"  # the agent reads with its own role, never with this one
    r = run("-s", f"KEY=APIKEYS#openai?role={role}", "--", *CHILD, env=dict(agent.env()))
    assert r.returncode == 125 and "was not found in us-east-1" in r.stderr  # the role's account has no APIKEYS
    assert "agent" not in r.stderr and agent.received == {}
