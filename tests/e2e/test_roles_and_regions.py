"""A role per reference and failover to replica regions, with the installed envinject against moto_server.

moto keeps each account's resources apart and gives an assumed role's credentials that role's account, so a secret
created with a role's credentials exists only in the role's account. Region faults come from the test proxy, which
reads the region each request was signed for from its SigV4 credential scope.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from tests.e2e.conftest import CHILD, Result
from tests.emulator import Emulator
from tests.faults.proxy import FaultProxy

ROLE = "arn:aws:iam::210987654321:role/reader"
OTHER_ROLE = "arn:aws:iam::310987654321:role/reader"
CANARY = "canary-Role-5e7"
Run = Callable[..., Result]


def in_account(emulator: Emulator, role: str, service: str = "secretsmanager", region: str = "us-east-1") -> Any:
    """A client with ``role``'s credentials: what it creates lives in the role's account."""
    sts = boto3.client("sts", endpoint_url=emulator.url, region_name="us-east-1", aws_access_key_id="testing",
                       aws_secret_access_key="testing")  # fmt: skip
    c = sts.assume_role(RoleArn=role, RoleSessionName="setup")["Credentials"]
    return boto3.client(service, endpoint_url=emulator.url, region_name=region, aws_access_key_id=c["AccessKeyId"],
                        aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])  # fmt: skip


@pytest.fixture
def accounts(emulator: Emulator, sm: Any) -> Any:
    """``prod/db`` in the caller's account and, with other values, in the role's account; 20 secrets there too."""
    sm.create_secret(Name="prod/db", SecretString=json.dumps({"pw": "caller-account"}))
    other = in_account(emulator, ROLE)
    other.create_secret(Name="prod/db", SecretString=json.dumps({"pw": CANARY}))
    for i in range(20):
        other.create_secret(Name=f"app/s{i}", SecretString=json.dumps({f"K{i}": f"v{i}"}))
    return other


def values(r: Result, *names: str) -> dict[str, str]:
    assert r.returncode == 0, r.stderr
    return {k: v for k, v in r.env.items() if k in names}


def test_a_reference_names_its_role_in_every_place_it_is_written(run: Run, accounts: Any, tmp_path: Any) -> None:
    (tmp_path / "app.env").write_text(f"FROM_FILE=sm://prod/db#pw?role={ROLE}\n")
    r = run("-s", "MINE=prod/db#pw", "-s", f"THEIRS=prod/db#pw?role={ROLE}", "--env-file", str(tmp_path / "app.env"),
            "--", *CHILD, env={"FROM_ENV": f"sm://prod/db#pw?role={ROLE}"})  # fmt: skip
    assert values(r, "MINE", "THEIRS", "FROM_FILE", "FROM_ENV") == {
        "MINE": "caller-account", "THEIRS": CANARY, "FROM_FILE": CANARY, "FROM_ENV": CANARY}  # fmt: skip
    by_default = run("--role", ROLE, "-s", "DB=prod/db#pw", "-s", "MINE=prod/db#pw?role=" + ROLE, "--", *CHILD)
    assert values(by_default, "DB") == {"DB": CANARY}
    from_env = run("-s", "DB=prod/db#pw", "--", *CHILD, env={"ENVINJECT_ROLE": ROLE})
    assert values(from_env, "DB") == {"DB": CANARY}


def test_twenty_secrets_under_one_role_cost_one_assume_role_and_one_batch(
    run: Run, accounts: Any, emulator: Emulator
) -> None:
    with FaultProxy(emulator.url) as proxy:
        r = run("-v", *(a for i in range(20) for a in ("-s", f"app/s{i}?role={ROLE}")), "--", *CHILD,
                env={"AWS_ENDPOINT_URL": proxy.url})  # fmt: skip
        assert len(values(r, *(f"K{i}" for i in range(20)))) == 20
        ops = {op.rsplit(".", 1)[-1]: n for op, n in proxy.counts.operations.items()}
    assert ops == {"AssumeRole": 1, "BatchGetSecretValue": 1}
    assert "1 AssumeRole" in r.stderr and "1 BatchGetSecretValue" in r.stderr


def test_a_selection_lists_and_reads_in_the_roles_account(run: Run, accounts: Any) -> None:
    r = run("-s", f"app/*?role={ROLE}", "--", *CHILD)
    assert len(values(r, *(f"K{i}" for i in range(20)))) == 20
    mine = run("-s", "app/*", "--", *CHILD)
    assert mine.returncode == 125 and "no secret matches" in mine.stderr


def test_a_role_that_cannot_be_assumed_is_one_line_and_nothing_runs(
    run: Run, accounts: Any, iam: Callable[[str | None], dict[str, str]], tmp_path: Any
) -> None:
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]})  # fmt: skip
    keys = iam(policy)  # no sts:AssumeRole
    marker = tmp_path / "ran"
    r = run("-s", f"DB=prod/db#pw?role={ROLE}", "--", "touch", str(marker), env=keys)
    assert r.returncode == 125 and not marker.exists() and r.stdout == ""
    assert r.stderr.count("\n") == 1 and f"role '{ROLE}'" in r.stderr and "sts:AssumeRole" in r.stderr
    assert "testing" not in r.stderr and keys["AWS_SECRET_ACCESS_KEY"] not in r.stderr
    # (With sts:AssumeRole allowed, moto cannot enforce the role's own policies across accounts: the reads that
    # succeed under a role are the tests above, with IAM not enforced.)


def test_an_arn_in_another_account_without_a_role_goes_as_today(run: Run, accounts: Any) -> None:
    arn = accounts.describe_secret(SecretId="prod/db")["ARN"]
    r = run("-s", f"DB={arn}#pw", "--", *CHILD)  # no resource policy in the emulator's other account: not found
    assert r.returncode == 125 and "prod/db" in r.stderr and CANARY not in r.stderr


# --- failover ---------------------------------------------------------------------------------------------------


@pytest.fixture
def replicated(emulator: Emulator, sm: Any) -> Iterator[FaultProxy]:
    """``app`` in us-east-1 and its replica in us-west-2 (told apart by value), behind the region-aware proxy."""
    sm.create_secret(Name="app", SecretString=json.dumps({"where": "primary", "pw": CANARY}))
    west = boto3.client("secretsmanager", endpoint_url=emulator.url, region_name="us-west-2",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    west.create_secret(Name="app", SecretString=json.dumps({"where": "replica", "pw": CANARY}))
    west.create_secret(Name="only-west", SecretString=json.dumps({"where": "replica"}))
    with FaultProxy(emulator.url) as proxy:
        yield proxy


@pytest.mark.parametrize("fault", ["hang", "error_503", "throttle", "reset"])
def test_a_region_that_does_not_answer_fails_over_to_the_replica(run: Run, replicated: FaultProxy, fault: str) -> None:
    replicated.region_faults["us-east-1"] = fault
    started = time.monotonic()
    r = run("-v", "--timeout", "10", "--failover-region", "us-west-2", "-s", "app", "--", *CHILD,
            env={"AWS_ENDPOINT_URL": replicated.url})  # fmt: skip
    took = time.monotonic() - started
    assert values(r, "WHERE") == {"WHERE": "replica"}
    assert "read from the replica in us-west-2" in r.stderr and CANARY not in r.stderr
    assert took < 8, took  # the hedge asked the replica long before the deadline


def test_a_reference_names_its_own_failover_regions(run: Run, replicated: FaultProxy) -> None:
    replicated.region_faults["us-east-1"] = "hang"
    r = run("--timeout", "10", "-s", "app?failover-region=us-west-2", "--", *CHILD,
            env={"AWS_ENDPOINT_URL": replicated.url})  # fmt: skip
    assert values(r, "WHERE") == {"WHERE": "replica"}


def test_an_answer_never_fails_over(run: Run, replicated: FaultProxy) -> None:
    r = run("--failover-region", "us-west-2", "-s", "only-west", "--", *CHILD, env={"AWS_ENDPOINT_URL": replicated.url})
    assert r.returncode == 125 and "was not found in us-east-1" in r.stderr
    assert replicated.counts.regions["us-west-2"] == 0


def test_an_arn_fails_over_by_its_region(run: Run, replicated: FaultProxy) -> None:
    partial = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app"  # the ECS form names a secret so too
    replicated.region_faults["us-east-1"] = "error_503"
    r = run("--timeout", "10", "--failover-region", "us-west-2", "-s", partial, "--", *CHILD,
            env={"AWS_ENDPOINT_URL": replicated.url})  # fmt: skip
    assert values(r, "WHERE") == {"WHERE": "replica"}


def test_a_healthy_primary_is_never_hedged(run: Run, replicated: FaultProxy) -> None:
    r = run("--failover-region", "us-west-2", "-s", "app", "--", *CHILD, env={"AWS_ENDPOINT_URL": replicated.url})
    assert values(r, "WHERE") == {"WHERE": "primary"}
    assert replicated.counts.regions["us-west-2"] == 0


def test_policy_is_keyed_by_who_needs_it(run: Run, accounts: Any) -> None:
    r = run("policy", "-s", "MINE=prod/db#pw", "-s", f"THEIRS=prod/db#pw?role={ROLE}", "-s", f"app/s1?role={ROLE}")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert set(doc) == {"caller", ROLE}
    caller = {s["Sid"]: s for s in doc["caller"]["Statement"]}
    assert caller["AssumeRoles"]["Action"] == "sts:AssumeRole" and caller["AssumeRoles"]["Resource"] == ROLE
    assert caller["ReadSecrets"]["Resource"] == ["arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/db-??????"]
    theirs = {s["Sid"]: s for s in doc[ROLE]["Statement"]}
    assert theirs["ReadSecrets"]["Resource"] == [
        "arn:aws:secretsmanager:us-east-1:210987654321:secret:app/s1-??????",
        "arn:aws:secretsmanager:us-east-1:210987654321:secret:prod/db-??????",
    ]
    alone = json.loads(run("policy", "-s", "prod/db").stdout)
    assert set(alone) == {"Version", "Statement"}  # no role: one document, as before


def test_check_reports_each_reference_under_its_role(
    run: Run, accounts: Any, iam: Callable[[str | None], dict[str, str]]
) -> None:
    r = run("check", "-s", f"DB=prod/db#pw?role={ROLE}", "-s", "MINE=prod/db#pw")
    line = next(x for x in r.stdout.splitlines() if x.startswith("OK") and "role=" in x)
    assert line.endswith(f"1 variable(s) [role {ROLE}: assumed] [from us-east-1]"), r.stdout
    keys = iam(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}]}))  # fmt: skip
    denied = run("check", "-s", f"DB=prod/db#pw?role={ROLE}", env=keys)
    assert denied.returncode == 1 and f"[role {ROLE}: denied]" in denied.stdout and "DENIED" in denied.stdout


def test_a_watch_says_once_when_the_region_that_serves_a_secret_changes(
    emulator: Emulator, replicated: FaultProxy
) -> None:
    import signal
    import subprocess

    from tests.e2e.conftest import ENVINJECT, base_env
    from tests.e2e.test_mask import Reader
    from tests.waiting import wait_for

    env = {**base_env(emulator), "AWS_ENDPOINT_URL": replicated.url}
    p = subprocess.Popen([ENVINJECT, "--watch", "1", "--timeout", "5", "--failover-region", "us-west-2", "-s", "app",
                          "--", "sleep", "60"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    assert p.stderr is not None
    err = Reader(p.stderr)
    try:
        wait_for(lambda: replicated.counts.operations.get("secretsmanager.GetSecretValue", 0) >= 2, timeout=30)
        replicated.region_faults["us-east-1"] = "error_503"
        wait_for(lambda: b"now read from us-west-2" in err.data, timeout=30)
        before = replicated.counts.regions["us-west-2"]
        wait_for(lambda: replicated.counts.regions["us-west-2"] >= before + 2, timeout=30)  # two more polls
        replicated.region_faults.clear()
        wait_for(lambda: b"now read from us-east-1" in err.data, timeout=30)
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)
    text = err.join().decode()
    assert text.count("now read from us-west-2") == 1 and text.count("now read from us-east-1") == 1, text
    assert CANARY not in text


def test_several_secrets_fail_over_together_not_one_after_another(
    run: Run, replicated: FaultProxy, emulator: Emulator
) -> None:
    west = boto3.client("secretsmanager", endpoint_url=emulator.url, region_name="us-west-2",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    for i in range(8):
        west.create_secret(Name=f"many{i}", SecretString=json.dumps({f"M{i}": "replica"}))
    replicated.region_faults["us-east-1"] = "hang"
    started = time.monotonic()
    r = run("--timeout", "20", "--failover-region", "us-west-2", *(a for i in range(8) for a in ("-s", f"many{i}")),
            "--", *CHILD, env={"AWS_ENDPOINT_URL": replicated.url})  # fmt: skip
    took = time.monotonic() - started
    assert values(r, *(f"M{i}" for i in range(8))) == {f"M{i}": "replica" for i in range(8)}
    assert took < 6, took  # one hedge delay for all of them (one each would be 8 s)
