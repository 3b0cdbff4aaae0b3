"""Settings: every option, from the command line, the environment, a config file and defaults.

Precedence is resolved in one place, :func:`resolve_settings`: lists (secrets, env files, require, allow)
are the config file's followed by the command line's (or the environment's); a scalar comes from the command
line, then the environment, then the config file, then the default. ``resolve_env`` is either: names add up as
a list's items do, and true or false replaces what a lower level gave, as a scalar does. Names and types are
checked as values are read, and every value before a command uses it, in :mod:`envinject.validate`; config files
are found and read by :mod:`envinject.configfile`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ConfigError
from .records import field, fields, record
from .sources.endpoints import EVERY_SERVICE_VARIABLE, SERVICE_VARIABLES, variables_ignored

if TYPE_CHECKING:
    from .configfile import ConfigFile


@record(frozen=True)
class Settings:
    """Everything a run needs to know. The defaults are envinject's defaults."""

    secrets: tuple[str, ...] = ()
    #: ``VAR=REF``: REF's value in a file, VAR its path (--file).
    files: tuple[str, ...] = ()
    env_files: tuple[str, ...] = ()
    prefix: str = ""
    #: What names made from keys look like: upper, lower or keep (--name-case; --keep-case is "keep").
    name_case: str = "upper"
    #: The secrets are layers: a later one replaces an earlier one's variables without a warning.
    layered: bool = False
    require: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    #: Seconds for fetching everything, retries included (the CLI exits 125 when it passes).
    timeout: float = 30.0
    #: Tries per request, the first included (botocore's standard retry mode: throttling and 5xx only).
    max_attempts: int = 20
    override: bool = True
    pristine: bool = False
    batch: bool = True
    #: How Secrets Manager is read: "auto" (through the local agent when one is installed), "agent" or "api".
    via: str = "auto"
    #: Where the local Secrets Manager agent (or the Lambda extension) listens: http:// to this machine.
    agent_url: str = "http://localhost:2773"
    #: The IAM role to read references that name none with (``?role=`` names one per reference).
    role: str | None = None
    #: Regions holding replicas, read in order when a secret's own region does not answer.
    failover_regions: tuple[str, ...] = ()
    #: Which inherited variables written as references (``DB_PASSWORD=sm://prod/db#password``) are resolved: the
    #: names and ``PREFIX*`` given (--resolve-env), none (False, --no-resolve-env), or by default (True) every one
    #: unless a CI system set up the environment (:mod:`envinject.rules.envrefs` has the rule).
    resolve_env: bool | tuple[str, ...] = True
    #: Per-service endpoints from ``AWS_ENDPOINT_URL_<SERVICE>`` (botocore's service names), which beat
    #: ``endpoint_url`` when that came from the config file.
    service_endpoints: tuple[tuple[str, str], ...] = ()
    #: The config file's stage these settings were read with (--stage, ENVINJECT_STAGE, default-stage), if any.
    stage: str | None = None
    #: Where a setting came from when not from the command line or the defaults: ``"timeout in 'envinject.toml'"``
    #: or ``"AWS_REGION"``, for messages.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    #: Each env file and template a config file named, with that config file's path: it is read only if it may
    #: be obeyed (:func:`~envinject.system.trust.read_trusted`), whoever named the config file.
    from_config: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)


_LISTS = {"secrets", "files", "env_files", "require", "allow", "failover_regions"}
#: Settings' names, and keep_case, the older spelling of name_case ("keep" or "upper").
KEYS = (frozenset(f.name for f in fields(Settings)) - {"service_endpoints", "origins", "from_config", "stage"}) | {
    "keep_case"
}


#: The environment variables that give a setting, the first one set winning; they beat the config file.
ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "profile": ("AWS_PROFILE",),
    "endpoint_url": (EVERY_SERVICE_VARIABLE,),
    "via": ("ENVINJECT_VIA",),
    "agent_url": ("ENVINJECT_AGENT_URL",),
    "role": ("ENVINJECT_ROLE",),
}


def _relative_template(text: str, base: Path) -> tuple[str, str | None]:
    """``VAR=@TEMPLATE`` with TEMPLATE relative to ``base``, and that path; any other file secret as it is,
    and None."""
    from .rules.refs import file_template

    template = file_template(text)
    if template is None:
        return text, None
    path = str(base / template[1])
    return f"{template[0]}=@{path}", path


def split_secrets(value: str) -> tuple[str, ...]:
    """``ENVINJECT_SECRETS`` (references) and ``ENVINJECT_RESOLVE_ENV`` (names): separated by commas or
    whitespace."""
    return tuple(r for r in re.split(r"[,\s]+", value) if r)


