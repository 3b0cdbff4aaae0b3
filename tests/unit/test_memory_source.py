"""The in-memory source keeps the Source contract that the tests sharing it rely on."""

from __future__ import annotations

import pytest

from envinject.errors import EnvinjectError, FetchError
from envinject.rules.refs import Locator, parse_ref
from envinject.sources import Payload, Sources
from envinject.sources.memory import MemorySource

DENIED = FetchError("access denied", denied_action="secretsmanager:GetSecretValue")


def loc(ref: str) -> Locator:
    return parse_ref(ref).locator


def test_fetch_each_reports_every_locator_and_fetch_many_raises_the_first_failure() -> None:
    source = MemorySource({"a": "text a", "denied": DENIED})
    results = source.fetch_each([loc("a"), loc("missing"), loc("denied")])
    assert results[loc("a")] == Payload(text="text a", version_id="v1")
    missing = results[loc("missing")]
    assert isinstance(missing, FetchError) and missing.kind == "not_found"
    assert results[loc("denied")] is DENIED
    with pytest.raises(EnvinjectError) as info:
        source.fetch_many([loc("a"), loc("denied"), loc("missing")])
    assert info.value is DENIED and info.value.subject == loc("denied")
    assert source.requests == {"GetSecretValue": 6}
    assert source.calls == [[loc("a"), loc("missing"), loc("denied")], [loc("a"), loc("denied"), loc("missing")]]


def test_a_rotation_bumps_the_version() -> None:
    source = MemorySource({"app": '{"k": "1"}'})
    assert source.rotate("app", '{"k": "2"}') == Payload(text='{"k": "2"}', version_id="v2")
    assert source.fetch_many([loc("app")])[loc("app")].version_id == "v2"
    assert source.rotate("app", Payload(binary=b"3")).version_id == "v3"


def test_selections_are_made_of_the_held_secrets() -> None:
    source = MemorySource()
    source.put("prod/app/b", "b", tags={"team": "x"}, kms_key="key-b")
    source.put("prod/app/a", "a", kms_key="key-a")
    source.put("prod/other", "o", tags={"team": "x"})
    by_prefix = source.fetch_many([loc("sm://prod/app/*")])[loc("sm://prod/app/*")]
    assert [name for name, _ in by_prefix.members or ()] == ["prod/app/a", "prod/app/b"]
    by_tag = source.fetch_many([loc("sm://?tag:team=x")])[loc("sm://?tag:team=x")]
    assert [name for name, _ in by_tag.members or ()] == ["prod/app/b", "prod/other"]
    assert source.kms_keys_of(loc("sm://prod/app/*")) == ["key-a", "key-b"]
    source.rotate("prod/app/a", "a2")  # a member's rotation is the selection's
    assert source.fetch_many([loc("sm://prod/app/*")])[loc("sm://prod/app/*")].version_id != by_prefix.version_id
    nothing = source.fetch_each([loc("sm://nothing/*")])[loc("sm://nothing/*")]
    assert isinstance(nothing, FetchError) and nothing.kind == "not_found"


def test_a_payload_held_for_a_selection_is_returned_as_it_is() -> None:
    given = Payload(version_id="v", members=(("prod/app/a", Payload(text="a")),))
    source = MemorySource({"prod/app/*": given, "prod/app/b": "b"})
    assert source.fetch_many([loc("sm://prod/app/*")]) == {loc("sm://prod/app/*"): given}


def test_kms_keys_of_a_secret() -> None:
    source = MemorySource()
    source.put("mine", "x", kms_key="arn:aws:kms:us-east-1:123456789012:key/k")
    source.put("default", "y")
    assert source.kms_keys_of(loc("mine")) == ["arn:aws:kms:us-east-1:123456789012:key/k"]
    assert source.kms_keys_of(loc("default")) == []
    with pytest.raises(FetchError):
        source.kms_keys_of(loc("missing"))


def test_it_serves_both_backends_behind_the_router() -> None:
    source = MemorySource({"db": '{"password": "p"}', "/app/url": "https://x"})
    routed = Sources(lambda _backend: source)
    got = routed.fetch_many([loc("db"), loc("ssm:///app/url")])
    assert got[loc("ssm:///app/url")].text == "https://x"
    assert source.requests == {"GetSecretValue": 1, "GetParameter": 1}
