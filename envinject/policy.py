"""The narrowest IAM policy for a configuration. Pure: identity and key facts come in as arguments; each
backend in ``sources`` says what its reads need."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from .refs import Locator
from .sources import Account, grants

__all__ = ["Account", "build_policy", "key_arn"]


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
