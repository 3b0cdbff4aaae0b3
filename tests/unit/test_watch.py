"""The Watcher: a rotation that cannot be used is logged once and leaves the command alone."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

import pytest

from envinject.errors import EnvinjectError
from envinject.plan import Injection, make_plan
from envinject.resident.secret_files import SecretFiles
from envinject.resident.watch import Watcher, WatchTarget
from envinject.rules.payload import Payload
from envinject.rules.retry import poll_policy
from envinject.settings import Settings
from envinject.sources import Sources
from envinject.sources.memory import MemorySource

CANARY = "canary-7f3a"
ARG_MAX = os.sysconf("SC_ARG_MAX")


FIRST = json.dumps({"token": "first-value"})


def watcher(command: Sequence[str] = ("true",)) -> tuple[Watcher, MemorySource, list[str]]:
    source = MemorySource({"app": FIRST})
    plan = make_plan(Settings(secrets=("app",)), {})
    payloads = plan.fetch(source)
    injection = Injection(plan, Sources(lambda _backend: source), payloads, plan.bind(payloads))
    log: list[str] = []
    w = Watcher(injection, WatchTarget(command=command), policy=poll_policy(60), log=log.append, source=source)
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
    source.rotate("app", text)
    assert w.poll() is None
    assert len(log) == 1
    assert "secret 'app' changed but cannot be injected: " in log[0]
    assert log[0].endswith("; the command keeps running")
    assert word in log[0]
    assert CANARY not in log[0]
    for _ in range(3):  # the same rejected version on every poll: not said again
        assert w.poll() is None
    assert len(log) == 1
    source.rotate("app", json.dumps({"token": "second-value"}))
    env = w.poll()
    assert env is not None and env["TOKEN"] == "second-value"
    assert log[-1] == "watch: secret 'app' changed; restarting the command"


def test_a_different_rejection_is_said_again() -> None:
    w, source, log = watcher()
    source.rotate("app", UNUSABLE["lone surrogate"][0])
    assert w.poll() is None
    source.rotate("app", UNUSABLE["lone surrogate"][0])  # a new version, unusable again
    assert w.poll() is None
    source.rotate("app", UNUSABLE["not JSON"][0])
    assert w.poll() is None
    assert w.poll() is None
    assert len(log) == 3


def test_the_command_counts_towards_the_limit() -> None:
    # Values that fit alone, 300 kB short of the limit, do not fit with 500 kB of arguments.
    big: Any = {f"k{i}": "x" * 100_000 for i in range((ARG_MAX - 300_000) // 100_010)}
    w, source, log = watcher(command=["true", *["y" * 100_000] * 5])
    source.rotate("app", json.dumps(big))
    assert w.poll() is None
    assert "ARG_MAX" in log[0]
    w, source, log = watcher()
    source.rotate("app", json.dumps(big))
    assert w.poll() is not None


def test_failed_polls_back_off_as_the_poll_policy_says() -> None:
    w, source, log = watcher()
    source.put("app", EnvinjectError("endpoint unreachable"))
    for _ in range(5):
        assert w.poll() is None
    assert w.failures == 5  # the loop waits policy.delay(failures) before the next poll
    waits = [line.rsplit("next try in about ", 1)[1] for line in log]
    assert waits == ["120s", "240s", "480s", "480s", "480s"]  # --watch 60: doubling, up to 8 times
    assert log[0].startswith("watch: poll failed, the command keeps running (endpoint unreachable)")
    source.put("app", FIRST)  # the same version as before: no change, the poll simply works again
    assert w.poll() is None
    assert w.failures == 0 and log[-1] == "watch: poll succeeded again"


def test_a_rotated_file_secrets_bytes_reach_the_masker_as_they_are() -> None:
    # Not UTF-8: decoded with "replace" they became U+FFFD, which the child's output never holds.
    source = MemorySource({"blob": Payload(binary=b"\xff\xfefirst-binary", version_id="v1")})
    plan = make_plan(Settings(files=("BLOB=blob",)), {})
    payloads = plan.fetch(source)
    injection = Injection(plan, Sources(lambda _backend: source), payloads, plan.bind(payloads))
    seen: list[list[str | bytes]] = []
    with SecretFiles(resident=True) as files:
        env = plan.environment(files.place(injection.bindings))
        target = WatchTarget(command=["true"], env=env, files=files, on_values=seen.append)
        w = Watcher(injection, target, policy=poll_policy(60), log=[].append, source=source)
        source.rotate("blob", Payload(binary=b"\x80\x81second-binary"))
        assert w.poll() == env  # restarted with the same environment: the file keeps its path
        with open(files.with_paths(injection.bindings)[0].value, "rb") as f:
            assert f.read() == b"\x80\x81second-binary"
    assert seen == [[b"\x80\x81second-binary"]]
