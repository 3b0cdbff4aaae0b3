"""`envinject push`: store a .env file in Secrets Manager as one JSON secret."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, FetchError, SecretFormatError, one_line
from ..options import PushOptions
from ..rules import flatten
from ..sources.aws import translate
from ..sources.secretsmanager import GET
from ..system.stdio import write_stdout
from . import Log, fetch_deadline

if TYPE_CHECKING:
    from ..settings import Settings


def push(settings: Settings, options: PushOptions, log: Log) -> int:
    """Create the secret or add a version; with ``dry_run``, only list the key names that would change."""
    from ..plan import client_factory, read_envfile
    from ..rules.envfile import Literal
    from ..rules.formats.dotenv import interpolation_hazards
    from ..validate import validate

    validate(settings, options)
    secret = options.secret
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


@dataclass(frozen=True)
class PushPlan:
    """What a push changes, by key name. ``content`` is the new secret; it never shows in a repr."""

    exists: bool
    added: list[str]
    changed: list[str]
    removed: list[str]
    content: dict[str, str] = field(repr=False)

    @property
    def unchanged(self) -> bool:
        """An existing secret that already holds exactly this content: pushing would only add a version."""
        return self.exists and not (self.added or self.changed or self.removed)


def plan_push(current: Mapping[str, str] | None, new: Mapping[str, str], *, merge: bool) -> PushPlan:
    """The secret's new content: the file's keys replace the secret's, or with ``merge`` keep the others. Pure.

    Two keys that differ only in case are a ConfigError naming both: a run would refuse them as one variable.
    """
    old = dict(current or {})
    content = {**old, **new} if merge else dict(new)
    seen: dict[str, str] = {}
    for key in content:
        other = seen.setdefault(key.upper(), key)
        if other != key:
            raise ConfigError(
                f"keys {other!r} and {key!r} differ only in case, so a run would refuse them as one variable "
                f"{key.upper()}",
                hint="rename or remove one of them in the file"
                if other in new and key in new
                else "spell the file's key as the secret does, or push without --merge",
            )
    return PushPlan(
        exists=current is not None,
        added=[k for k in content if k not in old],
        changed=[k for k in content if k in old and old[k] != content[k]],
        removed=[k for k in old if k not in content],
        content=content,
    )


def interpolate(pairs: Iterable[tuple[str, str]], environ: Mapping[str, str]) -> dict[str, str]:
    """Values with ``${NAME}`` and ``${NAME:-default}`` expanded as python-dotenv's ``dotenv_values()`` does:
    in file order, a name set earlier in the file before one in ``environ``, an unset one as empty. Pure."""
    from dotenv.variables import parse_variables

    out: dict[str, str] = {}
    for key, value in pairs:
        scope = {**environ, **out}
        out[key] = "".join(atom.resolve(scope) for atom in parse_variables(value))
    return out


def current_content(client: Any, name: str) -> dict[str, str] | None:
    """The secret's current JSON object, or None when there is no such secret."""
    try:
        resp = client.get_secret_value(SecretId=name)
    except Exception as exc:  # noqa: BLE001 - translated below
        err = translate(exc, f"secret {name!r}", client, GET)
        if isinstance(err, FetchError) and err.code == "ResourceNotFoundException":
            return None
        raise err from None
    text = resp.get("SecretString")
    try:
        doc = flatten.loads(text) if text is not None else None
    except flatten.TooDeep:
        raise SecretFormatError(
            f"secret {name!r} nests JSON more than {flatten.MAX_DEPTH} levels deep, so push cannot update its keys",
            hint="push to another secret name, or replace it with the AWS CLI",
        ) from None
    except (ValueError, flatten.DuplicateKey):
        doc = None
    if not isinstance(doc, dict):
        raise SecretFormatError(
            f"secret {name!r} exists but is not a JSON object, so push cannot update its keys",
            hint="push to another secret name, or replace it with the AWS CLI",
        )
    return {k: flatten.scalar_text(v) for k, v in doc.items()}


def apply_push(
    client: Any, name: str, plan: PushPlan, *, description: str | None = None, kms_key_id: str | None = None
) -> str:
    """Create the secret or add a version; returns the new VersionId."""
    body = json.dumps(plan.content, ensure_ascii=False)
    try:
        if plan.exists:
            resp = client.put_secret_value(SecretId=name, SecretString=body)
        else:
            extra = {k: v for k, v in (("Description", description), ("KmsKeyId", kms_key_id)) if v}
            resp = client.create_secret(Name=name, SecretString=body, **extra)
    except Exception as exc:  # noqa: BLE001 - one clear line
        action = "secretsmanager:PutSecretValue" if plan.exists else "secretsmanager:CreateSecret"
        raise translate(exc, f"secret {name!r}", client, action) from None
    return str(resp.get("VersionId", ""))
