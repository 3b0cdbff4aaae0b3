"""Config files: finding ``envinject.toml`` or ``pyproject.toml``'s ``[tool.envinject]`` on the way up from the
working folder, deciding whether one found that way may be obeyed, and reading it."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .records import field, record
from .system.trust import Untrusted, read_trusted
from .validate import settings_values

CONFIG_FILE = "envinject.toml"


@record(frozen=True)
class Stage:
    """A named set of settings in a config file (``[stages.prod]``): references, env files, a region, a role...,
    over the file's own, and over the stage it ``layers_on``, if any."""

    values: Mapping[str, Any]
    layers_on: str | None = None


@record(frozen=True)
class ConfigFile:
    path: Path
    values: Mapping[str, Any]
    stages: Mapping[str, Stage] = field(default_factory=dict)
    #: The stage used when none is named (``default-stage``).
    default_stage: str | None = None

    def chain(self, name: str, origin: str) -> list[str]:
        """The stages ``name`` stands on, the deepest first, ``name`` last. ``origin`` names where it was chosen."""
        chain: list[str] = []
        while name is not None:
            if name not in self.stages:
                known = ", ".join(sorted(self.stages)) or "none"
                raise ConfigError(f"{origin} names stage {name[:60]!r}, which {str(self.path)!r} does not define",
                                  hint=f"its stages: {known}")  # fmt: skip
            if name in chain:
                raise ConfigError(f"{str(self.path)!r}: stage {name!r} layers on itself through "
                                  f"{' -> '.join(chain)}", hint="remove one layers-on")  # fmt: skip
            chain.append(name)
            name = self.stages[name].layers_on  # type: ignore[assignment]
        return chain[::-1]


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
    data = dict(data)
    stages = _stages(data.pop("stages", {}), path)
    default = data.pop("default-stage", data.pop("default_stage", None))
    if default is not None and (not isinstance(default, str) or default not in stages):
        raise ConfigError(f"{str(path)!r}: default-stage must name one of its stages",
                          hint=f"its stages: {', '.join(sorted(stages)) or 'none'}")  # fmt: skip
    return ConfigFile(path, settings_values(data, str(path)), stages, default)


#: A stage's name: letters, digits, ``_`` and ``-``.
_STAGE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _stages(raw: object, path: Path) -> dict[str, Stage]:
    """The ``stages`` table: each a table of settings, with an optional ``layers-on`` naming another stage."""
    where = str(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{where!r}: stages must be a table of tables", hint="write [stages.prod]")
    stages: dict[str, Stage] = {}
    for name, table in raw.items():
        if not _STAGE_NAME.fullmatch(name) or not isinstance(table, dict):
            raise ConfigError(f"{where!r}: stage {name[:60]!r} must be a table named with letters, digits, _ and -",
                              hint="for example [stages.prod]")  # fmt: skip
        table = dict(table)
        layers_on = table.pop("layers-on", table.pop("layers_on", None))
        if layers_on is not None and (not isinstance(layers_on, str) or layers_on not in raw):
            raise ConfigError(f"{where!r}: stages.{name}.layers-on must name another stage",
                              hint=f"its stages: {', '.join(sorted(raw))}")  # fmt: skip
        stages[name] = Stage(settings_values(table, f"{where}: stages.{name}"), layers_on)
    return stages
