"""Every failure: one line on stderr naming the secret and a fix, exit 125, nothing run, no value shown."""

import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import CHILD as CHILD_ENV
from tests.e2e.conftest import Result
from tests.emulator import Emulator
from tests.faults.proxy import FaultPlan, FaultProxy

Run = Callable[..., Result]
CANARY = "canary-e2e-7f3a9"
GOOD = {"token": CANARY + "-good"}
_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def good(sm: Any) -> Any:
    """A secret that fetches fine, so a failure next to it must not leak it either."""
    sm.create_secret(Name="good", SecretString=json.dumps(GOOD))
    return sm


def marker_command(tmp_path: Path) -> tuple[list[str], Path]:
    marker = tmp_path / "ran"
    return ["sh", "-c", f"touch {marker}; echo {CANARY}-child"], marker


def check_failure(r: Result, marker: Path, *words: str) -> None:
    assert r.returncode == 125, r.stderr
    assert not marker.exists(), "the command ran although injection failed"
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("envinject: ")
    assert "Traceback" not in r.stderr
    for w in words:
        assert w in lines[0], lines[0]
    r.assert_no(CANARY)


def test_not_found(good: Any, run: Run, tmp_path: Path) -> None:
    cmd, marker = marker_command(tmp_path)
    r = run("-s", "good", "-s", "APIKEYZ", "--", *cmd)
    check_failure(r, marker, "'APIKEYZ'", "not found", "us-east-1", "--region")


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        ("good?version-stage=NOPE", ["secret 'good' has no version with stage 'NOPE'", "list-secret-version-ids"]),
        ("good?version-id=0b5e4f4e-0000-4000-8000-000000000000", ["secret 'good' has no version with id"]),
        ("ssm:///app/token:7", ["parameter '/app/token' has no version 7", "get-parameter-history"]),
        ("ssm:///app/token:NOPE", ["parameter '/app/token' has no version with label 'NOPE'"]),
    ],
)
def test_missing_version(good: Any, run: Run, emulator: Emulator, tmp_path: Path, ref: str, words: list[str]) -> None:
    import boto3

    ssm = boto3.client("ssm", endpoint_url=emulator.url, region_name="us-east-1", **_KEYS)
    ssm.put_parameter(Name="/app/token", Value=CANARY, Type="SecureString")
    cmd, marker = marker_command(tmp_path)
    r = run("-s", ref, "--", *cmd)
    check_failure(r, marker, *words)
    assert "was not found" not in r.stderr


def test_access_denied_names_the_action(good: Any, run: Run, iam: Any, tmp_path: Path) -> None:
    keys = iam(None)
    cmd, marker = marker_command(tmp_path)
    r = run("-s", "good", "--", *cmd, env=keys)
    check_failure(r, marker, "access denied", "'good'", "secretsmanager:GetSecretValue")


def test_kms_denied_names_kms_decrypt(run: Run, canned: Any, tmp_path: Path) -> None:
    url = canned(400, {"__type": "AccessDeniedException", "Message": "Access to KMS is not allowed"})
    cmd, marker = marker_command(tmp_path)
    r = run("-s", "APIKEYS", "--endpoint-url", url, "--", *cmd)
    check_failure(r, marker, "access denied", "'APIKEYS'", "kms:Decrypt")


def test_no_credentials(good: Any, run: Run, tmp_path: Path) -> None:
    cmd, marker = marker_command(tmp_path)
    r = run("-s", "good", "--", *cmd, env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None})
    check_failure(r, marker, "no AWS credentials", "'good'", "AWS_PROFILE")


def test_unknown_profile(good: Any, run: Run, tmp_path: Path) -> None:
    cmd, marker = marker_command(tmp_path)
    r = run("-s", "good", "--profile", "nosuch", "--", *cmd)
    check_failure(r, marker, "profile 'nosuch'")


def test_no_region(good: Any, run: Run, tmp_path: Path) -> None:
    cmd, marker = marker_command(tmp_path)
    r = run("-s", "good", "--", *cmd, env={"AWS_REGION": None, "AWS_DEFAULT_REGION": None})
    check_failure(r, marker, "no AWS region", "--region", "AWS_REGION")


