"""`envinject policy`: the IAM policy a run of these secrets needs, and no more."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from ..errors import EnvinjectError
from ..plan import caller_arn, client_factory, make_plan, make_source
from ..rules.refs import Locator
from ..settings import Settings
from ..sources import Account, grants
from ..system.stdio import write_stdout
from . import Log, fetch_deadline, require_something


def policy(
    settings: Settings | Mapping[str, Settings], log: Log, *, kms_keys: Sequence[str] = (),
    account: str | None = None, partition: str | None = None,
) -> int:  # fmt: skip
    """Print the policy document as JSON; given settings per stage, one document per stage, keyed by its name."""
    from ..validate import validate

    each = settings if isinstance(settings, Mapping) else {"": settings}
    for one in each.values():
        validate(one)
        require_something(one)
    documents: dict[str, Any] = {}
    for name, one in each.items():
        with fetch_deadline(one):
            documents[name] = iam_policy(
                one, kms_keys=kms_keys, account=account, partition=partition, note=log.note, warn=log.warn,
                inherited=os.environ,
            )  # fmt: skip
    write_stdout(json.dumps(documents if isinstance(settings, Mapping) else documents[""], indent=2) + "\n")
    return 0


def key_arn(key_id: str, where: Account) -> str:
    """A KMS key ARN from what DescribeSecret or the user gave: an ARN, or a bare key id."""
    if key_id.startswith("arn:"):
        return key_id
    return f"arn:{where.partition}:kms:{where.region}:{where.account}:key/{key_id}"


def build_policy(
    locators: Sequence[Locator],
    where: Account,
    *,
    batch: bool,
    kms_keys: Mapping[str, Collection[str]] | None = None,
) -> dict[str, Any]:
    """An IAM policy document granting exactly what a run of these locators needs.

    ``kms_keys`` maps a KMS key ARN to the service endpoints that decrypt with it for the run
    (``secretsmanager.eu-west-1.amazonaws.com``), which become its kms:ViaService condition.
    """
    statements = grants(locators, where, batch=batch)
    for arn, via in sorted((kms_keys or {}).items()):
        services = sorted(via)
        statements.append(
            {
                "Sid": f"Decrypt{len(statements)}",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": arn,
                "Condition": {"StringEquals": {"kms:ViaService": services[0] if len(services) == 1 else services}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def iam_policy(
    settings: Settings,
    *,
    kms_keys: Sequence[str] = (),
    account: str | None = None,
    partition: str | None = None,
    note: Callable[[str], None],
    warn: Callable[[str], None],
    inherited: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The narrowest policy for a run of these settings. Reads no secret value: it asks STS who the caller
    is (unless ``account`` is given) and DescribeSecret for each secret's KMS key, warning when it cannot. When
    references are read with roles, one policy per principal, keyed by who needs it: ``caller`` (its own reads,
    and sts:AssumeRole on each role), then each role's ARN (the reads made with it, in its account)."""
    factory = client_factory(settings)
    wanted = make_plan(settings, inherited or {}, environment_references=inherited is not None, warn=warn).locators
    if account is None:
        arn = caller_arn(factory)
        partition, account = partition or arn.split(":")[1], arn.split(":")[4]
        note(f"account {account} from sts:GetCallerIdentity ({arn})")
    region = factory.default_region() if any(loc.region is None for loc in wanted) else ""
    where = Account(partition or "aws", account, region)
    sources = make_source(settings, factory=factory)
    if sources.agent is not None:
        warn(
            f"the Secrets Manager agent at {sources.agent.url} reads the secrets it serves with its own "
            "role: grant the GetSecretValue statements to the agent's role too (with kms:Decrypt for its keys)"
        )
    roles = sources.roles(wanted)
    if not roles:
        return _policy_for(wanted, where, sources, factory, kms_keys, warn, batch=settings.batch)
    # Keyed by who needs it: the caller (its own reads, and sts:AssumeRole on each role), then each role.
    mine = [loc for loc in wanted if sources.route(loc).role is None]
    caller = _policy_for(mine, where, sources, factory, kms_keys, warn, batch=settings.batch)
    caller["Statement"].append({"Sid": "AssumeRoles", "Effect": "Allow", "Action": "sts:AssumeRole",
                                "Resource": roles if len(roles) > 1 else roles[0]})  # fmt: skip
    out: dict[str, Any] = {"caller": caller}
    for role in roles:
        group = [loc for loc in wanted if sources.route(loc).role == role]
        in_account = Account(where.partition, role.split(":")[4], region)
        out[role] = _policy_for(group, in_account, sources, factory, kms_keys, warn, batch=settings.batch)
    return out


def _policy_for(
    wanted: Sequence[Locator], where: Account, sources: Any, factory: Any, kms_keys: Sequence[str],
    warn: Callable[[str], None], *, batch: bool,
) -> dict[str, Any]:  # fmt: skip
    """The narrowest policy for reading ``wanted`` in ``where``'s account, asking each secret's KMS key with the
    credentials it is read with."""
    region = where.region
    via: dict[str, set[str]] = {}
    for k in kms_keys:  # keys the user names: for every service this run reads, in the default region
        via[key_arn(k, where)] = {f"{sources.service_of(loc)}.{region}.amazonaws.com" for loc in wanted}
    for loc in wanted:
        try:
            found = sources.kms_keys_of(loc)
        except EnvinjectError as e:
            warn(f"{e.message}; if {loc.describe()} uses a customer-managed KMS key, pass --kms-key")
            continue
        secret_region = loc.region or region
        for key in found:
            arn = key
            if "alias/" in key:  # kms:Decrypt is granted on the key, not on its alias
                try:
                    arn = str(factory.client("kms", secret_region).describe_key(KeyId=key)["KeyMetadata"]["Arn"])
                except Exception:  # noqa: BLE001 - degrade to a warning
                    warn(f"cannot resolve KMS alias {key!r} (kms:DescribeKey); pass --kms-key with the key ARN")
                    continue
            arn = key_arn(arn, Account(where.partition, where.account, secret_region))
            via.setdefault(arn, set()).add(f"{sources.service_of(loc)}.{secret_region}.amazonaws.com")
    return build_policy(wanted, where, batch=batch, kms_keys=via)
