"""The README's IAM walkthrough, with IAM enforced by moto_server: policy, user, check, run."""

import json
from collections.abc import Callable
from typing import Any

import boto3

from tests.e2e.conftest import CHILD, Result
from tests.emulator import Emulator

Run = Callable[..., Result]
CANARY = "canary-iam-2718"


def test_generated_policy_is_exactly_enough(sm: Any, run: Run, iam: Any, emulator: Emulator) -> None:
    sm.create_secret(Name="app/a", SecretString=json.dumps({"a": CANARY + "a"}))
    sm.create_secret(Name="app/b", SecretString=json.dumps({"b": CANARY + "b"}))
    sm.create_secret(Name="app/c", SecretString=json.dumps({"c": CANARY + "c"}))

    r = run("policy", "-s", "app/a", "-s", "app/b")
    assert r.returncode == 0, r.stderr
    document = json.loads(r.stdout)
    r.assert_no(CANARY)
    keys = iam(json.dumps(document))

    r = run("-s", "app/a", "-s", "app/b", "--", *CHILD, env=keys)
    assert r.returncode == 0, r.stderr
    assert (r.env["A"], r.env["B"]) == (CANARY + "a", CANARY + "b")

    r = run("-s", "app/c", "--", "true", env=keys)
    assert r.returncode == 125
    assert "access denied to secret 'app/c'" in r.stderr
    assert "secretsmanager:GetSecretValue" in r.stderr
    r.assert_no(CANARY)

    r = run("check", "--json", "-s", "app/a", "-s", "app/b", "-s", "app/c", env=keys)
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert [(x["ref"], x["status"], x["action"]) for x in report["refs"]] == [
        ("app/a", "ok", None),
        ("app/b", "ok", None),
        ("app/c", "denied", "secretsmanager:GetSecretValue"),
    ]
    assert list(report["variables"]) == ["A", "B"]
    assert report["ok"] is False
    r.assert_no(CANARY)

    r = run("check", "-s", "app/a", "-s", "app/b", env=keys)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "A <- app/a#a" in r.stdout
    r.assert_no(CANARY)


def test_user_without_policy(sm: Any, run: Run, iam: Any) -> None:
    sm.create_secret(Name="APIKEYS", SecretString=json.dumps({"openai": CANARY}))
    keys = iam(None)
    r = run("-s", "APIKEYS", "--", "true", env=keys)
    assert r.returncode == 125
    assert r.stderr.count("\n") == 1
    assert "secretsmanager:GetSecretValue" in r.stderr
    assert "'APIKEYS'" in r.stderr
    r = run("check", "-s", "APIKEYS", env=keys)
    assert r.returncode == 1
    assert "DENIED" in r.stdout
    r.assert_no(CANARY)


def test_policy_includes_the_customer_managed_key(sm: Any, run: Run, emulator: Emulator) -> None:
    kms = boto3.client("kms", endpoint_url=emulator.url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/app", TargetKeyId=key["KeyId"])
    sm.create_secret(Name="by-id", SecretString="{}", KmsKeyId=key["KeyId"])
    sm.create_secret(Name="by-alias", SecretString="{}", KmsKeyId="alias/app")
    sm.create_secret(Name="aws-key", SecretString="{}")
    r = run("policy", "-s", "by-id", "-s", "aws-key")
    assert r.returncode == 0, r.stderr
    kms_statements = [s for s in json.loads(r.stdout)["Statement"] if s["Action"] == "kms:Decrypt"]
    assert [s["Resource"] for s in kms_statements] == [key["Arn"]]
    assert kms_statements[0]["Condition"] == {
        "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
    }
    r = run("policy", "-s", "by-alias")
    assert [s["Resource"] for s in json.loads(r.stdout)["Statement"] if s["Action"] == "kms:Decrypt"] == [key["Arn"]]
    extra = "arn:aws:kms:us-east-1:123456789012:key/extra"
    r = run("policy", "-s", "aws-key", "--kms-key", extra)
    assert extra in r.stdout


def test_policy_degrades_without_describe_permission(sm: Any, run: Run, iam: Any) -> None:
    sm.create_secret(Name="x", SecretString="{}")
    keys = iam(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))  # fmt: skip
    r = run("policy", "-s", "x", "--account", "123456789012", env=keys)
    assert r.returncode == 0, r.stderr
    assert "secretsmanager:DescribeSecret" in r.stderr
    assert "--kms-key" in r.stderr
    assert json.loads(r.stdout)["Statement"][0]["Resource"] == [
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-??????"
    ]
