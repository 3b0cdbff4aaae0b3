"""A fleet starting at once against a throttling, failing endpoint: everyone starts, with exact values."""

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.e2e.conftest import CHILD, Result
from tests.emulator import Emulator
from tests.faults.proxy import FaultPlan, FaultProxy

Run = Callable[..., Result]
CANARY = "canary-fleet-4242"


def test_thirty_processes_through_40_percent_throttling_and_10_percent_503(
    sm: Any, run: Run, emulator: Emulator
) -> None:
    sm.create_secret(Name="fleet/a", SecretString=json.dumps({"a": CANARY + "-a"}))
    sm.create_secret(Name="fleet/b", SecretString=json.dumps({"b": CANARY + "-b"}))
    with FaultProxy(emulator.url, FaultPlan(throttle=0.4, error_503=0.1)) as proxy:

        def one(_: int) -> Result:
            return run("-s", "fleet/a", "-s", "fleet/b", "--timeout", "120", "--", *CHILD,
                       env={"AWS_ENDPOINT_URL": proxy.url}, timeout=180)  # fmt: skip

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(one, range(30)))
        counts = proxy.counts
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode]
    assert all((r.env["A"], r.env["B"]) == (CANARY + "-a", CANARY + "-b") for r in results)
    assert all(CANARY not in r.stderr for r in results)
    assert counts.faults["throttle"] > 0
    assert counts.faults["error_503"] > 0