def resolve_settings(cli: Mapping[str, Any], environ: Mapping[str, str], config: ConfigFile | None = None) -> Settings:
    """Combine command line > environment > config file > defaults into one Settings, for every setting.

    ``cli`` holds only what the user gave (None or empty for the rest); its ``no_resolve_env`` is
    ``--no-resolve-env``. ``ENVINJECT_SECRETS`` stands in for ``--secret`` when no ``--secret`` is given, and
    ``ENVINJECT_RESOLVE_ENV`` for ``--resolve-env`` likewise. The variables in :data:`ENVIRONMENT` give their setting;
    ``AWS_ENDPOINT_URL_<SERVICE>`` gives that service's endpoint unless ``--endpoint-url`` is given (so a
    config file's endpoint-url serves only the services the environment names no endpoint for). Config
    ``env_files`` are relative to the config file.
    """
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    from_config: dict[str, str] = {}
    cli = dict(cli)
    stage, stage_origin = _chosen_stage(cli, environ, config)
    if config is not None:
        values.update(config.values)
        for name in config.chain(stage, stage_origin) if stage is not None else []:
            for key, value in config.stages[name].values.items():  # a list adds up, a value replaces
                values[key] = tuple(values.get(key, ())) + tuple(value) if key in _LISTS else value
        base = config.path.parent
        origins.update({k: f"{k.replace('_', '-')} in {str(config.path)!r}" for k in values})
        if "env_files" in values:
            values["env_files"] = tuple(str(base / p) for p in values["env_files"])
            from_config.update(dict.fromkeys(values["env_files"], str(config.path)))
        if "files" in values:  # a template (VAR=@PATH) is relative to the config file too
            relative = [_relative_template(f, base) for f in values["files"]]
            values["files"] = tuple(text for text, _ in relative)
            from_config.update({path: str(config.path) for _, path in relative if path is not None})
    if not cli.get("secrets") and environ.get("ENVINJECT_SECRETS"):
        cli["secrets"] = split_secrets(environ["ENVINJECT_SECRETS"])
    if cli.pop("no_resolve_env", None):
        if cli.get("resolve_env"):
            raise ConfigError("--resolve-env and --no-resolve-env disagree", hint="give one of them")
        cli["resolve_env"] = False
    endpoints_ignored = variables_ignored(environ)
    for key, names in ENVIRONMENT.items():
        found = [n for n in names if environ.get(n) and not (endpoints_ignored and key == "endpoint_url")]
        if found and key == "profile":
            # Left for botocore to read: a profile given to it explicitly turns off credentials from the environment.
            values.pop(key, None)
            origins.pop(key, None)
        elif found:
            values[key], origins[key] = environ[found[0]], found[0]
    from .validate import names_to_resolve, settings_values

    given = settings_values({k: v for k, v in cli.items() if v is not None}, "the command line")
    if "resolve_env" not in given and environ.get("ENVINJECT_RESOLVE_ENV"):
        given["resolve_env"] = names_to_resolve(
            split_secrets(environ["ENVINJECT_RESOLVE_ENV"]), "ENVINJECT_RESOLVE_ENV"
        )
    for key, value in given.items():
        if key in _LISTS:
            values[key] = tuple(values.get(key, ())) + tuple(value or ())
        elif isinstance(value, tuple) and isinstance(values.get(key), tuple):  # resolve_env's names add up
            values[key] = values[key] + value
        else:
            values[key] = value
            origins.pop(key, None)
    if cli.get("endpoint_url") is None and not endpoints_ignored:
        values["service_endpoints"] = tuple((s, environ[v]) for s, v in SERVICE_VARIABLES.items() if environ.get(v))
    return Settings(**values, stage=stage, origins=origins, from_config=from_config)


def _chosen_stage(cli: dict[str, Any], environ: Mapping[str, str], config: ConfigFile | None) -> tuple[str | None, str]:
    """The stage named by --stage, else ENVINJECT_STAGE, else the config file's default-stage; and who named it."""
    given = cli.pop("stage", None)
    stage, origin = (given, "--stage") if given else (environ.get("ENVINJECT_STAGE") or None, "ENVINJECT_STAGE")
    if stage is None and config is not None and config.default_stage is not None:
        stage, origin = config.default_stage, f"default-stage in {str(config.path)!r}"
    if stage is not None and (config is None or not config.stages):
        raise ConfigError(
            f"{origin} names stage {stage[:60]!r}, and no config file defines stages",
            hint="define it in envinject.toml ([stages.NAME]) or pyproject.toml ([tool.envinject.stages.NAME])",
        )
    return stage, origin
