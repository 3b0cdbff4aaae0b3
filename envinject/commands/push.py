"""`envinject push`: store a .env file in Secrets Manager as one JSON secret."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from . import Log

if TYPE_CHECKING:
    from ..config import Settings


@dataclass(frozen=True)
class PushOptions:
    file: Path
    #: The secret to create or update.
    secret: str
    merge: bool = False
    description: str | None = None
    kms_key_id: str | None = None
    dry_run: bool = False


def push(settings: Settings, options: PushOptions, log: Log) -> int:
    """Create the secret or add a version; with ``dry_run``, only list the key names that would change."""
    from ..core import client_factory
    from ..envfile import Literal, read_envfile
    from ..push import apply_push, current_content, plan_push
    from ..refs import SSM_SCHEME

    secret = options.secret
    if secret.startswith(SSM_SCHEME):
        raise ConfigError(
            f"push stores one Secrets Manager secret, and {secret!r} is a parameter",
            hint="name a secret (-s NAME); write parameters with aws ssm put-parameter",
        )
    entries = read_envfile(options.file, refs=False, missing_hint="check the FILE to push")
    pairs = {e.name: e.value for _, e in entries if isinstance(e, Literal)}
    client = client_factory(settings).client("secretsmanager")
    plan = plan_push(current_content(client, secret), pairs, merge=options.merge)
    if plan.unchanged:  # a new version would restart every --watch on it for nothing
        would = "would be" if options.dry_run else "is"
        sys.stdout.write(f"secret {secret!r} {would} unchanged: the file adds, changes and removes no key\n")
        return 0
    verb = "update" if plan.exists else "create"
    lines = [f"{'would ' if options.dry_run else ''}{verb} secret {secret!r}"]
    lines += [f"  {mark} {key}" for mark, keys in (("+", plan.added), ("~", plan.changed), ("-", plan.removed))
              for key in keys]  # fmt: skip
    if not options.dry_run:
        version = apply_push(client, secret, plan, description=options.description, kms_key_id=options.kms_key_id)
        lines[0] = f"{verb}d secret {secret!r} (version {version})"
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
