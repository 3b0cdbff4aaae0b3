"""Settings: every option, from the command line, the environment, a config file and defaults.

Precedence is resolved in one place, :func:`resolve_settings`: lists (secrets, env files, require, allow)
are the config file's followed by the command line's; a scalar from the command line overrides the
config file's, which overrides the default.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .naming import NAME_CASES

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

    @property
    def keep_case(self) -> bool:
        """--keep-case, the older spelling of --name-case keep."""
        return self.name_case == "keep"


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
KEYS = frozenset(f.name for f in fields(Settings)) | {"keep_case"}


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


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    values: Mapping[str, Any]


def find_config(start: Path) -> ConfigFile | None:
    """The nearest ``envinject.toml``, or ``pyproject.toml`` with a ``[tool.envinject]`` table, from
    ``start`` up to the root; in one folder ``envinject.toml`` comes first."""
    for folder in (start, *start.parents):
        own = folder / CONFIG_FILE
        if own.is_file():
            return load_config(own)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            found = load_config(pyproject)
            if found is not None:
                return found
    return None


def load_config(path: Path) -> ConfigFile | None:
    """Read one config file; None for a pyproject.toml without ``[tool.envinject]``."""
    # Imported here: a run with no config file found should not pay for a TOML parser.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 has no tomllib
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"config file {str(path)!r}: {e.strerror}", hint="check --config") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {e}", hint="fix the file") from None
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("envinject")
        if table is None:
            return None
        data = table
    return ConfigFile(path, validate(data, str(path)))


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
                raise ConfigError(f"{origin}: {raw_key} must be a list of strings")
            out[key] = tuple(items)
        else:
            if not isinstance(value, _TYPES[key]) or (key == "timeout" and isinstance(value, bool)):
                expected = {"bool": "true or false", "str": "a string"}.get(
                    getattr(_TYPES[key], "__name__", ""), "a number"
                )
                raise ConfigError(f"{origin}: {raw_key} must be {expected}")
            out[key] = value
    return normalize_case(out, origin)


def _relative_template(text: str, base: Path) -> str:
    var, sep, body = text.partition("=@")
    return f"{var}=@{base / body}" if sep and "=" not in var else text


def split_secrets(value: str) -> tuple[str, ...]:
    """``ENVINJECT_SECRETS``: references separated by commas or whitespace."""
    return tuple(r for r in re.split(r"[,\s]+", value) if r)


def resolve_settings(cli: Mapping[str, Any], environ: Mapping[str, str], config: ConfigFile | None = None) -> Settings:
    """Combine command line > environment > config file > defaults into one Settings.

    ``cli`` holds only what the user gave (None or empty for the rest). ``ENVINJECT_SECRETS`` stands in
    for ``--secret`` when no ``--secret`` is given. Config ``env_files`` are relative to the config file.
    """
    values: dict[str, Any] = {}
    if config is not None:
        values.update(config.values)
        base = config.path.parent
        if "env_files" in values:
            values["env_files"] = tuple(str(base / p) for p in values["env_files"])
        if "files" in values:  # a template (VAR=@PATH) is relative to the config file too
            values["files"] = tuple(_relative_template(f, base) for f in values["files"])
    cli = dict(cli)
    if not cli.get("secrets") and environ.get("ENVINJECT_SECRETS"):
        cli["secrets"] = split_secrets(environ["ENVINJECT_SECRETS"])
    for key in cli:
        if key not in KEYS:
            raise TypeError(f"unknown setting {key}")
    for key, value in normalize_case({k: v for k, v in cli.items() if v is not None}, "the command line").items():
        if key in _LISTS:
            values[key] = tuple(values.get(key, ())) + tuple(value or ())
        else:
            values[key] = value
    return Settings(**values)
