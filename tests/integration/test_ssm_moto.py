"""Parameter Store against moto's in-process SSM: parameters, paths, SecureString, versions, labels, errors,
and references to both backends in one run."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import envinject
from envinject.errors import EnvinjectError, FetchError, NamingError
from envinject.rules.refs import parse_ref
from envinject.sources.ssm import ParameterStoreSource

CANARY = "canary-ssm-5150"


@pytest.fixture
def ssm(aws: Any) -> Iterator[Any]:
    """A moto SSM client in the same mock as the ``aws`` Secrets Manager client."""
    yield boto3.client("ssm", region_name="us-east-1")


def put(ssm: Any, name: str, value: str, kind: str = "String", **extra: Any) -> None:
    ssm.put_parameter(Name=name, Value=value, Type=kind, Overwrite=True, **extra)


def fetch(ssm: Any, *refs: str, **options: Any) -> dict[str, str]:
    return envinject.fetch(*refs, client={"ssm": ssm}, **options)


def loc(text: str) -> Any:
    return parse_ref(text).locator


def test_a_parameter_is_named_from_its_last_segment(ssm: Any) -> None:
    put(ssm, "/myapp/prod/db_url", "postgres://db/app")
    put(ssm, "/myapp/prod/api-host", "api.example.com")
    put(ssm, "toplevel", "t")
    assert fetch(ssm, "ssm:///myapp/prod/db_url", "ssm:///myapp/prod/api-host", "ssm://toplevel") == {
        "DB_URL": "postgres://db/app",
        "API_HOST": "api.example.com",
        "TOPLEVEL": "t",
    }
    assert fetch(ssm, "URL=ssm:///myapp/prod/db_url", prefix="APP_") == {"URL": "postgres://db/app"}
    assert fetch(ssm, "ssm:///myapp/prod/db_url", prefix="APP_") == {"APP_DB_URL": "postgres://db/app"}


def test_a_json_parameter_takes_a_key(ssm: Any) -> None:
    put(ssm, "/myapp/db", json.dumps({"user": "app", "password": CANARY}))
    assert fetch(ssm, "PW=ssm:///myapp/db#password") == {"PW": CANARY}
    assert fetch(ssm, "ssm:///myapp/db#user") == {"USER": "app"}
    # without a key, the whole text is the value of one variable
    assert json.loads(fetch(ssm, "ssm:///myapp/db")["DB"]) == {"user": "app", "password": CANARY}


def test_a_path_reads_every_level_below_it_across_pages(ssm: Any) -> None:
    for i in range(12):
        put(ssm, f"/myapp/prod/flags/f{i:02}", str(i))
    put(ssm, "/myapp/prod/db/primary/host", "db1")
    put(ssm, "/myapp/prod/log-level", "info")
    put(ssm, "/myapp/production/elsewhere", "not under the path")
    put(ssm, "/myapp/other", "nor this")
    source = ParameterStoreSource.from_client(ssm)
    env = envinject.fetch("ssm:///myapp/prod/", client={"ssm": ssm})
    assert env == {
        "DB_PRIMARY_HOST": "db1",
        **{f"FLAGS_F{i:02}": str(i) for i in range(12)},
        "LOG_LEVEL": "info",
    }
    result = source.fetch_many([loc("ssm:///myapp/prod/")])
    assert source.requests == {"GetParametersByPath": 2}  # 14 parameters, at most 10 a page
    payload = result[loc("ssm:///myapp/prod/")]
    assert payload.items is not None
    assert [i.origin for i in payload.items][:2] == ["ssm:///myapp/prod/db/primary/host", "ssm:///myapp/prod/flags/f00"]
    assert fetch(ssm, "ssm:///myapp/prod/db/", prefix="DB_") == {"DB_PRIMARY_HOST": "db1"}


def test_the_root_path(ssm: Any) -> None:
    put(ssm, "/a/b", "1")
    put(ssm, "/c", "2")
    assert fetch(ssm, "ssm:///") == {"A_B": "1", "C": "2"}


def test_secure_strings_are_decrypted_with_the_aws_key_and_a_customer_key(ssm: Any) -> None:
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
    put(ssm, "/myapp/secret/default", CANARY + "1", "SecureString")
    put(ssm, "/myapp/secret/custom", CANARY + "2", "SecureString", KeyId=key)
    assert fetch(ssm, "ssm:///myapp/secret/") == {"DEFAULT": CANARY + "1", "CUSTOM": CANARY + "2"}
    assert fetch(ssm, "ssm:///myapp/secret/custom") == {"CUSTOM": CANARY + "2"}
    source = ParameterStoreSource.from_client(ssm)
    assert source.kms_keys_of(loc("ssm:///myapp/secret/")) == [key]
    assert source.kms_keys_of(loc("ssm:///myapp/secret/default")) == []


def test_a_string_list_stays_the_comma_separated_text(ssm: Any) -> None:
    put(ssm, "/myapp/hosts", "a.example.com,b.example.com", "StringList")
    assert fetch(ssm, "ssm:///myapp/hosts") == {"HOSTS": "a.example.com,b.example.com"}


def test_versions_and_labels(ssm: Any) -> None:
    for value in ("v1", "v2", "v3"):
        put(ssm, "/myapp/token", value)
    ssm.label_parameter_version(Name="/myapp/token", ParameterVersion=1, Labels=["blue"])
    assert fetch(ssm, "A=ssm:///myapp/token:1", "B=ssm:///myapp/token?version=2", "C=ssm:///myapp/token") == {
        "A": "v1",
        "B": "v2",
        "C": "v3",
    }
    assert fetch(ssm, "A=ssm:///myapp/token:blue", "B=ssm:///myapp/token?label=blue") == {"A": "v1", "B": "v1"}
    with pytest.raises(FetchError) as info:
        fetch(ssm, "ssm:///myapp/token:9")
    assert info.value.kind == "not_found"
    assert "'/myapp/token' has no version 9" in info.value.message


def test_parameters_go_ten_to_a_call(ssm: Any) -> None:
    for i in range(23):
        put(ssm, f"/many/p{i}", f"v{i}")
    source = ParameterStoreSource.from_client(ssm)
    locators = [loc(f"ssm:///many/p{i}") for i in range(23)]
    result = source.fetch_many(locators)
    assert source.requests == {"GetParameters": 3}
    assert [result[x].text for x in locators] == [f"v{i}" for i in range(23)]


def test_a_missing_parameter_or_empty_path_fails_the_whole_run(ssm: Any) -> None:
    put(ssm, "/myapp/ok", CANARY)
    for ref, words in (
        ("ssm:///myapp/missing", "parameter '/myapp/missing' was not found in us-east-1"),
        ("ssm:///nothing/here/", "parameter path '/nothing/here/' holds no parameters"),
    ):
        with pytest.raises(FetchError) as info:
            fetch(ssm, "ssm:///myapp/ok", ref)
        assert words in str(info.value)
        assert info.value.kind == "not_found"
        assert CANARY not in str(info.value)
    results = ParameterStoreSource.from_client(ssm).fetch_each([loc("ssm:///myapp/ok"), loc("ssm:///myapp/missing")])
    assert [isinstance(r, EnvinjectError) for r in results.values()] == [False, True]


def test_names_from_a_path_are_checked_like_any_other(ssm: Any) -> None:
    put(ssm, "/danger/PATH", CANARY)
    with pytest.raises(NamingError) as info:
        fetch(ssm, "ssm:///danger/")
    assert "PATH" in info.value.message and "--allow PATH" in str(info.value)
    assert fetch(ssm, "ssm:///danger/", allow=["PATH"]) == {"PATH": CANARY}
    put(ssm, "/clash/db-host", "a")
    put(ssm, "/clash/db_host", "b")
    with pytest.raises(NamingError) as info:
        fetch(ssm, "ssm:///clash/")
    assert "'ssm:///clash/db-host' and 'ssm:///clash/db_host' both become DB_HOST" in info.value.message


def test_a_version_changes_when_anything_under_a_path_does(ssm: Any) -> None:
    put(ssm, "/w/a", "1")
    put(ssm, "/w/b", "1")
    source = ParameterStoreSource.from_client(ssm)
    path, one = loc("ssm:///w/"), loc("ssm:///w/a")

    def versions() -> list[str | None]:
        got = source.fetch_many([path, one])
        return [got[path].version_id, got[one].version_id]

    first = versions()
    assert versions() == first
    put(ssm, "/w/b", "2")
    second = versions()
    assert second[0] != first[0] and second[1] == first[1]
    put(ssm, "/w/c", "new")
    assert versions()[0] != second[0]


def test_a_denied_get_parameters_falls_back_to_get_parameter(ssm: Any) -> None:
    put(ssm, "/fb/a", "1")
    put(ssm, "/fb/b", "2")
    notes: list[str] = []

    class OnlyGetParameter:
        def __getattr__(self, name: str) -> Any:
            return getattr(ssm, name)

        def get_parameters(self, **_: Any) -> Any:
            error = {"Code": "AccessDeniedException", "Message": "not authorized to perform: ssm:GetParameters"}
            raise ClientError({"Error": error}, "GetParameters")

    source = ParameterStoreSource.from_client(OnlyGetParameter(), note=notes.append)
    result = source.fetch_many([loc("ssm:///fb/a"), loc("ssm:///fb/b")])
    assert [p.text for p in result.values()] == ["1", "2"]
    assert source.requests == {"GetParameters": 1, "GetParameter": 2}
    assert notes == ["GetParameters was denied; reading 2 parameter(s) with GetParameter instead"]


def test_secrets_and_parameters_in_one_run(aws: Any, ssm: Any) -> None:
    aws.create_secret(Name="APIKEYS", SecretString=json.dumps({"openai": "sk-1", "anthropic": "sk-ant-1"}))
    put(ssm, "/myapp/prod/url", "https://example.com")
    put(ssm, "/myapp/prod/openai", "from-ssm")
    env = envinject.fetch("APIKEYS", "ssm:///myapp/prod/", "DB=ssm:///myapp/prod/url", client={"sm": aws, "ssm": ssm})
    # Precedence is the reference order within a layer, then VAR= last, whatever the backend.
    assert env == {"OPENAI": "from-ssm", "ANTHROPIC": "sk-ant-1", "URL": "https://example.com",
                   "DB": "https://example.com"}  # fmt: skip
    with pytest.raises(envinject.EnvinjectError) as info:
        envinject.fetch("APIKEYS", "ssm:///myapp/prod/url", client=aws)
    assert "no client was given for 'ssm' references" in str(info.value)


def test_env_file_templates_take_parameters(ssm: Any, tmp_path: Any) -> None:
    put(ssm, "/myapp/url", "https://example.com")
    template = tmp_path / "app.env"
    template.write_text("URL=ssm:///myapp/url\nMODE=plain\n")
    assert fetch(ssm, env_files=[str(template)]) == {"URL": "https://example.com", "MODE": "plain"}
    template.write_text("ALL=ssm:///myapp/\n")
    with pytest.raises(envinject.EnvinjectError) as info:
        fetch(ssm, env_files=[str(template)])
    assert "is a path, which sets one variable per parameter" in str(info.value)


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("ssm:///myapp/token:9", "parameter '/myapp/token' has no version 9 in us-east-1"),
        ("ssm:///myapp/token?version=9", "parameter '/myapp/token' has no version 9 in us-east-1"),
        ("ssm:///myapp/token:green", "parameter '/myapp/token' has no version with label 'green' in us-east-1"),
        ("ssm:///myapp/token?label=green", "parameter '/myapp/token' has no version with label 'green'"),
    ],
)
def test_a_missing_version_or_label_is_not_a_missing_parameter(ssm: Any, ref: str, words: str) -> None:
    put(ssm, "/myapp/token", CANARY, "SecureString")
    with pytest.raises(FetchError) as info:
        fetch(ssm, ref)
    assert words in str(info.value)
    assert "aws ssm get-parameter-history --name /myapp/token" in str(info.value)
    assert info.value.kind == "not_found"
    assert CANARY not in str(info.value)
    with pytest.raises(FetchError) as info:  # no such parameter at all: still said so
        fetch(ssm, ref.replace("token", "nothing"))
    assert "'/myapp/nothing" in str(info.value) and "was not found in us-east-1" in str(info.value)
