"""The Watcher: a rotation that cannot be used is logged once and leaves the command alone."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from envinject.errors import EnvinjectError
from envinject.plan import Injection, make_plan
from envinject.resident.watch import Watcher, WatchTarget
from envinject.rules.refs import Locator
from envinject.rules.retry import poll_policy
from envinject.settings import Settings
from envinject.sources import Payload

CANARY = "canary-7f3a"
ARG_MAX = os.sysconf("SC_ARG_MAX")


class Rotating:
    """A source whose one secret, "app", is rotated by the test."""

    def __init__(self, text: str) -> None:
        self.version = 0
        self.text = text
        self.down = False
        self.rotate(text)

    def rotate(self, text: str) -> None:
        self.version += 1
        self.text = text

    def payload(self) -> Payload:
        return Payload(text=self.text, version_id=f"v{self.version}")

    def fetch_many(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload]:
        return {loc: self.payload() for loc in locators}

    def fetch_each(self, locators: Sequence[Locator]) -> Mapping[Locator, Payload | EnvinjectError]:
        if self.down:
            return {loc: EnvinjectError("endpoint unreachable") for loc in locators}
        return {loc: self.payload() for loc in locators}


def watcher(command: Sequence[str] = ("true",)) -> tuple[Watcher, Rotating, list[str]]:
    source = Rotating(json.dumps({"token": "first-value"}))
    plan = make_plan(Settings(secrets=("app",)), {})
    payloads = plan.fetch(source)
    injection = Injection(plan, source, payloads, plan.bind(payloads))  # type: ignore[arg-type]
    log: list[str] = []
    target = WatchTarget(command=command)
    w = Watcher(injection, target, policy=poll_policy(60), log=log.append, source=source)  # type: ignore[arg-type]
    return w, source, log


UNUSABLE: dict[str, tuple[str, str]] = {
    # what the secret becomes: (its text, a word of the reason)
    "too large for exec": (json.dumps({"token": CANARY + "x" * 200_000}), "MAX_ARG_STRLEN"),
    "too large in total": (
        json.dumps({f"k{i}": CANARY + "x" * 100_000 for i in range(ARG_MAX // 100_000 + 2)}),
        "ARG_MAX",
    ),
    "lone surrogate": ('{"token": "' + CANARY + '\\ud800"}', "surrogate"),
    "deeply nested": ('{"a": ' * 5000 + json.dumps(CANARY) + "}" * 5000, "deep"),
    "not JSON": ('{"token": "' + CANARY, "JSON"),
}


@pytest.mark.parametrize("case", list(UNUSABLE))
def test_an_unusable_rotation_keeps_the_command_and_is_said_once(case: str) -> None:
    w, source, log = watcher()
    text, word = UNUSABLE[case]
    source.rotate(text)
    assert w.poll() is None
    assert len(log) == 1
    assert "secret 'app' changed but cannot be injected: " in log[0]
    assert log[0].endswith("; the command keeps running")
    assert word in log[0]
    assert CANARY not in log[0]
    for _ in range(3):  # the same rejected version on every poll: not said again
        assert w.poll() is None
    assert len(log) == 1
    source.rotate(json.dumps({"token": "second-value"}))
    env = w.poll()
    assert env is not None and env["TOKEN"] == "second-value"
    assert log[-1] == "watch: secret 'app' changed; restarting the command"


def test_a_different_rejection_is_said_again() -> None:
    w, source, log = watcher()
    source.rotate(UNUSABLE["lone surrogate"][0])
    assert w.poll() is None
    source.rotate(UNUSABLE["lone surrogate"][0])  # a new version, unusable again
    assert w.poll() is None
    source.rotate(UNUSABLE["not JSON"][0])
    assert w.poll() is None
    assert w.poll() is None
    assert len(log) == 3


def test_the_command_counts_towards_the_limit() -> None:
    # Values that fit alone, 300 kB short of the limit, do not fit with 500 kB of arguments.
    big: Any = {f"k{i}": "x" * 100_000 for i in range((ARG_MAX - 300_000) // 100_010)}
    w, source, log = watcher(command=["true", *["y" * 100_000] * 5])
    source.rotate(json.dumps(big))
    assert w.poll() is None
    assert "ARG_MAX" in log[0]
    w, source, log = watcher()
    source.rotate(json.dumps(big))
    assert w.poll() is not None


def test_failed_polls_back_off_as_the_poll_policy_says() -> None:
    w, source, log = watcher()
    source.down = True
    for _ in range(5):
        assert w.poll() is None
    assert w.failures == 5  # the loop waits policy.delay(failures) before the next poll
    waits = [line.rsplit("next try in about ", 1)[1] for line in log]
    assert waits == ["120s", "240s", "480s", "480s", "480s"]  # --watch 60: doubling, up to 8 times
    assert log[0].startswith("watch: poll failed, the command keeps running (endpoint unreachable)")
    source.down = False
    assert w.poll() is None
    assert w.failures == 0 and log[-1] == "watch: poll succeeded again"
