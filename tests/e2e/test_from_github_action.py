"""The name transformations of aws-actions/aws-secretsmanager-get-secrets, restated for envinject.

Each test sets up the Action's own test data and asserts the names and values the Action's tests expect,
written with envinject's references. Where envinject differs on purpose (plain-text secrets need VAR=, JSON keys
are not prefixed with the secret's name unless asked), the test says so; the README lists every difference.
"""

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.conftest import CHILD, Result

Run = Callable[..., Result]
JSON_SECRET = {"api": {"user": "user", "key": "key"}, "config": {"active": True}}
NESTED_JSON_SECRET = {
    "host": "127.0.0.1",
    "port": "3600",
    "config": {"db_user": "testuser", "db_password": "testpw", "options": {"a": "YES", "b": "NO", "c": 100}},
}


@pytest.fixture
def action_data(sm: Any) -> Any:
    """The secrets of the Action's name-transformation integration tests."""
    sm.create_secret(Name="SampleSecret1", SecretString="SomeSampleSecret1")
    sm.create_secret(Name="/special/chars/secret", SecretString="SomeSampleSecret2")
    sm.create_secret(Name="0/special/chars/secret", SecretString="SomeSampleSecret3")
    sm.create_secret(Name="PrefixSecret1", SecretString="PrefixSecret1Value")
    sm.create_secret(Name="PrefixSecret2", SecretString="PrefixSecret2Value")
    sm.create_secret(Name="JsonSecret", SecretString=json.dumps(JSON_SECRET))
    return sm


