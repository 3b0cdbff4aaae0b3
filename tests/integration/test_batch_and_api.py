"""Batch fetch, its fallbacks, and the Python API against moto's in-process Secrets Manager."""

import json
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

import envinject
from envinject.errors import FetchError, NamingError
from envinject.rules.refs import Locator
from envinject.sources.secretsmanager import SecretsManagerSource
from tests.resolve import resolve


def make(aws: Any, n: int, prefix: str = "s") -> list[str]:
    arns = []
    for i in range(n):
        arns.append(aws.create_secret(Name=f"{prefix}{i}", SecretString=json.dumps({f"k{i}": f"v{i}"}))["ARN"])
    return arns


def test_five_secrets_one_batch_call(aws: Any) -> None:
    make(aws, 5)
    source = SecretsManagerSource.from_client(aws)
    result = source.fetch_many([Locator(f"s{i}") for i in range(5)])
    assert source.requests == {"BatchGetSecretValue": 1}
    assert [json.loads(result[Locator(f"s{i}")].text or "") for i in range(5)] == [{f"k{i}": f"v{i}"} for i in range(5)]


def test_twenty_five_secrets_two_batches(aws: Any) -> None:
    make(aws, 25)
    source = SecretsManagerSource.from_client(aws)
    bindings = resolve([f"s{i}" for i in range(25)], source)
    assert len(bindings) == 25
    assert source.requests == {"BatchGetSecretValue": 2}


def test_a_lone_secret_and_pinned_versions_use_get(aws: Any) -> None:
    make(aws, 3)
    source = SecretsManagerSource.from_client(aws)
    source.fetch_many([Locator("s0"), Locator("s1", "AWSCURRENT"), Locator("s2", "AWSCURRENT")])
    assert source.requests == {"GetSecretValue": 3}


def test_batch_matches_full_and_partial_arns(aws: Any) -> None:
    arns = make(aws, 2)
    partial = arns[1][:-7]  # without "-XXXXXX"
    source = SecretsManagerSource.from_client(aws)
    result = source.fetch_many([Locator(arns[0]), Locator(partial)])
    assert json.loads(result[Locator(partial)].text or "") == {"k1": "v1"}
    assert source.requests == {"BatchGetSecretValue": 1}


def test_batch_error_for_one_secret_names_it(aws: Any) -> None:
    make(aws, 2)
    with pytest.raises(FetchError) as info:
        SecretsManagerSource.from_client(aws).fetch_many([Locator("s0"), Locator("nope"), Locator("s1")])
    assert "'nope' was not found" in str(info.value)


class Refusing:
    """A client whose batch call fails as AWS would; GetSecretValue goes through."""

    def __init__(self, client: Any, code: str, message: str) -> None:
        self.client, self.code, self.message = client, code, message
        self.meta = client.meta

    def batch_get_secret_value(self, **_: Any) -> Any:
        raise ClientError({"Error": {"Code": self.code, "Message": self.message}}, "BatchGetSecretValue")

    def get_secret_value(self, **kwargs: Any) -> Any:
        return self.client.get_secret_value(**kwargs)


@pytest.mark.parametrize(
    ("code", "message", "said"),
    [
        ("AccessDeniedException", "not authorized to perform: secretsmanager:BatchGetSecretValue", "was denied"),
        ("403", "", "was denied"),  # moto's form of a denial
        ("ThrottlingException", "Rate exceeded", "was throttled"),
    ],
)
def test_batch_denied_or_throttled_falls_back(aws: Any, code: str, message: str, said: str) -> None:
    make(aws, 5)
    notes: list[str] = []
    source = SecretsManagerSource.from_client(Refusing(aws, code, message), note=notes.append)
    assert len(resolve([f"s{i}" for i in range(5)], source)) == 5
    assert source.requests == {"BatchGetSecretValue": 1, "GetSecretValue": 5}
    assert len(notes) == 1
    assert said in notes[0]


def test_no_batch(aws: Any) -> None:
    make(aws, 3)
    source = SecretsManagerSource.from_client(aws, batch=False)
    resolve(["s0", "s1", "s2"], source)
    assert source.requests == {"GetSecretValue": 3}


def test_api_fetch(aws: Any) -> None:
    aws.create_secret(Name="APIKEYS", SecretString='{"openai": "sk-1", "anthropic": "sk-2"}')
    assert envinject.fetch("APIKEYS") == {"OPENAI": "sk-1", "ANTHROPIC": "sk-2"}
    assert envinject.fetch("APIKEYS#openai", prefix="APP_") == {"APP_OPENAI": "sk-1"}
    assert envinject.fetch("K=APIKEYS#openai", client=aws) == {"K": "sk-1"}
    with pytest.raises(envinject.ConfigError):
        envinject.fetch("APIKEYS", require=["MISSING"])
    with pytest.raises(envinject.EnvinjectError):
        envinject.fetch("nope")


def test_api_rules_match_the_cli(aws: Any, tmp_path: Any) -> None:
    aws.create_secret(Name="evil", SecretString='{"path": "/tmp/evil"}')
    with pytest.raises(NamingError):
        envinject.fetch("evil")
    assert envinject.fetch("evil", allow=["PATH"]) == {"PATH": "/tmp/evil"}
    template = tmp_path / "app.env"
    template.write_text("MODE=dev\nKEY=sm://evil#path\n")
    assert envinject.fetch(env_files=[str(template)]) == {"MODE": "dev", "KEY": "/tmp/evil"}


def test_api_load(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    aws.create_secret(Name="APIKEYS", SecretString='{"openai": "sk-1", "anthropic": "sk-2"}')
    monkeypatch.setenv("OPENAI", "inherited")
    monkeypatch.delenv("ANTHROPIC", raising=False)
    assert envinject.load("APIKEYS", override=False) == {"ANTHROPIC": "sk-2"}
    assert os.environ["OPENAI"] == "inherited"
    assert envinject.load("APIKEYS") == {"OPENAI": "sk-1"}
    assert os.environ["OPENAI"] == "sk-1"
