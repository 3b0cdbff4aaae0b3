"""Whatever the network does to an answer that holds a value, the value shows in no output: a property test
over every fault the proxy can make, for run, check and the --watch poll log."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.e2e.conftest import ENVINJECT, base_env
from tests.emulator import Emulator
from tests.faults.proxy import FAULTS, FaultPlan, FaultProxy

CANARY = "canary-fault-b7e1"
# The canary comes first in each value, and the padding after it puts it in the first half of an answer, so
# a cut-off body still holds it.
SECRET = json.dumps({"token": CANARY, "padding": "x" * 400})
PARAMETER = CANARY + "-p" + "x" * 400
# The parameter first: the first failure in this order is the one reported, and Parameter Store's answer holds
# the value near its start (moto puts a secret's after its dates).
REFS = ["-s", "T=ssm:///app/token", "-s", "good"]
LIMITS = ["--timeout", "2", "--max-attempts", "2"]


@pytest.fixture
def upstream(emulator: Emulator) -> Emulator:
    emulator.reset()
    keys: dict[str, Any] = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    sm = boto3.client("secretsmanager", endpoint_url=emulator.url, region_name="us-east-1", **keys)
    sm.create_secret(Name="good", SecretString=SECRET)
    ssm = boto3.client("ssm", endpoint_url=emulator.url, region_name="us-east-1", **keys)
    ssm.put_parameter(Name="/app/token", Value=PARAMETER, Type="SecureString")
    return emulator


def run_through(proxy: FaultProxy, emulator: Emulator, command: str, requests: int = 0) -> str:
    """All that one command prints, stdout and stderr, with the proxy as its endpoint; a resident run is stopped
    once the proxy has answered ``requests`` requests and one more (so the last answer was handled)."""
    env = {**base_env(emulator), "AWS_ENDPOINT_URL": proxy.url}
    if command == "run":
        args = [*REFS, *LIMITS, "--", "true"]
    elif command == "check":
        args = ["check", *REFS, *LIMITS]
    else:  # a resident run whose polls meet the faults; the poll log is its stderr
        args = [*REFS, *LIMITS, "--watch", "0.2", "--", "sleep", "30"]
    proc = subprocess.Popen([ENVINJECT, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if command == "watch":
        deadline = time.monotonic() + 20
        while proxy.counts.total <= requests and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    return out + err


@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["run", "check", "watch"]), faults=st.lists(st.sampled_from(FAULTS), max_size=6))
@example(command="run", faults=["error_cut"] * 4)
@example(command="check", faults=["error_cut"] * 4)
@example(command="watch", faults=["error_cut"] * 12)
@example(command="run", faults=["query_error"] * 4)
@example(command="check", faults=["pem_line"] * 4)
@example(command="run", faults=["forged_code", "forged_code", "hang"])
@example(command="watch", faults=["forged_code", "query_error", "pem_line"] * 4)
def test_no_fault_puts_a_value_in_the_output(upstream: Emulator, command: str, faults: list[str]) -> None:
    # --watch: the first fetch passes, so the faults meet the polls.
    script = (["ok", "ok"] if command == "watch" else []) + faults
    with FaultProxy(upstream.url, FaultPlan(script=script, delay_seconds=0.5)) as proxy:
        output = run_through(proxy, upstream, command, len(script))
    assert CANARY not in output, f"{command} with {faults} printed a value: {output}"
    assert "Traceback" not in output
    # No line is forged: whatever the endpoint's code holds, it reaches the terminal escaped.
    assert "\x1b" not in output and "\r" not in output, f"{command} with {faults}: {output!r}"
    assert not [line for line in output.splitlines() if line.startswith("envinject fetched")], output
