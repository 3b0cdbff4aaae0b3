"""Settings: every option, from the command line, the environment, a config file and defaults.

Precedence is resolved in one place, :func:`resolve_settings`: lists (secrets, env files, require, allow)
are the config file's followed by the command line's (or the environment's); a scalar comes from the command
line, then the environment, then the config file, then the default. Every number and option is checked in one
place, :func:`check_options`, whatever it came from.
"""

from __future__ import annotations

import math
import os
import re
import signal
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError
from .rules.naming import NAME_CASES
from .sources.endpoints import EVERY_SERVICE_VARIABLE, SERVICE_VARIABLES, variables_ignored

CONFIG_FILE = "envinject.toml"


@dataclass(frozen=True)
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
    #: Resolve references written in the inherited environment (``DB_PASSWORD=sm://prod/db#password``).
    resolve_env: bool = True
    #: Per-service endpoints from ``AWS_ENDPOINT_URL_<SERVICE>`` (botocore's service names), which beat
    #: ``endpoint_url`` when that came from the config file.
    service_endpoints: tuple[tuple[str, str], ...] = ()
    #: Where a setting came from when not from the command line or the defaults: ``"timeout in 'envinject.toml'"``
    #: or ``"AWS_REGION"``, for messages.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)


_LISTS = {"secrets", "files", "env_files", "require", "allow"}
_TYPES: dict[str, type | tuple[type, ...]] = {
    "prefix": str,
    "name_case": str,
    "keep_case": bool,
    "layered": bool,
    "region": str,
    "profile": str,
    "endpoint_url": str,
    "timeout": (int, float),
    "max_attempts": int,
    "override": bool,
    "pristine": bool,
    "batch": bool,
    "resolve_env": bool,
}
#: Settings' names, and keep_case, the older spelling of name_case ("keep" or "upper").
KEYS = (frozenset(f.name for f in fields(Settings)) - {"service_endpoints", "origins"}) | {"keep_case"}


def normalize_case(values: dict[str, Any], origin: str) -> dict[str, Any]:
    """``values`` with keep_case turned into name_case, and name_case checked (a ConfigError naming ``origin``)."""
    keep = values.pop("keep_case", None)
    if keep is not None:
        case = "keep" if keep else "upper"
        if values.get("name_case") not in (None, case):
            raise ConfigError(
                f"{origin}: keep-case and name-case disagree", hint="give name-case alone: upper, lower or keep"
            )
        values["name_case"] = case
    if values.get("name_case") not in (None, *NAME_CASES):
        raise ConfigError(f"{origin}: name-case must be upper, lower or keep", hint="for example --name-case lower")
    return values


#: The environment variables that give a setting, the first one set winning; they beat the config file.
ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "profile": ("AWS_PROFILE",),
    "endpoint_url": (EVERY_SERVICE_VARIABLE,),
}


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    values: Mapping[str, Any]


def find_config(start: Path, *, home: Path | None, warn: Callable[[str], None]) -> ConfigFile | None:
    """The nearest ``envinject.toml``, or ``pyproject.toml`` with a ``[tool.envinject]`` table, from ``start``
    up to the repository root (a folder holding ``.git``), ``home`` or ``/``, whichever comes first; in one folder
    ``envinject.toml`` comes first. As git's ``safe.directory``: a file someone else could have written
    (:func:`untrusted`) is not read, and ``warn`` says so."""
    stop = Path(os.path.realpath(home)) if home is not None else None
    for folder in (start, *start.parents):
        for candidate in (folder / CONFIG_FILE, folder / "pyproject.toml"):
            if candidate.is_file():
                found = load_config(candidate, warn=warn, discovered=True)
                if found is not None:
                    return found
        if folder == stop or (folder / ".git").exists():
            break
    return None


def untrusted(st: os.stat_result) -> str | None:
    """Why a file envinject found on its own must not be obeyed, or None: it is owned by someone other than
    the user or root, or others can write to it, or a group other than the owner's own private group can."""
    if st.st_uid not in (os.geteuid(), 0):
        return f"it is owned by uid {st.st_uid}, not by you or root"
    if st.st_mode & stat.S_IWOTH:
        return "others can write to it"
    if st.st_mode & stat.S_IWGRP and not _private_group(st.st_uid, st.st_gid):
        return f"group {st.st_gid} can write to it"
    return None


def _private_group(uid: int, gid: int) -> bool:
    """Whether ``gid`` is ``uid``'s own group with no other member (Debian's user private groups, umask 002)."""
    import grp
    import pwd

    try:
        user, group = pwd.getpwuid(uid), grp.getgrgid(gid)
    except KeyError:
        return False
    return user.pw_gid == gid and group.gr_name == user.pw_name and set(group.gr_mem) <= {user.pw_name}


