"""`envinject push`: store a .env file in Secrets Manager as one JSON secret."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, FetchError, SecretFormatError, one_line
from ..options import PushOptions
from ..records import field, record
from ..rules import flatten
from ..rules.bindings import Naming
from ..rules.naming import env_name
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
        naming = Naming(settings.prefix, settings.name_case)
        plan = plan_push(current_content(client, secret), pairs, merge=options.merge, naming=naming)
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


@record(frozen=True)
class PushPlan:
    """What a push changes, by the secret's key paths (``db.host``). ``content`` is the new secret; it never
    shows in a repr."""

    exists: bool
    added: list[str]
    changed: list[str]
    removed: list[str]
    content: dict[str, Any] = field(repr=False)

    @property
    def unchanged(self) -> bool:
        """An existing secret that already holds exactly this content: pushing would only add a version."""
        return self.exists and not (self.added or self.changed or self.removed)


def plan_push(
    current: Mapping[str, Any] | None, new: Mapping[str, str], *, merge: bool, naming: Naming | None = None
) -> PushPlan:
    """The secret's new content: the file's keys replace the secret's, or with ``merge`` keep the others. Pure.

    A file key is the secret's key it names: the same key, or the key (or nested key path) that a run names that
    variable after, by ``naming`` (the run's prefix and name case). So a file that ``export`` wrote from the
    secret pushes back as the same secret: its keys keep their spelling, nesting and JSON types, and a value the
    file leaves as it was is unchanged. Keys the file names for the first time are added as written. Two keys a
    run would make one variable of are a ConfigError naming both.
    """
    naming = naming or Naming()
    old = dict(flatten.flatten(dict(current))) if current else {}
    named: dict[str, tuple[str, ...]] = {}
    for path in old:
        named.setdefault(env_name(path, prefix=naming.prefix, case=naming.case), path)
    content: dict[str, Any] = copy.deepcopy(dict(current or {}))
    added: list[str] = []
    changed: list[str] = []
    kept: set[tuple[str, ...]] = set()
    for key, value in new.items():
        path = (key,) if (key,) in old else named.get(key, (key,))
        kept.add(path)
        if path not in old:
            added.append(key)
            content[key] = value
        elif old[path] != value:
            changed.append(".".join(path))
            _set(content, path, value)
    gone = [] if merge else [path for path in old if path not in kept]
    for path in gone:
        _delete(content, path)
    _refuse_one_variable(content, new, naming)
    return PushPlan(current is not None, added, changed, [".".join(p) for p in gone], content)


def _set(document: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    for key in path[:-1]:
        document = document[key]
    document[path[-1]] = value


def _delete(document: dict[str, Any], path: tuple[str, ...]) -> None:
    """Remove the value at ``path``, and each object the removal leaves empty."""
    parents = [document]
    for key in path[:-1]:
        parents.append(parents[-1][key])
    for depth in range(len(path) - 1, -1, -1):
        del parents[depth][path[depth]]
        if parents[depth] or depth == 0:
            break


def _refuse_one_variable(content: Mapping[str, Any], new: Mapping[str, str], naming: Naming) -> None:
    """Two keys of the new secret that a run would name the same variable: refused, as a run would refuse it."""
    seen: dict[str, str] = {}
    for path, _ in flatten.flatten(dict(content)) if content else ():
        key = ".".join(path)
        name = env_name(path, prefix=naming.prefix, case=naming.case)
        other = seen.setdefault(name, key)
        if other == key:
            continue
        why = "differ only in case" if other.upper() == key.upper() else f"both become {name}"
        raise ConfigError(
            f"keys {other!r} and {key!r} {why}, so a run would refuse them as one variable {name}",
            hint="rename or remove one of them in the file"
            if other in new and key in new
            else "spell the file's key as the secret does, or push without --merge",
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


def current_content(client: Any, name: str) -> dict[str, Any] | None:
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
    return doc


def apply_push(
    client: Any, name: str, plan: PushPlan, *, description: str | None = None, kms_key_id: str | None = None
) -> str:
    """Create the secret or add a version; returns the new VersionId."""
    body = flatten.to_json(plan.content)  # numbers written back exactly as they were
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
