"""One path from Settings to an environment, shared by the CLI and the Python API."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, EnvinjectError
from .rules.bindings import FileTemplate, Layered, Naming, Options, bind_templates, layered_entries, resolve_full
from .rules.envfile import Entry, environment_entries, is_environment_reference, read_envfile
from .rules.environment import Binding, merge, missing
from .rules.refs import Locator, Ref, parse_file_ref, split_assignment
from .rules.template import format_for, parse_template
from .settings import Settings
from .sources import SERVICES, Payload, Sources, backend_source
from .sources.aws import AwsSettings, ClientFactory, translate
from .sources.endpoints import endpoint


@dataclass
class Injection:
    """What a run would inject, before it is applied to any environment, and how it was made."""

    bindings: list[Binding]
    source: Sources
    layered: list[Layered] = field(default_factory=list)
    payloads: Mapping[Locator, Payload] = field(default_factory=dict)
    options: Options = field(default_factory=Options)
    #: The client factory it used (None when a client was given), for -v's timings.
    factory: ClientFactory | None = None
    #: Rendered file secrets (--file VAR=@TEMPLATE), bound after the rest.
    templates: list[FileTemplate] = field(default_factory=list)


def client_factory(settings: Settings) -> ClientFactory:
    """One factory (one botocore session) for everything a command does."""
    return ClientFactory(
        AwsSettings(
            region=settings.region,
            profile=settings.profile,
            endpoint_url=settings.endpoint_url,
            service_endpoints=settings.service_endpoints,
            timeout=settings.timeout,
            max_attempts=settings.max_attempts,
        )
    )


def make_source(
    settings: Settings,
    *,
    client: Any = None,
    note: Callable[[str], None] | None = None,
    factory: ClientFactory | None = None,
) -> Sources:
    """The sources for these settings, one per backend, made when a reference first needs it. ``client``
    replaces the AWS client (tests, the API): a Secrets Manager client, or a mapping ``{"sm": ..., "ssm": ...}``."""
    if client is not None:
        clients = client if isinstance(client, Mapping) else {"sm": client}

        def given(backend: str) -> Any:
            if backend not in clients:
                raise ConfigError(
                    f"no client was given for {backend!r} references", hint=f'pass client={{"{backend}": ...}}'
                )
            return lambda _region: clients[backend]

        return Sources(lambda b: backend_source(b, given(b), batch=settings.batch, note=note))
    made = factory or client_factory(settings)
    return Sources(
        lambda b: backend_source(
            b,
            lambda region: made.client(SERVICES[b], region),
            batch_client_for=lambda region: made.client(SERVICES[b], region, retries=False),
            batch=settings.batch,
            note=note,
        )
    )


def references(settings: Settings) -> list[str | Ref]:
    """The secrets and file secrets given (not those in env files or the environment), in order."""
    files = [parse_file_ref(text) for text in settings.files if not template_path(text)]
    return [*settings.secrets, *files]


def template_path(text: str) -> str | None:
    """TEMPLATE of ``--file VAR=@TEMPLATE``; None for ``--file VAR=REF``."""
    var, body = split_assignment(text.strip())
    return body[1:] if var is not None and body.startswith("@") else None


def read_template(path: str, var: str, fmt: str | None = None) -> FileTemplate:
    """Read and parse a template file; a missing or unreadable one is a ConfigError naming it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise ConfigError(f"template {path!r}: {reason}", hint="check the path") from None
    return FileTemplate(var, parse_template(text, path), fmt or format_for(path))


def templates(settings: Settings) -> list[FileTemplate]:
    """The rendered file secrets: ``--file VAR=@TEMPLATE``."""
    found = []
    for text in settings.files:
        path = template_path(text)
        if path is not None:
            found.append(read_template(path, split_assignment(text.strip())[0] or ""))
    return found


def env_entries(settings: Settings, inherited: Mapping[str, str] | None) -> list[list[tuple[str, Entry]]]:
    """The entries below the secrets, lowest first: references written in the inherited environment (unless
    ``--no-resolve-env``), then each env file's."""
    found = environment_entries(inherited) if inherited is not None and settings.resolve_env else []
    return [found, *(read_envfile(path) for path in settings.env_files)]


