"""Config files: finding ``envinject.toml`` or ``pyproject.toml``'s ``[tool.envinject]`` on the way up from the
working folder, deciding whether one found that way may be obeyed, and reading it."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .records import record
from .system.trust import Untrusted, read_trusted
from .validate import settings_values

CONFIG_FILE = "envinject.toml"


@record(frozen=True)
class ConfigFile:
    path: Path
    values: Mapping[str, Any]


def find_config(start: Path, *, home: Path | None, warn: Callable[[str], None]) -> ConfigFile | None:
    """The nearest ``envinject.toml``, or ``pyproject.toml`` with a ``[tool.envinject]`` table, from ``start``
    up to the repository root (a folder holding ``.git``), ``home`` or ``/``, whichever comes first; in one folder
    ``envinject.toml`` comes first. As git's ``safe.directory``: a file someone else could have written, or that
    a symbolic link someone else could have made or replaced points to (:func:`~envinject.system.trust.read_trusted`),
    is not read, and ``warn`` says so."""
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


def load_config(path: Path, *, warn: Callable[[str], None], discovered: bool = False) -> ConfigFile | None:
    """Read one config file; None for a pyproject.toml without ``[tool.envinject]``, or for a ``discovered``
    file that may not be obeyed (with a warning). A file named with ``--config`` is read as it is; the files any
    config file names are held to the rule when they are read (``Settings.from_config``)."""
    # Imported here: a run with no config file found should not pay for a TOML parser.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 has no tomllib
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

    try:
        raw = read_trusted(path) if discovered else path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except Untrusted as e:
        warn(f"ignoring config file {str(path)!r}: {e.reason}")
        return None
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
    return ConfigFile(path, settings_values(data, str(path)))
