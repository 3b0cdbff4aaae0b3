"""MaskedOutput in this process: pipes stand in for a child's stdout and stderr, pytest's capfd for ours."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from urllib.parse import quote_plus

import pytest

from envinject.resident.output import MaskedOutput


def attached(output: MaskedOutput) -> tuple[int, int, Callable[[], None]]:
    """The write ends of a fake child's stdout and stderr, and the drain."""
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    drain = output.attach(os.fdopen(out_r, "rb", buffering=0), os.fdopen(err_r, "rb", buffering=0))
    return out_w, err_w, drain


def test_values_are_masked_on_both_streams(capfd: pytest.CaptureFixture[str]) -> None:
    output = MaskedOutput(["s3cr3t-value", "true"])
    assert output.active
    out, err, drain = attached(output)
    os.write(out, b"token=s3cr3t-value true\n")
    os.write(err, b"err s3cr")
    os.write(err, b"3t-value\n")
    os.close(out)
    os.close(err)
    drain()
    assert capfd.readouterr() == ("token=***** true\n", "err *****\n")


def test_only_short_values_need_no_filter() -> None:
    assert not MaskedOutput(["true", "5432"]).active
    output = MaskedOutput([])
    output.add_values(["rotated-value"])
    assert output.active  # the next child started goes through it


def test_values_added_reach_a_running_stream(capfd: pytest.CaptureFixture[str]) -> None:
    output = MaskedOutput(["s3cr3t-value"])
    out, err, drain = attached(output)
    os.write(out, b"before rotated-value s3cr")
    deadline = time.monotonic() + 5
    seen = ""
    while "before rotated-value " not in seen:  # copied, so the new value came too late for it
        assert time.monotonic() < deadline, seen
        time.sleep(0.01)
        seen += capfd.readouterr().out
    output.add_values(["rotated-value", "s3cr-rotated"])
    # The pump held "s3cr" back under the old values; the new ones decide what it is.
    os.write(out, b"-rotated after rotated-value s3cr3t-value\n")
    os.close(out)
    os.close(err)
    drain()
    seen += capfd.readouterr().out
    assert seen == "before rotated-value ***** after ***** *****\n"


def masked(output: MaskedOutput, data: bytes, capfdbinary: pytest.CaptureFixture[bytes]) -> bytes:
    """What reaches our stdout when a child writes ``data`` through ``output``."""
    out, err, drain = attached(output)
    os.write(out, data)
    os.close(out)
    os.close(err)
    drain()
    return capfdbinary.readouterr().out


PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\n-----END PRIVATE KEY-----\n"
QUOTED = 'it\'s "quoted"\nand multi-line'

#: The breaks reported against --mask: (the value, what the child printed, what must not be left of it).
REPORTED = {
    "base64 inside a Basic header": (
        "p4ssw0rd-canary",
        b"Authorization: Basic " + base64.b64encode(b"user:p4ssw0rd-canary"),
        base64.b64encode(b"user:p4ssw0rd-canary")[7:26],  # the 19 digits that the 15 bytes of the value alone decide
    ),
    "URL-encoding": (
        "p@ss/w0rd canary",
        b"GET /?pw=" + quote_plus("p@ss/w0rd canary").encode(),
        b"p%40ss%2Fw0rd+canary",
    ),
    "JSON of a quoted multi-line value": (QUOTED, json.dumps({"v": QUOTED}).encode(), b'it\'s \\"quoted\\"\\nand'),
    "repr of a quoted multi-line value": (QUOTED, repr({"v": QUOTED}).encode(), b'it\\\'s "quoted"\\nand'),
    "one line of a PEM": (
        PEM,
        b"key line: MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw\n",
        b"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw",
    ),
    "a file secret that is not UTF-8": (b"\xff\xfe\x80canary-bytes", b"<\xff\xfe\x80canary-bytes>", b"canary-bytes"),
}


@pytest.mark.parametrize("case", list(REPORTED))
def test_reported_encodings_are_masked(case: str, capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    value, printed, secret = REPORTED[case]
    assert secret in printed
    out = masked(MaskedOutput([value]), printed, capfdbinary)
    assert secret not in out and b"*****" in out


def test_a_child_with_nothing_to_mask_yet_is_filtered_when_values_may_come(
    capfdbinary: pytest.CaptureFixture[bytes],
) -> None:
    # Started unfiltered, a child writes to our fds itself, and a value that a poll adds can never be masked in
    # its output (--on-change signal:NAME keeps it running).
    assert not MaskedOutput(["short"]).active
    output = MaskedOutput(["short"], more_to_come=True)
    assert output.active
    out, err, drain = attached(output)
    os.write(out, b"short ")
    output.add_values([b"rotated-canary"])
    os.write(out, b"rotated-canary " + base64.b64encode(b"rotated-canary") + b"\n")
    os.close(out)
    os.close(err)
    drain()
    # Left of the base64: its last digit (which the bytes after a value would change) and the padding.
    assert capfdbinary.readouterr().out == b"short ***** *****" + base64.b64encode(b"rotated-canary")[-2:] + b"\n"
