"""`envinject push`: store a .env file in Secrets Manager as one JSON secret."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError, one_line
from ..stdio import write_stdout
from . import Log, fetch_deadline

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
    #: Expand ${NAME} as python-dotenv's dotenv_values() does, instead of storing it as written.
    interpolate: bool = False


def push(settings: Settings, options: PushOptions, log: Log) -> int:
    """Create the secret or add a version; with ``dry_run``, only list the key names that would change."""
    from ..config import check_options
    from ..core import client_factory
    from ..envfile import Literal, read_envfile
    from ..formats.dotenv import interpolation_hazards
    from ..push import apply_push, current_content, interpolate, plan_push
    from ..refs import SSM_SCHEME

    check_options(settings)
    secret = options.secret
    if secret.startswith(SSM_SCHEME):
        raise ConfigError(
            f"push stores one Secrets Manager secret, and {secret!r} is a parameter",
            hint="name a secret (-s NAME); write parameters with aws ssm put-parameter",
        )
    literals = [
        (e.name, e.value)
        for _, e in read_envfile(options.file, refs=False, missing_hint="check the path given to push")
        if isinstance(e, Literal)
    ]
    pairs = interpolate(literals, os.environ) if options.interpolate else dict(literals)
    hazards = [] if options.interpolate else interpolation_hazards(dict(literals))
    if hazards:
        log.warn(
            f"{', '.join(hazards)}: stored with ${{...}} as written, which load_dotenv() would expand; "
            "pass --interpolate to store the expanded value"
        )
    with fetch_deadline(settings, repr(secret)):
        client = client_factory(settings).client("secretsmanager")
        plan = plan_push(current_content(client, secret), pairs, merge=options.merge)
        if plan.unchanged:  # a new version would restart every --watch on it for nothing
            would = "would be" if options.dry_run else "is"
            write_stdout(f"secret {secret!r} {would} unchanged: the file adds, changes and removes no key\n")
            return 0
        verb = "update" if plan.exists else "create"
        lines = [f"{'would ' if options.dry_run else ''}{verb} secret {secret!r}"]
        # one_line: an existing secret's keys are written by whoever can write the secret.
        lines += [f"  {mark} {one_line(key)}" for mark, keys in (("+", plan.added), ("~", plan.changed),
                  ("-", plan.removed)) for key in keys]  # fmt: skip
        if not options.dry_run:
            version = apply_push(client, secret, plan, description=options.description, kms_key_id=options.kms_key_id)
            lines[0] = f"{verb}d secret {secret!r} (version {version})"
    write_stdout("\n".join(lines) + "\n")
    return 0