def transformation(run: Run, case: str, names: list[str]) -> dict[str, str]:
    """The Action's secret-ids list for one transformation, as envinject references: a plain-text secret needs
    VAR= (the Action derives it from the secret's name), and the Action's name-plus-key naming of a parsed JSON
    secret is a per-reference prefix."""
    sample, special, zero, json_prefix, alias = names
    r = run(
        "--name-case", case,
        "-s", f"{sample}=SampleSecret1",
        "-s", f"{special}=/special/chars/secret",
        "-s", f"{zero}=0/special/chars/secret",
        "-s", f"{json_prefix}*=JsonSecret",
        "-s", f"{alias}=SampleSecret1",
        "--", *CHILD,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    return r.env


def expected(transform: Callable[[str], str]) -> dict[str, str]:
    """The Action's dataset (name_transformation.base.ts) less the prefix rows (see test_prefix)."""
    rows = [
        ("SampleSecret1", "SomeSampleSecret1"),
        ("_special_chars_secret", "SomeSampleSecret2"),
        ("_0_special_chars_secret", "SomeSampleSecret3"),
        ("JsonSecret_api_user", "user"),
        ("JsonSecret_api_key", "key"),
        ("JsonSecret_config_active", "true"),
        ("SampleSecret1_Alias", "SomeSampleSecret1"),
    ]
    return {transform(name): value for name, value in rows}


def test_uppercase(action_data: Any, run: Run) -> None:
    names = ["SAMPLESECRET1", "_SPECIAL_CHARS_SECRET", "_0_SPECIAL_CHARS_SECRET", "JSONSECRET_", "SAMPLESECRET1_ALIAS"]
    env = transformation(run, "upper", names)
    assert expected(str.upper).items() <= env.items()


def test_lowercase(action_data: Any, run: Run) -> None:
    names = ["samplesecret1", "_special_chars_secret", "_0_special_chars_secret", "jsonsecret_", "samplesecret1_alias"]
    env = transformation(run, "lower", names)
    assert expected(str.lower).items() <= env.items()


def test_none(action_data: Any, run: Run) -> None:
    names = ["SampleSecret1", "_special_chars_secret", "_0_special_chars_secret", "JsonSecret_", "SampleSecret1_Alias"]
    env = transformation(run, "keep", names)
    assert expected(lambda name: name).items() <= env.items()


def test_prefix(action_data: Any, run: Run) -> None:
    # The Action's PrefixSecret* holds plain-text secrets, each named after itself. envinject flattens every
    # secret of a selection by its JSON keys, so plain text there is an error naming the secret...
    r = run("-s", "PrefixSecret*", "--", "true")
    assert r.returncode == 125
    assert "'PrefixSecret1' is plain text" in r.stderr
    r.assert_no("PrefixSecret1Value", "PrefixSecret2Value")
    # ...and the same selection of JSON secrets gives every key.
    action_data.put_secret_value(SecretId="PrefixSecret1", SecretString='{"PrefixSecret1": "PrefixSecret1Value"}')
    action_data.put_secret_value(SecretId="PrefixSecret2", SecretString='{"PrefixSecret2": "PrefixSecret2Value"}')
    r = run("-s", "PrefixSecret*", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert (r.env["PREFIXSECRET1"], r.env["PREFIXSECRET2"]) == ("PrefixSecret1Value", "PrefixSecret2Value")


def test_alias(action_data: Any, run: Run) -> None:
    # The Action's "SECRET_ALIAS_1,test/secret" is VAR=NAME; on a JSON secret with parse-json-secrets the
    # alias becomes the prefix of each key, which is ALIAS_*=NAME here.
    r = run("-s", "SAMPLESECRET1_ALIAS=SampleSecret1", "-s", "MY_ALIAS_*=JsonSecret", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert r.env["SAMPLESECRET1_ALIAS"] == "SomeSampleSecret1"
    assert (r.env["MY_ALIAS_API_USER"], r.env["MY_ALIAS_CONFIG_ACTIVE"]) == ("user", "true")


def test_nested_json(sm: Any, run: Run) -> None:
    sm.create_secret(Name="test/secret", SecretString=json.dumps(NESTED_JSON_SECRET))
    r = run("-s", "TEST_SECRET_*=test/secret", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert {k: v for k, v in r.env.items() if k.startswith("TEST_SECRET_")} == {
        "TEST_SECRET_HOST": "127.0.0.1",
        "TEST_SECRET_PORT": "3600",
        "TEST_SECRET_CONFIG_DB_USER": "testuser",
        "TEST_SECRET_CONFIG_DB_PASSWORD": "testpw",
        "TEST_SECRET_CONFIG_OPTIONS_A": "YES",
        "TEST_SECRET_CONFIG_OPTIONS_B": "NO",
        "TEST_SECRET_CONFIG_OPTIONS_C": "100",
    }


def test_blank_alias(sm: Any, run: Run) -> None:
    # The Action's ",secret2" names parsed keys alone: envinject's default, and "*=secret2" says it even
    # under --prefix.
    sm.create_secret(Name="secret2", SecretString='{"api_key": "k", "user": "u"}')
    r = run("--prefix", "APP_", "-s", "*=secret2", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert (r.env["API_KEY"], r.env["USER"]) == ("k", "u")
    assert "APP_API_KEY" not in r.env


def test_prefix_and_a_key_that_starts_with_a_digit(sm: Any, run: Run) -> None:
    # The Action joins its prefix to a key with "_": DB and {"7Value": ...} give DB_7VALUE. envinject writes
    # the prefix exactly as given, the '*' standing for the key: DB_* gives DB_7VALUE, DB* gives DB7VALUE.
    sm.create_secret(Name="DB", SecretString='{"7Value": "test-value"}')
    r = run("-s", "DB_*=DB", "--", *CHILD)
    assert r.returncode == 0, r.stderr
    assert r.env["DB_7VALUE"] == "test-value"
    assert run("-s", "DB*=DB", "--", *CHILD).env["DB7VALUE"] == "test-value"
    r = run("-s", "DB", "--", "true")  # the bare key is no variable name
    assert r.returncode == 125 and "'7VALUE'" in r.stderr and "P_*=REF" in r.stderr
