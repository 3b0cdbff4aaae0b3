"""Prefix and tag selections (sm://prod/app/*, sm://?tag:app=billing) against moto's in-process Secrets Manager."""

import json
import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

import envinject
from envinject.commands.check import report_of as check
from envinject.errors import FetchError
from envinject.plan import inject
from envinject.resident.watch import Watcher, WatchTarget
from envinject.rules.retry import poll_policy
from envinject.settings import Settings
from envinject.sources.secretsmanager import SecretsManagerSource
from tests.resolve import resolve

CANARY = "canary-Sel7-value"


def secret(aws: Any, name: str, value: dict[str, str], **tags: str) -> None:
    aws.create_secret(Name=name, SecretString=json.dumps(value), Tags=[{"Key": k, "Value": v} for k, v in tags.items()])


@pytest.fixture
def app(aws: Any) -> Any:
    secret(aws, "prod/app/db", {"user": "u", "password": CANARY})
    secret(aws, "prod/app/api", {"token": "t"})
    secret(aws, "prod/apple", {"fruit": "no"})  # starts with prod/app, not with prod/app/
    secret(aws, "dev/app/db", {"user": "dev"})
    return aws


def env_of(refs: list[str], source: SecretsManagerSource) -> dict[str, str]:
    return {b.name: b.value for b in resolve(refs, source)}


def test_a_name_prefix_selects_exactly_its_secrets_in_one_batch_request(app: Any) -> None:
    source = SecretsManagerSource.from_client(app)
    assert env_of(["prod/app/*"], source) == {"USER": "u", "PASSWORD": CANARY, "TOKEN": "t"}
    assert source.requests == {"BatchGetSecretValue": 1}


def test_a_prefix_selection_is_paginated(aws: Any) -> None:
    for i in range(45):
        secret(aws, f"fleet/s{i:02}", {f"k{i}": f"v{i}"})
    source = SecretsManagerSource.from_client(aws)
    env = env_of(["F_*=fleet/*"], source)
    assert env == {f"F_K{i}": f"v{i}" for i in range(45)}
    assert source.requests == {"BatchGetSecretValue": 3}


class BatchRefused:
    """A client whose BatchGetSecretValue is denied, as under a policy without it."""

    def __init__(self, client: Any) -> None:
        self.client, self.meta = client, client.meta

    def batch_get_secret_value(self, **_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "AccessDeniedException", "Message": "not authorized: BatchGetSecretValue"}},
            "BatchGetSecretValue",
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_a_denied_batch_falls_back_to_list_secrets_and_gets(app: Any) -> None:
    notes: list[str] = []
    source = SecretsManagerSource.from_client(BatchRefused(app), note=notes.append)
    assert env_of(["prod/app/*"], source) == {"USER": "u", "PASSWORD": CANARY, "TOKEN": "t"}
    assert source.requests == {"BatchGetSecretValue": 1, "ListSecrets": 1, "GetSecretValue": 2}
    assert len(notes) == 1 and "ListSecrets" in notes[0] and CANARY not in notes[0]


def test_no_batch_lists_then_gets(app: Any) -> None:
    source = SecretsManagerSource.from_client(app, batch=False)
    assert env_of(["prod/app/*"], source)["TOKEN"] == "t"
    assert source.requests == {"ListSecrets": 1, "GetSecretValue": 2}


def test_zero_matches_is_an_error(app: Any) -> None:
    with pytest.raises(FetchError) as info:
        env_of(["prod/nothing/*"], SecretsManagerSource.from_client(app))
    assert "no secret matches secrets under 'prod/nothing/'" in str(info.value)
    assert info.value.kind == "not_found" and info.value.exit_code == 125