def load_config(path: Path, *, warn: Callable[[str], None], discovered: bool = False) -> ConfigFile | None:
    """Read one config file; None for a pyproject.toml without ``[tool.envinject]``, or for a ``discovered``
    file that is :func:`untrusted`. An env file it names that is untrusted is left out, with a warning."""
    # Imported here: a run with no config file found should not pay for a TOML parser.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 has no tomllib
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

    try:
        with path.open("rb") as f:
            reason = untrusted(os.fstat(f.fileno())) if discovered else None
            if reason is not None:
                warn(f"ignoring config file {str(path)!r}: {reason}")
                return None
            data = tomllib.loads(f.read().decode("utf-8"))
    except OSError as e:
        raise ConfigError(f"config file {str(path)!r}: {e.strerror}", hint="check --config") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {e}", hint="fix the file") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        if not isinstance(tool, dict):
            raise ConfigError(f"{str(path)!r}: tool must be a table", hint="write [tool.envinject]")
        table = tool.get("envinject")
        if table is None:
            return None
        if not isinstance(table, dict):
            raise ConfigError(f"{str(path)!r}: tool.envinject must be a table", hint="write [tool.envinject]")
        data = table
    values = validate(data, str(path))
    if "env_files" in values:
        values["env_files"] = tuple(p for p in values["env_files"] if _trusted_env_file(path, p, warn))
    return ConfigFile(path, values)


def _trusted_env_file(config: Path, name: str, warn: Callable[[str], None]) -> bool:
    target = config.parent / name
    try:
        reason = untrusted(target.stat())
    except OSError:  # a missing file is reported when it is read
        return True
    if reason is not None:
        warn(f"ignoring env file {str(target)!r} named in {str(config)!r}: {reason}")
    return reason is None