def options_of(settings: Settings) -> Options:
    """The rules that turn these settings' secrets into bindings."""
    return Options(Naming(settings.prefix, settings.name_case), frozenset(settings.allow), settings.layered)


def inject(
    settings: Settings,
    *,
    client: Any = None,
    note: Callable[[str], None] | None = None,
    warn: Callable[[str], None] | None = None,
    inherited: Mapping[str, str] | None = None,
    rendered: Sequence[FileTemplate] = (),
) -> Injection:
    """Read the env files (and the references in ``inherited``, the environment the command would inherit),
    fetch every secret and return the bindings in precedence order; file templates (``rendered`` too) last.
    ``warn`` hears of each variable a later secret takes over from an earlier one."""
    env_files = env_entries(settings, inherited)
    file_templates = [*templates(settings), *rendered]
    factory = client_factory(settings) if client is None else None
    source = make_source(settings, client=client, note=note, factory=factory)
    options = options_of(settings)
    extra = [ref.locator for t in file_templates for ref in t.template.refs]
    bindings, layered, payloads = resolve_full(
        references(settings), source, options, env_files, extra=extra, warn=warn, note=note
    )
    bindings += bind_templates(file_templates, payloads, bindings, inherited or {}, options)
    return Injection(bindings, source, layered, payloads, options, factory, file_templates)


def environment(settings: Settings, bindings: list[Binding], inherited: Mapping[str, str]) -> dict[str, str]:
    """The command's environment: inherited (unless pristine), then the bindings; --require checked.

    A variable that held a reference is always replaced by its value, even with --no-override: the
    reference was never meant as a value."""
    env = merge(inherited_base(settings, inherited), bindings, override=settings.override)
    absent = missing(env, settings.require)
    if absent:
        raise ConfigError(
            f"required variable(s) not set: {', '.join(absent)}",
            hint="add a secret or env file that sets them, or drop --require",
        )
    return env


def inherited_base(settings: Settings, inherited: Mapping[str, str]) -> dict[str, str]:
    """What the command inherits before the bindings: nothing with --pristine, and never a variable that held a
    reference (its value is the secret's, even with --no-override)."""
    if settings.pristine:
        return {}
    if not settings.resolve_env:
        return dict(inherited)
    return {k: v for k, v in inherited.items() if not is_environment_reference(k, v)}


def locators(settings: Settings, inherited: Mapping[str, str] | None = None) -> list[Locator]:
    """Every secret a run of these settings reads, each once, without fetching anything."""
    layered = layered_entries(references(settings), env_entries(settings, inherited))
    in_templates = [ref.locator for t in templates(settings) for ref in t.template.refs]
    return list(dict.fromkeys([*(e.locator for _, _, e in layered if isinstance(e, Ref)), *in_templates]))


def caller_arn(factory: ClientFactory) -> str:
    """The caller's ARN from sts:GetCallerIdentity (which needs no permission), or the reason there is none
    (no region, no credentials, an unknown profile, an unreachable endpoint) as the error a run would give."""
    client = factory.client("sts")
    try:
        return str(client.get_caller_identity()["Arn"])
    except Exception as e:  # noqa: BLE001 - one clear line
        raise translate(e, "the caller's identity", client, "sts:GetCallerIdentity") from None


def caller_identity(
    settings: Settings, note: Callable[[str], None], factory: ClientFactory | None = None
) -> str | None:
    """The caller's ARN, or None (noted) if it cannot be learnt: a report degrades, it does not fail."""
    try:
        return caller_arn(factory or client_factory(settings))
    except EnvinjectError as e:
        note(f"cannot tell who the caller is: {e}")
    return None


def endpoint_of(settings: Settings, environ: Mapping[str, str]) -> str:
    """The endpoint(s) a run talks to, for messages (best effort, no botocore)."""
    try:
        services = sorted({SERVICES[loc.backend] for loc in locators(settings, environ)}) or ["secretsmanager"]
    except EnvinjectError:
        services = ["secretsmanager"]
    region = settings.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "REGION"
    return " and ".join(dict.fromkeys(endpoint(service, region, settings, environ).url for service in services))
