"""The core against moto's in-process Secrets Manager."""

import json
from typing import Any

import pytest

from envinject.errors import FetchError, SecretFormatError
from envinject.sources.aws import AwsSettings, ClientFactory
from envinject.sources.secretsmanager import SecretsManagerSource
from tests.resolve import resolve

CANARY = "canary-int-3141"


def source() -> SecretsManagerSource:
    factory = ClientFactory(AwsSettings())
    return SecretsManagerSource(lambda region: factory.client("secretsmanager", region))


def values(refs: list[str]) -> dict[str, str]:
    return {b.name: b.value for b in resolve(refs, source())}


def test_seed_scenario(aws: Any) -> None:
    aws.create_secret(Name="APIKEYS", SecretString=json.dumps({"openai": "sk-1", "anthropic": "sk-ant-2"}))
    assert values(["APIKEYS"]) == {"OPENAI": "sk-1", "ANTHROPIC": "sk-ant-2"}


def test_by_arn_and_partial_arn(aws: Any) -> None:
    arn = aws.create_secret(Name="prod/db", SecretString='{"password": "pw"}')["ARN"]
    assert values([arn]) == {"PASSWORD": "pw"}
    assert values([f"P={arn}#password"]) == {"P": "pw"}
    # An ECS task-definition reference copied unchanged.
    assert values([f"P={arn}:password::"]) == {"P": "pw"}


def test_versions(aws: Any) -> None:
    aws.create_secret(Name="rot", SecretString='{"k": "old"}')
    new_version = aws.put_secret_value(SecretId="rot", SecretString='{"k": "new"}')["VersionId"]
    assert values(["rot"]) == {"K": "new"}
    assert values(["rot?version-stage=AWSPREVIOUS"]) == {"K": "old"}
    assert values([f"rot?version-id={new_version}"]) == {"K": "new"}


def test_binary_secret(aws: Any) -> None:
    aws.create_secret(Name="bin", SecretBinary=b'{"k": "v"}')
    aws.create_secret(Name="raw", SecretBinary=b"\xff\x00" + CANARY.encode())
    assert values(["bin"]) == {"K": "v"}
    with pytest.raises(SecretFormatError) as info:
        values(["X=raw"])
    assert "binary" in str(info.value)
    assert CANARY not in str(info.value)


def test_many_secrets_concurrently(aws: Any) -> None:
    for i in range(12):
        aws.create_secret(Name=f"s{i}", SecretString=json.dumps({f"k{i}": f"v{i}"}))
    assert values([f"s{i}" for i in range(12)]) == {f"K{i}": f"v{i}" for i in range(12)}


def test_not_found_and_deleted(aws: Any) -> None:
    aws.create_secret(Name="gone", SecretString=json.dumps({"k": CANARY}))
    aws.delete_secret(SecretId="gone", RecoveryWindowInDays=7)
    aws.create_secret(Name="ok", SecretString=json.dumps({"k": CANARY}))
    with pytest.raises(FetchError) as info:
        values(["ok", "gone"])
    assert "scheduled for deletion" in str(info.value)
    with pytest.raises(FetchError) as info:
        values(["ok", "nope"])
    assert "'nope' was not found in us-east-1" in str(info.value)
    assert CANARY not in str(info.value)


def test_region_from_aws_region_wins_over_default(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert ClientFactory().default_region() == "eu-central-1"
    assert ClientFactory(AwsSettings(region="ap-south-1")).default_region() == "ap-south-1"


def test_one_client_per_region(aws: Any) -> None:
    factory = ClientFactory()
    assert factory.client("secretsmanager") is factory.client("secretsmanager", "us-east-1")
    assert factory.client("secretsmanager", "eu-west-1") is not factory.client("secretsmanager")


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("rot?version-stage=NOPE", "secret 'rot' has no version with stage 'NOPE' in us-east-1"),
        (
            "rot?version-id=00000000-0000-0000-0000-000000000000",
            "secret 'rot' has no version with id '00000000-0000-0000-0000-000000000000'",
        ),
    ],
)
def test_a_missing_version_is_not_a_missing_secret(aws: Any, ref: str, words: str) -> None:
    aws.create_secret(Name="rot", SecretString=json.dumps({"k": CANARY}))
    with pytest.raises(FetchError) as info:
        values([ref])
    assert words in str(info.value)
    assert "list-secret-version-ids --secret-id rot" in str(info.value)
    assert info.value.kind == "not_found"
    assert CANARY not in str(info.value)
    # A missing secret with a version named is still a missing secret.
    with pytest.raises(FetchError) as info:
        values(["nope?version-stage=NOPE"])
    assert "'nope?version-stage=NOPE' was not found in us-east-1" in str(info.value)
