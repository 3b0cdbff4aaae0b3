"""`envinject policy`: the IAM policy a run of these secrets needs, and no more."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..stdio import write_stdout
from . import Log, fetch_deadline, require_something

if TYPE_CHECKING:
    from ..config import Settings


def policy(
    settings: Settings, log: Log, *, kms_keys: Sequence[str] = (), account: str | None = None,
    partition: str | None = None,
) -> int:  # fmt: skip
    """Print the policy document as JSON."""
    from ..config import check_options
    from ..core import iam_policy

    check_options(settings)
    require_something(settings)
    with fetch_deadline(settings):
        document = iam_policy(
            settings, kms_keys=kms_keys, account=account, partition=partition, note=log.note, warn=log.warn,
            inherited=os.environ,
        )  # fmt: skip
    write_stdout(json.dumps(document, indent=2) + "\n")
    return 0
