"""The deadline's message is written as every other line is: one printable line, whatever an endpoint put in it."""

from __future__ import annotations

import threading

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from envinject.system import deadline as deadline_module


@settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text())
@example("answered \x1b[1A\x1b[2K\renvinject fetched 1 secret\r\nenvinject")
@example("answered \u202eX\x07")
def test_the_deadline_writes_one_printable_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    ended: list[int] = []
    done = threading.Event()

    def exit_(status: int) -> None:  # the timer thread would end the process here
        ended.append(status)
        done.set()

    capsys.readouterr()
    with monkeypatch.context() as m:
        m.setattr(deadline_module.os, "_exit", exit_)
        with deadline_module.deadline(0.001, lambda: f"timed out (last try: {text})"):
            assert done.wait(5)
    err = capsys.readouterr().err
    assert ended == [125]
    assert err.startswith("envinject: timed out (last try: ") and err.endswith("\n")
    assert err[:-1].isprintable(), repr(err)
