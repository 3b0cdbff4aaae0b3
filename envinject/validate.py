"""Every option, checked in one place before any request, whatever it came from: a flag, an environment
variable, a config file or the Python API.

Two steps, both here. :func:`settings_values` checks the names and types of settings as they are read (a config
file's table, the command line's values, the API's keyword arguments), naming where they came from.
:func:`validate` then checks what a command will use, the settings and the command's own options together:
numbers in range, endpoints, region, prefix, name case, formats, signals, output paths, conflicts. Every command
calls it first, so a bad option never waits for the network. It returns what it parsed (the signals, the
output path), so nothing parses an option twice.
"""

from __future__ import annotations

import math
import re
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError, EnvinjectError, quote
from .options import CommandOptions, ExportOptions, PushOptions, RenderOptions, RunOptions
from .records import record
from .rules.naming import NAME_CASES, is_valid_name
from .rules.refs import AWS_REGION_NAME, ROLE_ARN
from .settings import _LISTS, KEYS, Settings
from .sources.endpoints import SERVICE_VARIABLES

#: The type of each scalar setting, as a config file, the command line or the API gives it.
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
    "via": str,
    "agent_url": str,
    "role": str,
    "resolve_env": bool,
}
#: The longest duration any option takes, in seconds.
DAY = 86400.0
#: botocore's rule for a region name (anything else is an InvalidRegionError when a client is made).
_REGION = re.compile(r"[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?")
#: How every AWS region is named (us-east-1, us-gov-west-1, cn-northwest-1, eusc-de-east-1, with or without fips).
_AWS_REGION = AWS_REGION_NAME
#: botocore's rule for an endpoint's host name (is_valid_endpoint_url); an IP address is fine too.
_HOST = re.compile(r"((?!-)[A-Z\d-]{1,63}(?<!-)\.)*((?!-)[A-Z\d-]{1,63}(?<!-))\.?", re.IGNORECASE)


