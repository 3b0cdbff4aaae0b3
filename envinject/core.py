"""One path from Settings to an environment, shared by the CLI and the Python API."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import Settings
from .envfile import read_envfile
from .environ import Binding, merge, missing
from .errors import ConfigError, EnvinjectError
from .inject import Layered, Naming, Options, layered_entries, resolve_full
from .policy import Account, build_policy, key_arn
from .refs import Locator, Ref
from .sources import ENDPOINT_VARIABLES, SERVICES, Payload, Sources, backend_source
from .sources.aws import AwsSettings, ClientFactory, translate


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


def client_factory(settings: Settings) -> ClientFactory:
    """One factory (one botocore session) for everything a command does."""
    return ClientFactory(
        AwsSettings(
            region=settings.region,
            profile=settings.profile,
            endpoint_url=settings.endpoint_url,
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


def inject(settings: Settings, *, client: Any = None, note: Callable[[str], None] | None = None) -> Injection:
    """Read the env files, fetch every secret and return the bindings in precedence order."""
    env_files = [read_envfile(path) for path in settings.env_files]
    factory = client_factory(settings) if client is None else None
    source = make_source(settings, client=client, note=note, factory=factory)
    options = Options(naming=Naming(settings.prefix, settings.keep_case), allow=frozenset(settings.allow))
    bindings, layered, payloads = resolve_full(settings.secrets, source, options, env_files, note)
    return Injection(bindings, source, layered, payloads, options, factory)


def environment(settings: Settings, bindings: list[Binding], inherited: Mapping[str, str]) -> dict[str, str]:
    """The command's environment: inherited (unless pristine), then the bindings; --require checked."""
    env = merge({} if settings.pristine else inherited, bindings, override=settings.override)
    absent = missing(env, settings.require)
    if absent:
        raise ConfigError(
            f"required variable(s) not set: {', '.join(absent)}",
            hint="add a secret or env file that sets them, or drop --require",
        )
    return env


def locators(settings: Settings) -> list[Locator]:
    """Every secret a run of these settings reads, each once, without fetching anything."""
    layered = layered_entries(settings.secrets, [read_envfile(p) for p in settings.env_files])
    return list(dict.fromkeys(e.locator for _, _, e in layered if isinstance(e, Ref)))


def caller_identity(
    settings: Settings, note: Callable[[str], None], factory: ClientFactory | None = None
) -> str | None:
    """The caller's ARN from sts:GetCallerIdentity (which needs no permission), or None if it fails."""
    try:
        return str((factory or client_factory(settings)).client("sts").get_caller_identity()["Arn"])
    except EnvinjectError as e:
        note(f"cannot tell who the caller is: {e}")
    except Exception as e:  # noqa: BLE001 - a report degrades, it does not fail
        reason = translate(e, "the caller's identity", None, "sts:GetCallerIdentity").message
        note(f"cannot tell who the caller is: {reason}")
    return None


def iam_policy(
    settings: Settings,
    *,
    kms_keys: Sequence[str] = (),
    account: str | None = None,
    partition: str | None = None,
    note: Callable[[str], None],
    warn: Callable[[str], None],
) -> dict[str, Any]:
    """The narrowest policy for a run of these settings. Reads no secret value: it asks STS who the caller
    is (unless ``account`` is given) and DescribeSecret for each secret's KMS key, warning when it cannot."""
    factory = client_factory(settings)
    wanted = locators(settings)
    if account is None:
        arn = caller_identity(settings, note, factory)
        if arn is None:
            raise ConfigError(
                "cannot learn the AWS account from sts:GetCallerIdentity", hint="pass --account (and --partition)"
            )
        partition, account = partition or arn.split(":")[1], arn.split(":")[4]
    region = factory.default_region() if any(loc.region is None for loc in wanted) else ""
    where = Account(partition or "aws", account, region)
    sources = make_source(settings, factory=factory)
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
    return build_policy(wanted, where, batch=settings.batch, kms_keys=via)


def endpoint_of(settings: Settings, environ: Mapping[str, str]) -> str:
    """The endpoint(s) a run talks to, for messages (best effort, no botocore)."""
    try:
        services = sorted({SERVICES[loc.backend] for loc in locators(settings)}) or ["secretsmanager"]
    except EnvinjectError:
        services = ["secretsmanager"]
    region = settings.region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "REGION"
    found = [
        settings.endpoint_url
        or environ.get(ENDPOINT_VARIABLES[service])
        or environ.get("AWS_ENDPOINT_URL")
        or f"https://{service}.{region}.amazonaws.com"
        for service in services
    ]
    return " and ".join(dict.fromkeys(found))
