"""A role's session: assumed once, refreshed before it expires (the resident modes), never shown."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from envinject.errors import FetchError
from envinject.sources.aws import AwsSettings, ClientFactory

ROLE = "arn:aws:iam::210987654321:role/reader"


class FakeSts:
    """Answers AssumeRole with credentials that expire in ``minutes``, counting the calls."""

    def __init__(self, minutes: float) -> None:
        self.calls: list[dict[str, Any]] = []
        self.minutes = minutes

    def assume_role(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=self.minutes)
        n = len(self.calls)
        return {"Credentials": {"AccessKeyId": f"ASIA{n}", "SecretAccessKey": f"secret-{n}",
                                "SessionToken": f"token-{n}", "Expiration": expires}}  # fmt: skip


def factory_with(sts: Any, monkeypatch: pytest.MonkeyPatch) -> ClientFactory:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    factory = ClientFactory(AwsSettings(region="us-east-1"))
    real = factory._client
    monkeypatch.setattr(factory, "_client", lambda service, *rest: sts if service == "sts" else real(service, *rest))
    return factory


def test_a_role_is_assumed_once_and_named_as_envinject(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = FakeSts(minutes=60)
    factory = factory_with(sts, monkeypatch)
    for _ in range(3):
        factory._role_session(ROLE, "team-a").get_credentials().get_frozen_credentials()
    assert len(sts.calls) == 1 and factory.requests == {"AssumeRole": 1}
    assert sts.calls[0]["RoleArn"] == ROLE and sts.calls[0]["ExternalId"] == "team-a"
    assert sts.calls[0]["RoleSessionName"].startswith("envinject-")


def test_credentials_about_to_expire_are_refreshed(monkeypatch: pytest.MonkeyPatch) -> None:
    sts = FakeSts(minutes=5)  # inside botocore's mandatory refresh window (10 minutes)
    factory = factory_with(sts, monkeypatch)
    credentials = factory._role_session(ROLE, None).get_credentials()
    first = credentials.get_frozen_credentials().access_key
    assert credentials.get_frozen_credentials().access_key != first and len(sts.calls) >= 2


def test_a_failed_assume_role_names_the_role_and_no_credential(monkeypatch: pytest.MonkeyPatch) -> None:
    from botocore.exceptions import ClientError

    class Denied:
        meta = None

        def assume_role(self, **_: Any) -> dict[str, Any]:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "User testing-secret is not authorized "
                                         "to perform: sts:AssumeRole"}}, "AssumeRole")  # fmt: skip

    factory = factory_with(Denied(), monkeypatch)
    with pytest.raises(FetchError) as caught:
        factory._role_session(ROLE, None)
    assert str(caught.value).startswith(f"access denied to role '{ROLE}': the caller lacks sts:AssumeRole")
    assert "testing-secret" not in str(caught.value)