def test_scheduled_for_deletion(good: Any, run: Run, tmp_path: Path) -> None:
    good.create_secret(Name="old", SecretString=json.dumps({"k": CANARY}))
    good.delete_secret(SecretId="old", RecoveryWindowInDays=7)
    cmd, marker = marker_command(tmp_path)
    r = run("-s", "good", "-s", "old", "--", *cmd)
    check_failure(r, marker, "'old'", "scheduled for deletion", "restore-secret")


def test_endpoint_unreachable(run: Run, tmp_path: Path) -> None:
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd, marker = marker_command(tmp_path)
    url = f"http://127.0.0.1:{port}"
    # Refused connections are retried within the deadline like any dropped connection; one try shows the message.
    r = run("-s", "good", "--endpoint-url", url, "--max-attempts", "1", "--", *cmd)
    check_failure(r, marker, f"cannot connect to {url} (connection refused)", "'good'")


def test_endpoint_times_out(run: Run, silent_endpoint: str, tmp_path: Path) -> None:
    cmd, marker = marker_command(tmp_path)
    r = run("-s", "good", "--endpoint-url", silent_endpoint, "--timeout", "0.5", "--", *cmd)
    check_failure(r, marker, "timed out", silent_endpoint, "'good'")


def test_invalid_json(good: Any, run: Run, tmp_path: Path) -> None:
    good.create_secret(Name="broken", SecretString='{"token": "' + CANARY + '", }')
    cmd, marker = marker_command(tmp_path)
    r = run("-s", "good", "-s", "broken", "--", *cmd)
    check_failure(r, marker, "'broken'", "not valid JSON", "line 1")


def test_plain_text_needs_var(good: Any, run: Run, tmp_path: Path) -> None:
    good.create_secret(Name="pw", SecretString=CANARY)
    cmd, marker = marker_command(tmp_path)
    check_failure(run("-s", "good", "-s", "pw", "--", *cmd), marker, "'pw'", "VAR=pw")


def test_collision_and_bad_name(good: Any, run: Run, tmp_path: Path) -> None:
    good.create_secret(Name="dup", SecretString=json.dumps({"api-key": CANARY, "API_KEY": CANARY}))
    good.create_secret(Name="digit", SecretString=json.dumps({"1password": CANARY}))
    cmd, marker = marker_command(tmp_path)
    check_failure(run("-s", "dup", "--", *cmd), marker, "'dup#api-key'", "'dup#API_KEY'", "API_KEY")
    check_failure(run("-s", "digit", "--", *cmd), marker, "'digit#1password'", "--prefix")


def test_nul_in_a_value(good: Any, run: Run, tmp_path: Path) -> None:
    good.create_secret(Name="nul", SecretString=json.dumps({"k": CANARY + "\0"}))
    cmd, marker = marker_command(tmp_path)
    check_failure(run("-s", "nul", "--", *cmd), marker, "NUL", "'nul'")


def test_malformed_reference(run: Run, tmp_path: Path) -> None:
    cmd, marker = marker_command(tmp_path)
    check_failure(run("-s", "bad name!", "--", *cmd), marker, "'bad name!'", "not a valid secret name")


def test_dry_run_of_a_failure_shows_no_value(good: Any, run: Run, tmp_path: Path) -> None:
    good.create_secret(Name="pw", SecretString=CANARY)
    cmd, marker = marker_command(tmp_path)
    check_failure(run("--dry-run", "-s", "good", "-s", "pw", "--", *cmd), marker, "'pw'")


@pytest.mark.parametrize("fault", ["garble", "truncate"])
def test_garbled_or_truncated_answer(good: Any, run: Run, emulator: Emulator, tmp_path: Path, fault: str) -> None:
    cmd, marker = marker_command(tmp_path)
    with FaultProxy(emulator.url, FaultPlan(**{fault: 1.0})) as proxy:
        r = run("-s", "T=good", "--endpoint-url", proxy.url, "--", *cmd)
    check_failure(r, marker, "'good'", "garbled or cut-off", proxy.url)


def test_hung_endpoint_ends_within_the_deadline(run: Run, emulator: Emulator, tmp_path: Path) -> None:
    cmd, marker = marker_command(tmp_path)
    with FaultProxy(emulator.url, FaultPlan(hang=1.0)) as proxy:
        started = time.monotonic()
        r = run("-s", "good", "--endpoint-url", proxy.url, "--timeout", "3", "--", *cmd)
        elapsed = time.monotonic() - started
    check_failure(r, marker, "timed out after 3s", proxy.url, "'good'")
    # A correctness bound (the documented deadline plus start-up), not a speed measurement.
    assert elapsed < 8


