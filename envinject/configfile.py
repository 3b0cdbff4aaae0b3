"""Config files: finding ``envinject.toml`` or ``pyproject.toml``'s ``[tool.envinject]`` on the way up from the
working folder, deciding whether one found that way may be obeyed, and reading it."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .validate import settings_values

CONFIG_FILE = "envinject.toml"


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
    values = settings_values(data, str(path))
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