def validate(data: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Check keys and types; ``env-files`` and ``env_files`` are the same key. Relative paths are kept."""
    out: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key not in KEYS:
            raise ConfigError(
                f"{origin}: unknown setting {raw_key!r}", hint="known settings: " + ", ".join(sorted(KEYS))
            )
        if key in _LISTS:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ConfigError(f"{origin}: {raw_key} must be a string or a list of strings")
            out[key] = tuple(items)
        else:
            if not isinstance(value, _TYPES[key]) or (_TYPES[key] is not bool and isinstance(value, bool)):
                expected = {"bool": "true or false", "str": "a string"}.get(
                    getattr(_TYPES[key], "__name__", ""), "a whole number" if key == "max_attempts" else "a number"
                )
                raise ConfigError(f"{origin}: {raw_key} must be {expected}")
            out[key] = value
    return normalize_case(out, origin)


def _relative_template(text: str, base: Path) -> str:
    """``VAR=@TEMPLATE`` with TEMPLATE relative to ``base``; any other file secret as it is."""
    from .rules.refs import split_assignment

    var, body = split_assignment(text.strip())
    return f"{var}=@{base / body[1:]}" if var is not None and body.startswith("@") else text


def split_secrets(value: str) -> tuple[str, ...]:
    """``ENVINJECT_SECRETS``: references separated by commas or whitespace."""
    return tuple(r for r in re.split(r"[,\s]+", value) if r)


def resolve_settings(cli: Mapping[str, Any], environ: Mapping[str, str], config: ConfigFile | None = None) -> Settings:
    """Combine command line > environment > config file > defaults into one Settings, for every setting.

    ``cli`` holds only what the user gave (None or empty for the rest). ``ENVINJECT_SECRETS`` stands in
    for ``--secret`` when no ``--secret`` is given. The variables in :data:`ENVIRONMENT` give their setting;
    ``AWS_ENDPOINT_URL_<SERVICE>`` gives that service's endpoint unless ``--endpoint-url`` is given (so a
    config file's endpoint-url serves only the services the environment names no endpoint for). Config
    ``env_files`` are relative to the config file.
    """
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    if config is not None:
        values.update(config.values)
        base = config.path.parent
        origins.update({k: f"{k.replace('_', '-')} in {str(config.path)!r}" for k in config.values})
        if "env_files" in values:
            values["env_files"] = tuple(str(base / p) for p in values["env_files"])
        if "files" in values:  # a template (VAR=@PATH) is relative to the config file too
            values["files"] = tuple(_relative_template(f, base) for f in values["files"])
    cli = dict(cli)
    if not cli.get("secrets") and environ.get("ENVINJECT_SECRETS"):
        cli["secrets"] = split_secrets(environ["ENVINJECT_SECRETS"])
    endpoints_ignored = variables_ignored(environ)
    for key, names in ENVIRONMENT.items():
        found = [n for n in names if environ.get(n) and not (endpoints_ignored and key == "endpoint_url")]
        if found and key == "profile":
            # Left for botocore to read: a profile given to it explicitly turns off credentials from the environment.
            values.pop(key, None)
            origins.pop(key, None)
        elif found:
            values[key], origins[key] = environ[found[0]], found[0]
    for key in cli:
        if key not in KEYS:
            raise TypeError(f"unknown setting {key}")
    for key, value in normalize_case({k: v for k, v in cli.items() if v is not None}, "the command line").items():
        if key in _LISTS:
            values[key] = tuple(values.get(key, ())) + tuple(value or ())
        else:
            values[key] = value
            origins.pop(key, None)
    if cli.get("endpoint_url") is None and not endpoints_ignored:
        values["service_endpoints"] = tuple((s, environ[v]) for s, v in SERVICE_VARIABLES.items() if environ.get(v))
    return Settings(**values, origins=origins)


#: The longest duration any option takes, in seconds.
DAY = 86400.0
#: botocore's rule for a region name (anything else is an InvalidRegionError when a client is made).
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")
#: botocore's rule for an endpoint's host name (is_valid_endpoint_url); an IP address is fine too.
_HOST = re.compile(r"((?!-)[A-Z\d-]{1,63}(?<!-)\.)*((?!-)[A-Z\d-]{1,63}(?<!-))\.?", re.IGNORECASE)


def check_options(
    settings: Settings,
    *,
    watch: float | None = None,
    kill_timeout: float = 10.0,
    stop_signal: str = "SIGTERM",
    restart_on_exit: bool = False,
    on_change: str = "restart",
    accept_stale_env: bool = False,
) -> None:
    """Check every number and option a command uses, whatever it came from (command line, environment, config
    file, the API), before anything is read or sent: finite, in range, known. Raises ConfigError naming the
    first bad one and where it came from."""
    from .rules.naming import is_valid_name

    def where(key: str) -> str:
        return settings.origins.get(key) or "--" + key.replace("_", "-")

    _check_number(where("timeout"), settings.timeout, 0.1, DAY, "a number of seconds")
    _check_number(where("max_attempts"), settings.max_attempts, 1, 100, "a whole number", whole=True)
    if watch is not None:
        _check_number("--watch", watch, 1, DAY, "a number of seconds")
    _check_number("--kill-timeout", kill_timeout, 0, DAY, "a number of seconds")
    stop_signal_number(stop_signal)
    if restart_on_exit and watch is None:
        raise ConfigError(
            "--restart-on-exit needs --watch",
            hint="without --watch the command's exit ends envinject; let a supervisor such as systemd or your "
            "orchestrator restart it",
        )
    reload_signal_number(on_change, watch=watch, accept_stale_env=accept_stale_env)
    endpoints = [(where("endpoint_url"), settings.endpoint_url)] if settings.endpoint_url is not None else []
    endpoints += [(SERVICE_VARIABLES.get(s, s), url) for s, url in settings.service_endpoints]
    for name, url in endpoints:
        if not _is_endpoint(url):
            raise ConfigError(
                f"{name} is not an http:// or https:// URL with a valid host", hint="for example http://localhost:4566"
            )
    if settings.region is not None and not _REGION.fullmatch(settings.region):
        raise ConfigError(f"{where('region')} is not an AWS region name", hint="for example eu-west-1")
    if settings.prefix and not is_valid_name(settings.prefix):
        raise ConfigError(
            f"{where('prefix')} must start a variable name: letters, digits and _, not starting with a digit",
            hint="for example APP_",
        )


def _check_number(name: str, value: object, low: float, high: float, what: str, *, whole: bool = False) -> None:
    kinds = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not (low <= value <= high and math.isfinite(value)):
        shown = f"{value:g}" if isinstance(value, float) else repr(value)[:20]
        raise ConfigError(f"{name} must be {what} from {low:g} to {high:g}, not {shown}")


def _is_endpoint(url: str) -> bool:
    import ipaddress

    if any(c.isspace() or not c.isprintable() for c in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return False
    host = parts.hostname
    if parts.scheme not in ("http", "https") or not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return len(host) <= 255 and _HOST.fullmatch(host) is not None


def reload_signal_number(
    on_change: str, *, watch: float | None, accept_stale_env: bool = False
) -> signal.Signals | None:
    """``--on-change``: None for ``restart``, the signal of ``signal:NAME``; each goes with --watch."""
    kind, _, name = on_change.partition(":")
    if kind == "restart" and not name:
        if accept_stale_env:
            raise ConfigError("--accept-stale-env goes with --on-change signal:NAME")
        return None
    if kind != "signal" or not name:
        raise ConfigError(f"--on-change {on_change[:40]!r} is not known", hint="use restart or signal:NAME")
    if watch is None:
        raise ConfigError("--on-change goes with --watch", hint="add --watch SECONDS")
    return stop_signal_number(name, "--on-change signal:NAME")


def stop_signal_number(name: str, option: str = "--stop-signal") -> signal.Signals:
    """``--stop-signal`` (or ``option``): a name with or without ``SIG`` (any case), or a number."""
    full = name.upper() if name.upper().startswith("SIG") else "SIG" + name.upper()
    try:
        return signal.Signals(int(name)) if name.isdigit() else signal.Signals[full]
    except (KeyError, ValueError):
        example = "SIGTERM, SIGINT or 15" if option == "--stop-signal" else "SIGHUP, SIGUSR1 or 1"
        raise ConfigError(f"{option} is not a known signal", hint=f"for example {example}") from None