def test_a_tag_selects_secrets_with_exactly_that_tag(aws: Any) -> None:
    secret(aws, "billing/a", {"a": "1"}, app="billing")
    secret(aws, "billing/b", {"b": "2"}, app="billing", team="x")
    secret(aws, "near/1", {"n1": "x"}, app="billing-old")  # a longer value
    secret(aws, "near/2", {"n2": "x"}, application="billing")  # a longer key
    secret(aws, "near/3", {"n3": "x"}, app="other", owner="billing")  # the key and the value on two tags
    source = SecretsManagerSource.from_client(aws)
    assert env_of(["sm://?tag:app=billing"], source) == {"A": "1", "B": "2"}
    assert source.requests == {"ListSecrets": 1, "BatchGetSecretValue": 1}


class ListDenied(BatchRefused):
    def list_secrets(self, **_: Any) -> Any:
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": "not authorized to perform: secretsmanager:ListSecrets",
                }
            },
            "ListSecrets",
        )


def test_a_denied_list_secrets_says_what_is_missing(app: Any) -> None:
    with pytest.raises(FetchError) as info:
        env_of(["sm://?tag:app=billing"], SecretsManagerSource.from_client(ListDenied(app)))
    assert info.value.denied_action == "secretsmanager:ListSecrets"
    assert "secrets tagged 'app=billing'" in str(info.value)


def test_selection_clashes_warn_and_prefixes_keep_both(aws: Any) -> None:
    secret(aws, "rds/db1", {"username": "u1", "password": CANARY})
    secret(aws, "rds/db2", {"username": "u2", "password": CANARY + "2"})
    lines: list[str] = []
    bindings = resolve(["rds/*"], SecretsManagerSource.from_client(aws), warn=lines.append)
    assert {b.name: b.value for b in bindings}["USERNAME"] == "u2"  # the later name wins
    assert len(lines) == 2 and all("'rds/db1'" in line and "'rds/db2'" in line for line in lines)
    assert not any(CANARY in line for line in lines)


def test_check_reports_a_selection(app: Any) -> None:
    settings = Settings(secrets=("prod/app/*", "prod/none/*"))
    report = check(settings, SecretsManagerSource.from_client(app), {}, None)
    assert [(r.ref, r.status) for r in report.refs] == [("prod/app/*", "ok"), ("prod/none/*", "not_found")]
    assert sorted(report.refs[0].variables) == ["PASSWORD", "TOKEN", "USER"]
    assert report.refs[0].secrets == ["prod/app/api", "prod/app/db"]
    assert report.variables["USER"] == ["prod/app/db#user"]


def test_watch_notices_a_secret_added_under_the_prefix_and_one_removed(app: Any) -> None:
    settings = Settings(secrets=("prod/app/*",))
    injection = inject(settings, client=app)
    logged: list[str] = []
    watcher = Watcher(injection, WatchTarget(), policy=poll_policy(60), log=logged.append)
    assert watcher.poll() is None  # nothing changed
    secret(app, "prod/app/new", {"fresh": "f"})
    env = watcher.poll()
    assert env is not None and env["FRESH"] == "f"
    app.delete_secret(SecretId="prod/app/api", ForceDeleteWithoutRecovery=True)
    env = watcher.poll()
    assert env is not None and "TOKEN" not in env and env["FRESH"] == "f"
    assert "secrets under 'prod/app/' changed" in logged[-1]
    assert not any(CANARY in line for line in logged)


def test_api_prefixes_and_name_case(app: Any) -> None:
    secret(app, "prod/db1", {"username": "u1"})
    secret(app, "prod/db2", {"username": "u2"})
    assert envinject.fetch("DB1_*=prod/db1", "DB2_*=prod/db2") == {"DB1_USERNAME": "u1", "DB2_USERNAME": "u2"}
    assert envinject.fetch("prod/db1", name_case="lower") == {"username": "u1"}
    assert envinject.fetch("prod/db1", keep_case=True, prefix="App_") == {"App_username": "u1"}
    with pytest.warns(UserWarning, match="USERNAME from 'prod/db1' is replaced by the later 'prod/db2'") as caught:
        assert envinject.fetch("prod/db1", "prod/db2") == {"USERNAME": "u2"}
    assert caught[0].filename == __file__  # the warning points at the caller's line
    assert os.environ.get("USERNAME") != "u2"
