"""Parameter Store end to end: the installed envinject against moto_server, mixing ssm:// and Secrets Manager
references in run, export, check and policy, with IAM enforced for the generated policy, and --watch."""

import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from dotenv import dotenv_values

from tests.e2e.conftest import CHILD, Result
from tests.e2e.test_resident import CHILD as RESIDENT_CHILD
from tests.e2e.test_resident import lines, start, wait_for
from tests.emulator import Emulator
from tests.faults.proxy import FaultPlan, FaultProxy

Run = Callable[..., Result]
CANARY = "canary-ssm-e2e-8128"


@pytest.fixture
def ssm(sm: Any, emulator: Emulator) -> Iterator[Any]:
    """A boto3 SSM client on the emulator (reset by ``sm``), with the README's example parameters, and
    APIKEYS in Secrets Manager."""
    client = boto3.client("ssm", endpoint_url=emulator.url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps({"openai": "sk-1", "anthropic": "sk-ant-1"}))
    client.put_parameter(Name="/myapp/prod/db/password", Value=CANARY, Type="SecureString")
    client.put_parameter(Name="/myapp/prod/db/host", Value="db.internal", Type="String")
    client.put_parameter(Name="/myapp/prod/feature-flags", Value="a,b", Type="StringList")
    for i in range(11):
        client.put_parameter(Name=f"/myapp/prod/limits/l{i:02}", Value=str(i), Type="String")
    client.put_parameter(Name="/other/token", Value=CANARY + "-other", Type="SecureString")
    yield client


EXPECTED = {
    "OPENAI": "sk-1",
    "ANTHROPIC": "sk-ant-1",
    "DB_PASSWORD": CANARY,
    "DB_HOST": "db.internal",
    "FEATURE_FLAGS": "a,b",
    **{f"LIMITS_L{i:02}": str(i) for i in range(11)},
}


