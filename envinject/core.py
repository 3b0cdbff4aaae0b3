"""One path from Settings to an environment, shared by the CLI and the Python API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .config import Settings
from .envfile import read_envfile
from .environ import Binding, merge, missing
from .errors import ConfigError
from .inject import Naming, Options, resolve
from .sources.aws import AwsSettings, ClientFactory
from .sources.secretsmanager import SecretsManagerSource


@dataclass
class Injection:
    """What a run would inject, before it is applied to any environment."""

    bindings: list[Binding]
    source: SecretsManagerSource


def make_source(
    settings: Settings, *, client: Any = None, note: Callable[[str], None] | None = None
) -> SecretsManagerSource:
    """A Secrets Manager source for these settings; ``client`` replaces the AWS client (tests, the API)."""
    if client is not None:
        return SecretsManagerSource.from_client(client, batch=settings.batch, note=note)
    factory = ClientFactory(
        AwsSettings(
            region=settings.region,
            profile=settings.profile,
            endpoint_url=settings.endpoint_url,
            timeout=settings.timeout,
        )
    )
    return SecretsManagerSource(
        lambda region: factory.client("secretsmanager", region),
        batch_client_for=lambda region: factory.client("secretsmanager", region, retries=False),
        batch=settings.batch,
        note=note,
    )


def inject(settings: Settings, *, client: Any = None, note: Callable[[str], None] | None = None) -> Injection:
    """Read the env files, fetch every secret and return the bindings in precedence order."""
    env_files = [read_envfile(path) for path in settings.env_files]
    source = make_source(settings, client=client, note=note)
    options = Options(naming=Naming(settings.prefix, settings.keep_case), allow=frozenset(settings.allow))
    return Injection(resolve(settings.secrets, source, options, env_files), source)


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
