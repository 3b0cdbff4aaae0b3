"""The narrowest IAM policy for a configuration. Pure: identity and key facts come in as arguments."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .refs import Locator

GET = "secretsmanager:GetSecretValue"
BATCH = "secretsmanager:BatchGetSecretValue"
_FULL_ARN = re.compile(r"-[A-Za-z0-9]{6}\Z")


@dataclass(frozen=True)
class Account:
    """Where the secrets live, from sts:GetCallerIdentity and the region settings."""

    partition: str
    account: str
    region: str


def secret_resource(loc: Locator, where: Account) -> str:
    """The ARN pattern for one secret: a full ARN as given; a name or partial ARN with ``-??????``, the six
    random characters AWS appends to every secret's ARN."""
    if loc.secret_id.startswith("arn:"):
        name = loc.secret_id.split(":", 6)[6]
        return loc.secret_id if _FULL_ARN.search(name) else loc.secret_id + "-??????"
    return f"arn:{where.partition}:secretsmanager:{where.region}:{where.account}:secret:{loc.secret_id}-??????"


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
    kms_keys: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """An IAM policy document granting exactly what a run of these locators needs.

    ``kms_keys`` maps a KMS key ARN to the region whose Secrets Manager uses it (for kms:ViaService).
    BatchGetSecretValue is added only when a run would batch (two or more unpinned secrets in a region).
    """
    resources = sorted({secret_resource(loc, where) for loc in locators})
    statements: list[dict[str, Any]] = []
    if resources:
        statements.append({"Sid": "ReadSecrets", "Effect": "Allow", "Action": GET, "Resource": resources})
    by_region: dict[str | None, int] = {}
    for loc in {loc for loc in locators if not loc.versioned}:
        by_region[loc.region] = by_region.get(loc.region, 0) + 1
    if batch and any(n >= 2 for n in by_region.values()):
        # BatchGetSecretValue names no secret, so it takes no resource; each secret is still checked
        # against GetSecretValue above.
        statements.append({"Sid": "BatchReadSecrets", "Effect": "Allow", "Action": BATCH, "Resource": "*"})
    for arn, region in sorted((kms_keys or {}).items()):
        statements.append(
            {
                "Sid": f"DecryptSecrets{len(statements)}",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"secretsmanager.{region}.amazonaws.com"}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