def test_run_with_secrets_and_parameters(ssm: Any, run: Run) -> None:
    r = run("-v", "-s", "APIKEYS", "-s", "ssm:///myapp/prod/", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert {k: r.env[k] for k in EXPECTED} == EXPECTED
    assert "GetParametersByPath" in r.stderr and "GetSecretValue" in r.stderr
    assert CANARY not in r.stderr

    r = run("-s", "TOKEN=ssm:///other/token", "-s", "ssm:///myapp/prod/db/host", "--", *CHILD)
    assert (r.env["TOKEN"], r.env["HOST"]) == (CANARY + "-other", "db.internal")


def test_a_missing_parameter_runs_nothing(ssm: Any, run: Run, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    r = run("-s", "APIKEYS", "-s", "ssm:///myapp/prod/db/pasword", "--", "touch", str(marker))
    assert r.returncode == 125
    assert not marker.exists()
    assert r.stderr.strip() == (
        "envinject: parameter '/myapp/prod/db/pasword' was not found in us-east-1; "
        "check the name, or --region if it lives in another region"
    )


def test_export_a_path(ssm: Any, run: Run, tmp_path: Path) -> None:
    out = tmp_path / "prod.env"
    r = run("export", "-s", "ssm:///myapp/prod/", "-s", "APIKEYS", "-o", str(out))
    assert r.returncode == 0, r.stderr
    r.assert_no(CANARY)
    assert dotenv_values(out, interpolate=False) == EXPECTED | {"OPENAI": "sk-1"}
    r = run("export", "--format", "json", "-s", "PW=ssm:///myapp/prod/db/password")
    assert json.loads(r.stdout) == {"PW": CANARY}


def test_generated_policy_allows_exactly_the_parameters(ssm: Any, run: Run, iam: Any) -> None:
    refs = ["-s", "APIKEYS", "-s", "ssm:///myapp/prod/", "-s", "ssm:///other/token:1"]
    r = run("policy", *refs)
    assert r.returncode == 0, r.stderr
    document = json.loads(r.stdout)
    read = [s for s in document["Statement"] if s["Sid"] == "ReadParameters"]
    assert read[0]["Resource"] == [
        "arn:aws:ssm:us-east-1:123456789012:parameter/myapp/prod",
        "arn:aws:ssm:us-east-1:123456789012:parameter/myapp/prod/*",
        "arn:aws:ssm:us-east-1:123456789012:parameter/other/token",
    ]
    r.assert_no(CANARY)
    ssm.put_parameter(Name="/myapp/staging/db", Value=CANARY, Type="SecureString")
    keys = iam(json.dumps(document))

    r = run(*refs, "--", *CHILD, env=keys)
    assert r.returncode == 0, r.stderr
    assert {k: r.env[k] for k in EXPECTED} == EXPECTED

    # The same user, one parameter outside what the policy names: denied, and the action is named.
    r = run("-s", "ssm:///myapp/staging/db", "--", "true", env=keys)
    assert r.returncode == 125
    assert "access denied to parameter '/myapp/staging/db'" in r.stderr
    assert "ssm:GetParameter" in r.stderr
    r.assert_no(CANARY)

    r = run("check", "--json", *refs, "-s", "ssm:///myapp/staging/", env=keys)
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert [(x["ref"], x["status"]) for x in report["refs"]] == [
        ("APIKEYS", "ok"),
        ("ssm:///myapp/prod/", "ok"),
        ("ssm:///other/token:1", "ok"),
        ("ssm:///myapp/staging/", "denied"),
    ]
    assert report["refs"][3]["action"] == "ssm:GetParametersByPath"
    assert report["variables"]["DB_HOST"] == ["ssm:///myapp/prod/db/host"]
    r.assert_no(CANARY)


def test_check_reports_each_parameter_and_path(ssm: Any, run: Run) -> None:
    r = run("check", "-s", "ssm:///myapp/prod/db/host", "-s", "ssm:///nothing/", "-s", "ssm:///myapp/prod/db/")
    assert r.returncode == 1
    assert "OK           ssm:///myapp/prod/db/host: 1 variable(s)" in r.stdout
    assert "NOT FOUND    ssm:///nothing/: parameter path '/nothing/' holds no parameters" in r.stdout
    assert "PASSWORD <- ssm:///myapp/prod/db/password" in r.stdout
    r.assert_no(CANARY)


def test_watch_restarts_when_a_parameter_changes(ssm: Any, emulator: Emulator, tmp_path: Path) -> None:
    ssm.put_parameter(Name="/watched/token", Value="token-one", Type="SecureString")
    log = tmp_path / "log"
    p = start(emulator, "-s", "ssm:///watched/", "--watch", "1", "--", *RESIDENT_CHILD, str(log), "trap")
    try:
        wait_for(lambda: bool(lines(log)))
        assert lines(log)[0].endswith("token-one")
        ssm.put_parameter(Name="/watched/token", Value="token-two", Type="SecureString", Overwrite=True)
        wait_for(lambda: any(x.endswith("token-two") for x in lines(log)), timeout=15)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=15)
    err = p.stderr.read().decode() if p.stderr else ""
    assert "parameter path '/watched/' changed" in err
    assert "token-one" not in err and "token-two" not in err


def test_push_names_a_secret_not_a_parameter(run: Run, tmp_path: Path) -> None:
    (tmp_path / "app.env").write_text(f"K={CANARY}\n")
    r = run("push", str(tmp_path / "app.env"), "-s", "ssm:///myapp/k")
    assert r.returncode == 125
    assert "push stores one Secrets Manager secret, and 'ssm:///myapp/k' is a parameter" in r.stderr
    r.assert_no(CANARY)


def test_policy_decrypts_a_customer_key_through_ssm_only(ssm: Any, run: Run, emulator: Emulator, iam: Any) -> None:
    kms = boto3.client("kms", endpoint_url=emulator.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    key = kms.create_key()["KeyMetadata"]
    ssm.put_parameter(Name="/cmk/token", Value=CANARY, Type="SecureString", KeyId=key["KeyId"])
    r = run("policy", "-s", "ssm:///cmk/", "-s", "ssm:///myapp/prod/db/password")
    assert r.returncode == 0, r.stderr
    decrypt = [s for s in json.loads(r.stdout)["Statement"] if s["Action"] == "kms:Decrypt"]
    assert decrypt == [{"Sid": "Decrypt1", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key["Arn"],
                        "Condition": {"StringEquals": {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}}}]  # fmt: skip
    r.assert_no(CANARY)

    # Without ssm:DescribeParameters the policy is still written, with a warning asking for --kms-key.
    keys = iam(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": "*"}]}))  # fmt: skip
    r = run("policy", "-s", "ssm:///cmk/", "--account", "123456789012", env=keys)
    assert r.returncode == 0, r.stderr
    assert "ssm:DescribeParameters" in r.stderr and "--kms-key" in r.stderr
    assert [s["Sid"] for s in json.loads(r.stdout)["Statement"]] == ["ReadParameters"]


@pytest.mark.parametrize("fault", ["garble", "truncate"])
@pytest.mark.parametrize("ref", ["ssm:///myapp/prod/db/host", "ssm:///myapp/prod/", "X=ssm:///myapp/prod/db/host:1"])
def test_garbled_or_cut_off_answers_run_nothing(
    ssm: Any, run: Run, emulator: Emulator, tmp_path: Path, fault: str, ref: str
) -> None:
    marker = tmp_path / "ran"
    with FaultProxy(emulator.url, FaultPlan(**{fault: 1.0})) as proxy:
        r = run("-s", ref, "--endpoint-url", proxy.url, "--", "touch", str(marker))
    assert r.returncode == 125
    assert not marker.exists()
    assert len(r.stderr.splitlines()) == 1
    assert "garbled or cut-off" in r.stderr and proxy.url in r.stderr
    r.assert_no(CANARY)


def test_throttled_parameter_reads_are_retried(ssm: Any, run: Run, emulator: Emulator) -> None:
    with FaultProxy(emulator.url, FaultPlan(throttle=0.5, seed=7)) as proxy:
        r = run("-s", "APIKEYS", "-s", "ssm:///myapp/prod/", "--endpoint-url", proxy.url, "--", *CHILD)
        counts = proxy.counts
    assert r.returncode == 0, r.stderr
    assert {k: r.env[k] for k in EXPECTED} == EXPECTED
    assert counts.faults["throttle"] >= 1  # the retries rode it out
    assert counts.operations["AmazonSSM.GetParametersByPath"] >= 2
