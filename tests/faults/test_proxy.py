"""The fault proxy against a real moto_server, driven by boto3 with retries off unless a test says otherwise."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError
from botocore.exceptions import ReadTimeoutError as BotoReadTimeoutError

from tests.emulator import moto_server
from tests.faults import FAULTS, FaultPlan, FaultProxy

SECRET = "faults/demo"
VALUE = '{"user": "alice", "password": "s3cr3t"}'
READ_TIMEOUT = 2


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto_server of our own on a free loopback port, for this module only."""
    with moto_server() as emu:
        yield emu.url


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)

    def _client(endpoint_url: str, total_attempts: int = 1) -> Any:
        # Not "max_attempts": in botocore's Config that counts *retries*, so max_attempts=1 means two requests.
        retries = {"mode": "standard", "total_max_attempts": total_attempts}
        config = Config(retries=retries, connect_timeout=2, read_timeout=READ_TIMEOUT)
        return boto3.session.Session().client(
            "secretsmanager",
            endpoint_url=endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=config,
        )

    return _client


@pytest.fixture
def proxy(moto_url: str, make_client: Callable[..., Any]) -> Iterator[FaultProxy]:
    """A fresh moto state holding one secret (created directly, not through the proxy), and a pass-through proxy."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"), timeout=5).close()
    make_client(moto_url).create_secret(Name=SECRET, SecretString=VALUE)
    with FaultProxy(moto_url) as p:
        yield p


@pytest.fixture
def sm(proxy: FaultProxy, make_client: Callable[..., Any]) -> Any:
    return make_client(proxy.url)


def test_pass_through_and_counts(proxy: FaultProxy, sm: Any) -> None:
    assert sm.get_secret_value(SecretId=SECRET)["SecretString"] == VALUE
    assert sm.describe_secret(SecretId=SECRET)["Name"] == SECRET
    counts = proxy.counts
    assert counts.total == 2
    assert counts.faults == {"ok": 2}
    assert counts.operations == {"secretsmanager.GetSecretValue": 1, "secretsmanager.DescribeSecret": 1}
    proxy.reset_counts()
    assert proxy.counts.total == 0


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("throttle", 400, "ThrottlingException"),
        ("error_503", 503, "ServiceUnavailable"),
        ("error_500", 500, "InternalServiceError"),
    ],
)
def test_error_responses(proxy: FaultProxy, sm: Any, kind: str, status: int, code: str) -> None:
    proxy.set_plan(FaultPlan(script=[kind]))
    with pytest.raises(ClientError) as info:
        sm.get_secret_value(SecretId=SECRET)
    assert info.value.response["Error"]["Code"] == code
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert proxy.counts.faults == {kind: 1}


def test_hang_times_out_and_stop_is_prompt(proxy: FaultProxy, sm: Any) -> None:
    proxy.set_plan(FaultPlan(hang=1.0))
    started = time.monotonic()
    with pytest.raises(BotoReadTimeoutError):
        sm.get_secret_value(SecretId=SECRET)
    assert time.monotonic() - started < READ_TIMEOUT + 1.5
    # A second hung request still pending: stop() must not wait for it.
    threading.Thread(target=_hung_request, args=(proxy.url,), daemon=True).start()
    _wait_for(lambda: proxy.counts.total == 2)
    started = time.monotonic()
    proxy.stop()
    assert time.monotonic() - started < 1.0


def test_hanging_counts_the_requests_held_now(proxy: FaultProxy) -> None:
    # What a test waits for before it sends SIGTERM to a --watch whose poll is hung.
    assert proxy.hanging == 0
    proxy.set_plan(FaultPlan(script=["hang", "ok", "hang"]))
    for _ in range(3):
        threading.Thread(target=_hung_request, args=(proxy.url,), daemon=True).start()
    _wait_for(lambda: proxy.counts.total == 3 and proxy.hanging == 2)
    proxy.stop()
    _wait_for(lambda: proxy.hanging == 0)


def test_reset_is_a_connection_error(proxy: FaultProxy, sm: Any) -> None:
    proxy.set_plan(FaultPlan(reset=1.0))
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        sm.get_secret_value(SecretId=SECRET)
    assert proxy.counts.faults == {"reset": 1}


@pytest.mark.parametrize("kind", ["truncate", "garble"])
def test_truncate_and_garble_parse_as_empty_success(proxy: FaultProxy, sm: Any, kind: str) -> None:
    # botocore reads bodies with enforce_content_length=False and parses a non-JSON body as {"message": body}, so a
    # short or garbled 200 raises nothing: the call "succeeds" without any modeled field. Callers must check.
    proxy.set_plan(FaultPlan(script=[kind]))
    resp = sm.get_secret_value(SecretId=SECRET)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "SecretString" not in resp
    assert "SecretBinary" not in resp
    assert proxy.counts.faults == {kind: 1}


#: A raw GetSecretValue request for the fault tests that read the proxy's bytes themselves.
RAW_BODY = b'{"SecretId": "faults/demo"}'
RAW_HEADERS = {
    "X-Amz-Target": "secretsmanager.GetSecretValue",
    "Content-Type": "application/x-amz-json-1.1",
    # moto routes on the credential scope of an (unverified) SigV4 header
    "Authorization": "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/secretsmanager/aws4_request, "
    "SignedHeaders=host, Signature=0",
}


def test_truncate_sends_a_short_body_and_garble_a_non_json_one(proxy: FaultProxy) -> None:
    proxy.set_plan(FaultPlan(script=["ok", "truncate", "garble"]))
    full = _raw_request(proxy.url, RAW_BODY, RAW_HEADERS)
    assert json.loads(full)["SecretString"] == VALUE
    with pytest.raises(http.client.IncompleteRead) as short:
        _raw_request(proxy.url, RAW_BODY, RAW_HEADERS)
    assert short.value.partial == full[: len(full) // 2]
    garbled = _raw_request(proxy.url, RAW_BODY, RAW_HEADERS)
    assert garbled.startswith(b"<html>oops")
    assert len(garbled) == len(full)


def test_error_cut_answers_500_with_half_the_upstream_answer(proxy: FaultProxy, sm: Any) -> None:
    proxy.set_plan(FaultPlan(script=["ok", "error_cut", "error_cut"]))
    full = _raw_request(proxy.url, RAW_BODY, RAW_HEADERS)
    port = int(proxy.url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/", body=RAW_BODY, headers=RAW_HEADERS)
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (500, full[: len(full) // 2])
    finally:
        conn.close()
    # botocore keeps such a body, whatever is in it, as the error's message.
    with pytest.raises(ClientError) as info:
        sm.get_secret_value(SecretId=SECRET)
    assert info.value.response["Error"]["Code"] == "500"
    assert info.value.response["Error"]["Message"] == full[: len(full) // 2].decode()


def test_delay_then_forward(proxy: FaultProxy, sm: Any) -> None:
    proxy.set_plan(FaultPlan(delay=1.0, delay_seconds=0.3))
    started = time.monotonic()
    assert sm.get_secret_value(SecretId=SECRET)["SecretString"] == VALUE
    assert time.monotonic() - started >= 0.3


def test_script_is_followed_in_order_then_fractions(proxy: FaultProxy, sm: Any) -> None:
    proxy.set_plan(FaultPlan(script=["throttle", "ok", "error_503", "ok", "error_500"]))
    outcomes = []
    for _ in range(6):
        try:
            sm.get_secret_value(SecretId=SECRET)
            outcomes.append("ok")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])
    assert outcomes == ["ThrottlingException", "ok", "ServiceUnavailable", "ok", "InternalServiceError", "ok"]
    assert proxy.counts.total == 6


def test_standard_retries_ride_out_throttling(proxy: FaultProxy, make_client: Callable[..., Any]) -> None:
    proxy.set_plan(FaultPlan(script=["throttle", "throttle"]))
    sm = make_client(proxy.url, total_attempts=5)
    assert sm.get_secret_value(SecretId=SECRET)["SecretString"] == VALUE
    counts = proxy.counts
    assert counts.total == 3
    assert counts.faults == {"throttle": 2, "ok": 1}
    assert counts.operations == {"secretsmanager.GetSecretValue": 3}


def test_botocore_max_attempts_counts_retries(proxy: FaultProxy) -> None:
    # Pins the botocore behaviour the helper above works around: retries={"max_attempts": 1} sends two requests.
    proxy.set_plan(FaultPlan(throttle=1.0))
    config = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=2, read_timeout=READ_TIMEOUT)
    sm = boto3.session.Session().client(
        "secretsmanager",
        endpoint_url=proxy.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config,
    )
    with pytest.raises(ClientError):
        sm.get_secret_value(SecretId=SECRET)
    assert proxy.counts.total == 2


def test_plan_switches_at_runtime(proxy: FaultProxy, sm: Any) -> None:
    proxy.set_plan(FaultPlan(throttle=1.0))
    with pytest.raises(ClientError):
        sm.get_secret_value(SecretId=SECRET)
    proxy.set_plan(FaultPlan())
    assert sm.get_secret_value(SecretId=SECRET)["SecretString"] == VALUE


def test_seeded_plans_are_reproducible_and_roughly_proportional() -> None:
    a, b = FaultPlan(throttle=0.4, error_503=0.1, seed=7), FaultPlan(throttle=0.4, error_503=0.1, seed=7)
    draws = [a.choose() for _ in range(2000)]
    assert draws == [b.choose() for _ in range(2000)]
    assert 0.35 < draws.count("throttle") / 2000 < 0.45
    assert 0.07 < draws.count("error_503") / 2000 < 0.13
    assert set(draws) <= {"ok", "throttle", "error_503"}


def test_bad_plans_and_non_loopback_upstreams_are_refused() -> None:
    with pytest.raises(ValueError):
        FaultPlan(throttle=0.8, reset=0.3)
    with pytest.raises(ValueError):
        FaultPlan(script=["throttle", "explode"])
    with pytest.raises(ValueError):
        FaultProxy("http://example.com:80")
    assert "ok" in FAULTS


def _raw_request(url: str, body: bytes, headers: dict[str, str]) -> bytes:
    """POST with the stdlib, which (unlike botocore) enforces Content-Length."""
    port = int(url.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        return conn.getresponse().read()
    finally:
        conn.close()


def _hung_request(url: str) -> None:
    with contextlib.suppress(OSError, http.client.HTTPException):  # the proxy hangs, then hangs up on stop()
        _raw_request(url, b"{}", {})


def _wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)