def test_connection_reset(good: Any, run: Run, emulator: Emulator, tmp_path: Path) -> None:
    cmd, marker = marker_command(tmp_path)
    with FaultProxy(emulator.url, FaultPlan(reset=1.0)) as proxy:
        r = run("-s", "good", "--endpoint-url", proxy.url, "--max-attempts", "2", "--", *cmd)
    check_failure(r, marker, "'good'", proxy.url)


def test_throttling_and_5xx_are_retried(good: Any, run: Run, emulator: Emulator) -> None:
    with FaultProxy(emulator.url, FaultPlan(script=["throttle", "error_503", "error_500"])) as proxy:
        r = run("-s", "good", "--", *CHILD_ENV, env={"AWS_ENDPOINT_URL": proxy.url})
        assert r.returncode == 0, r.stderr
        assert proxy.counts.total == 4


def test_the_default_deadline_bounds_a_hung_endpoint(run: Run, emulator: Emulator, tmp_path: Path) -> None:
    cmd, marker = marker_command(tmp_path)
    with FaultProxy(emulator.url, FaultPlan(hang=1.0)) as proxy:
        started = time.monotonic()
        r = run("-s", "good", "--endpoint-url", proxy.url, "--", *cmd)
        elapsed = time.monotonic() - started
    check_failure(r, marker, "timed out after 30s", proxy.url)
    assert elapsed < 35  # the README's bound: the 30 s default plus start-up


def test_not_found_is_not_retried(good: Any, run: Run, emulator: Emulator) -> None:
    with FaultProxy(emulator.url) as proxy:
        r = run("-s", "missing", "--endpoint-url", proxy.url, "--", "true")
    assert r.returncode == 125
    assert proxy.counts.total == 1


def test_lone_surrogate_is_one_error_in_run_export_and_check(good: Any, run: Run, tmp_path: Path) -> None:
    # JSON may escape half a UTF-16 pair alone: json.loads keeps it, and UTF-8 cannot encode it.
    good.create_secret(Name="sur", SecretString='{"a": "' + CANARY + '\\ud800y"}')
    cmd, marker = marker_command(tmp_path)
    words = ("'sur#a'", "lone UTF-16 surrogate")
    check_failure(run("-s", "good", "-s", "sur", "--", *cmd), marker, *words)
    for fmt in ("dotenv", "shell", "json", "docker", "github"):
        check_failure(run("export", "-s", "good", "-s", "sur", "--format", fmt), marker, *words)
    r = run("check", "-s", "good", "-s", "sur")
    assert r.returncode != 0 and "internal error" not in r.stdout + r.stderr
    assert all(w in r.stdout + r.stderr for w in words), r.stdout + r.stderr
    r.assert_no(CANARY)
    # In a key, it would reach the terminal through --dry-run and check.
    good.create_secret(Name="surkey", SecretString='{"\\ud800x": "' + CANARY + '"}')
    words = ("'surkey#\\ud800x'", "lone UTF-16 surrogate")
    for args in (["--dry-run", "-s", "surkey", "--", *cmd], ["-s", "surkey", "--", *cmd], ["export", "-s", "surkey"]):
        check_failure(run(*args), marker, *words)
    r = run("check", "-s", "surkey")
    assert r.returncode != 0 and "internal error" not in r.stdout + r.stderr
    assert all(w in r.stdout + r.stderr for w in words), r.stdout + r.stderr


def test_bare_arn_in_an_env_file_asks_for_the_scheme(good: Any, run: Run, tmp_path: Path) -> None:
    arn = good.describe_secret(SecretId="good")["ARN"]
    template = tmp_path / "app.env"
    template.write_text(f"MODE=prod\nDB_SECRET_ARN={arn}\n")
    cmd, marker = marker_command(tmp_path)
    r = run("--env-file", str(template), "--", *cmd)
    check_failure(r, marker, f"{template}:2", "DB_SECRET_ARN is a bare ARN", "DB_SECRET_ARN=sm://arn:...")
    assert arn not in r.stderr
    template.write_text(f'MODE=prod\nDB_SECRET_ARN="{arn}"\nTOKEN=sm://{arn}#token\n')
    env = run("--env-file", str(template), "--", *CHILD_ENV).env
    assert env["DB_SECRET_ARN"] == arn and env["TOKEN"] == GOOD["token"]