def settings_values(data: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """``data`` as Settings' values: known names (``env-files`` and ``env_files`` are one), the right types, a
    list as a tuple, the older ``keep_case`` as ``name_case``. A ConfigError names ``origin``."""
    out: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = raw_key.replace("-", "_")
        if key not in KEYS:
            raise ConfigError(
                f"{origin}: unknown setting {raw_key!r}", hint="known settings: " + ", ".join(sorted(KEYS))
            )
        if key in _LISTS:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
                raise ConfigError(f"{origin}: {raw_key} must be a string or a list of strings")
            out[key] = tuple(items)
        elif key == "resolve_env" and not isinstance(value, bool):
            out[key] = names_to_resolve(value, f"{origin}: {raw_key.replace('_', '-')}")
        else:
            if not isinstance(value, _TYPES[key]) or (_TYPES[key] is not bool and isinstance(value, bool)):
                expected = {"bool": "true or false", "str": "a string"}.get(
                    getattr(_TYPES[key], "__name__", ""), "a whole number" if key == "max_attempts" else "a number"
                )
                raise ConfigError(f"{origin}: {raw_key} must be {expected}")
            out[key] = value
    return _name_case(out, origin)


def names_to_resolve(value: object, where: str) -> tuple[str, ...]:
    """``resolve_env``'s names (``--resolve-env``, ``ENVINJECT_RESOLVE_ENV``, config ``resolve-env``): a name or a
    list of names, each a variable name or a name's start followed by ``*``. A ConfigError names ``where``."""
    from .rules.envrefs import is_declarable

    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ConfigError(f"{where} must be true, false, or a list of variable names")
    bad = [p for p in items if not is_declarable(p)]
    if bad:
        raise ConfigError(
            f"{where} takes variable names and NAME_* prefixes, and {quote(bad[0])} is neither",
            hint="for example DB_PASSWORD or DB_*; a lone * is not taken, as under CI it would resolve commit messages",
        )
    return tuple(items)


def _name_case(values: dict[str, Any], origin: str) -> dict[str, Any]:
    """``values`` with keep_case (the older spelling) turned into name_case, and name_case checked."""
    keep = values.pop("keep_case", None)
    if keep is not None:
        case = "keep" if keep else "upper"
        if values.get("name_case") not in (None, case):
            raise ConfigError(
                f"{origin}: keep-case and name-case disagree", hint="give name-case alone: upper, lower or keep"
            )
        values["name_case"] = case
    if isinstance(values.get("name_case"), str):  # Upper or UPPER, as the GitHub Action takes it
        values["name_case"] = values["name_case"].lower()
    if values.get("name_case") not in (None, *NAME_CASES):
        raise ConfigError(f"{origin}: name-case must be upper, lower or keep", hint="for example --name-case lower")
    return values


@record(frozen=True)
class Checked:
    """What :func:`validate` parsed, for the command to use as it is."""

    #: ``-o``: the file to write, or None for stdout.
    output: Path | None = None
    #: ``--stop-signal``.
    stop_signal: signal.Signals = signal.SIGTERM
    #: ``--on-change signal:NAME``; None for restart.
    reload_signal: signal.Signals | None = None


def validate(settings: Settings, options: CommandOptions | None = None) -> Checked:
    """Check every setting and every option of the command, before anything is read or sent: finite, in
    range, known, not in conflict. Raises ConfigError naming the first bad one and where it came from."""
    _check_settings(settings)
    if isinstance(options, RunOptions):
        return _check_run(options)
    if isinstance(options, ExportOptions):
        from .rules.formats import FORMATS

        _check_format(options.fmt, FORMATS)
        output = output_path(options.output)
        if options.github_mask and output is None and options.fmt != "github":
            raise ConfigError(
                f"--github-mask prints ::add-mask:: lines on stdout, where they would mix with the {options.fmt} text",
                hint='write the export to a file with -o FILE, or use -f github -o "$GITHUB_ENV"',
            )
        return Checked(output=output)
    if isinstance(options, RenderOptions):
        from .rules.template import ESCAPERS

        if options.fmt is not None:
            _check_format(options.fmt, ESCAPERS)
        return Checked(output=output_path(options.output))
    if isinstance(options, PushOptions):
        _check_push(options)
    return Checked()


def _check_settings(settings: Settings) -> None:
    def where(key: str) -> str:
        return settings.origins.get(key) or "--" + key.replace("_", "-")

    _check_number(where("timeout"), settings.timeout, 0.1, DAY, "a number of seconds")
    _check_number(where("max_attempts"), settings.max_attempts, 1, 100, "a whole number", whole=True)
    endpoints = [(where("endpoint_url"), settings.endpoint_url)] if settings.endpoint_url is not None else []
    endpoints += [(SERVICE_VARIABLES.get(s, s), url) for s, url in settings.service_endpoints]
    for name, url in endpoints:
        if not _is_endpoint(url):
            raise ConfigError(
                f"{name} is not an http:// or https:// URL with a valid host", hint="for example http://localhost:4566"
            )
    if settings.region is not None and not _REGION.fullmatch(settings.region):
        raise ConfigError(f"{where('region')} is not an AWS region name", hint="for example eu-west-1")
    if settings.region is not None and not endpoints and not _AWS_REGION.fullmatch(settings.region):
        # AWS's own endpoints exist only for its regions; a typo (us-east-1a) would be retried to the deadline.
        raise ConfigError(
            f"{where('region')} is not an AWS region name",
            hint="for example eu-west-1; for a local emulator, set --endpoint-url too",
        )
    if settings.prefix and not is_valid_name(settings.prefix):
        raise ConfigError(
            f"{where('prefix')} must start a variable name: letters, digits and _, not starting with a digit",
            hint="for example APP_",
        )
    if isinstance(settings.resolve_env, tuple):
        names_to_resolve(settings.resolve_env, where("resolve_env"))
    if settings.name_case not in NAME_CASES:
        raise ConfigError(f"{where('name_case')} must be upper, lower or keep", hint="for example --name-case lower")
    if settings.role is not None and not ROLE_ARN.fullmatch(settings.role):
        raise ConfigError(
            f"{where('role')} is not an IAM role ARN", hint="for example arn:aws:iam::210987654321:role/reader"
        )
    regions = [r for given in settings.failover_regions for r in given.split(",")]
    bad = [r for r in regions if not AWS_REGION_NAME.fullmatch(r)]
    if bad:
        given = settings.origins.get("failover_regions") or "--failover-region"
        raise ConfigError(
            f"{given} takes AWS region names, and {quote(bad[0])} is none", hint="for example us-west-2,eu-west-1"
        )
    from .sources.agent import VIAS, parse_url

    if settings.via not in VIAS:
        raise ConfigError(f"{where('via')} must be auto, agent or api", hint="for example --via api")
    if parse_url(settings.agent_url) is None:
        raise ConfigError(
            f"{where('agent_url')} must be an http:// URL to this machine (localhost, 127.x.x.x or [::1]) with no path",
            hint="for example http://localhost:2773: the agent's token must not leave the machine",
        )


def _check_run(options: RunOptions) -> Checked:
    if options.watch is not None:
        _check_number("--watch", options.watch, 1, DAY, "a number of seconds")
    _check_number("--kill-timeout", options.kill_timeout, 0, DAY, "a number of seconds")
    stop = signal_number(options.stop_signal)
    if options.restart_on_exit and options.watch is None:
        raise ConfigError(
            "--restart-on-exit needs --watch",
            hint="without --watch the command's exit ends envinject; let a supervisor such as systemd or your "
            "orchestrator restart it",
        )
    reload = _reload_signal(options)
    if not options.command:
        raise EnvinjectError("no command given", hint="write envinject --secret NAME -- COMMAND [ARGS...]")
    if not options.command[0]:
        raise EnvinjectError("the command is an empty word", hint="write envinject --secret NAME -- COMMAND [ARGS...]")
    return Checked(stop_signal=stop, reload_signal=reload)


def _reload_signal(options: RunOptions) -> signal.Signals | None:
    """``--on-change``: None for ``restart``, the signal of ``signal:NAME``; each goes with --watch."""
    kind, _, name = options.on_change.partition(":")
    if kind == "restart" and not name:
        if options.accept_stale_env:
            raise ConfigError("--accept-stale-env goes with --on-change signal:NAME")
        return None
    if kind != "signal" or not name:
        raise ConfigError(f"--on-change {options.on_change[:40]!r} is not known", hint="use restart or signal:NAME")
    if options.watch is None:
        raise ConfigError("--on-change goes with --watch", hint="add --watch SECONDS")
    return signal_number(name, "--on-change signal:NAME")


def signal_number(name: str, option: str = "--stop-signal") -> signal.Signals:
    """A signal named with or without ``SIG`` (any case), or by number; a ConfigError naming ``option``."""
    full = name.upper() if name.upper().startswith("SIG") else "SIG" + name.upper()
    try:
        return signal.Signals(int(name)) if name.isdigit() else signal.Signals[full]
    except (KeyError, ValueError):
        example = "SIGTERM, SIGINT or 15" if option == "--stop-signal" else "SIGHUP, SIGUSR1 or 1"
        raise ConfigError(f"{option} is not a known signal", hint=f"for example {example}") from None


def _check_format(fmt: str, known: Mapping[str, object]) -> None:
    if fmt not in known:
        raise ConfigError(f"unknown format {fmt[:40]!r}", hint=f"use one of {', '.join(known)}")


def _check_push(options: PushOptions) -> None:
    from .rules.refs import SSM_SCHEME

    if options.secret.startswith(SSM_SCHEME):
        raise ConfigError(
            f"push stores one Secrets Manager secret, and {options.secret!r} is a parameter",
            hint="name a secret (-s NAME); write parameters with aws ssm put-parameter",
        )


def output_path(given: str | None) -> Path | None:
    """The file ``-o`` names, or None for stdout (no -o, or -o -). An empty name is refused: it is what
    ``-o "$GITHUB_ENV"`` gives where GITHUB_ENV is not set."""
    if given is None or given == "-":
        return None
    if not given:
        raise ConfigError(
            "-o was given an empty file name",
            hint="is $GITHUB_ENV set? outside GitHub Actions, name a file, or write -o - for stdout",
        )
    return Path(given)


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
