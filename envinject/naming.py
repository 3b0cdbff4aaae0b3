"""Turn JSON key paths into environment variable names. Pure: the one naming pipeline for every command."""

from __future__ import annotations

import re
from collections.abc import Sequence

_OUTSIDE = re.compile(r"[^A-Za-z0-9_]")
_VALID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


#: --name-case: what happens to the letters of a name made from keys (never to a prefix or a VAR= name).
NAME_CASES = ("upper", "lower", "keep")


def env_name(path: Sequence[str], *, prefix: str = "", case: str = "upper") -> str:
    """Name for a key path: each key with ``[^A-Za-z0-9_]`` replaced by ``_``, joined by ``_``,
    in ``case`` (upper, lower or keep), with ``prefix`` in front (as written).

    >>> env_name(["db", "api-key"], prefix="APP_")
    'APP_DB_API_KEY'
    """
    name = "_".join(_OUTSIDE.sub("_", part) for part in path)
    return prefix + (name.upper() if case == "upper" else name.lower() if case == "lower" else name)


def is_valid_name(name: str) -> bool:
    """True for a name every POSIX shell accepts: a letter or ``_``, then letters, digits or ``_``."""
    return _VALID.fullmatch(name) is not None


#: Names a secret may not set without --allow: each changes how programs load code or find binaries,
#: so whoever can write the secret could take over the command. Shown in the README.
PROTECTED_NAMES = frozenset(
    {
        # finding binaries and the dynamic loader
        "PATH", "GCONV_PATH", "GLIBC_TUNABLES", "HOSTALIASES", "LOCPATH", "NLSPATH",
        # shells
        "BASH_ENV", "ENV", "IFS", "PS4", "SHELLOPTS", "BASHOPTS", "CDPATH", "PROMPT_COMMAND", "GLOBIGNORE",
        # language runtimes
        "NODE_OPTIONS", "NODE_PATH", "PERL5LIB", "PERL5OPT", "PERLLIB", "PERL5DB", "RUBYOPT", "RUBYLIB",
        "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH", "LUA_INIT", "LUA_PATH", "LUA_CPATH",
        "PHPRC", "PHP_INI_SCAN_DIR", "GEM_PATH", "GEM_HOME",
        # tools that run other programs
        "GIT_SSH", "GIT_SSH_COMMAND", "GIT_EXEC_PATH", "GIT_ASKPASS", "SSH_ASKPASS", "EDITOR", "VISUAL", "PAGER",
    }
)  # fmt: skip
#: Whole families: the dynamic loaders (LD_PRELOAD, LD_AUDIT, DYLD_INSERT_LIBRARIES...), every PYTHON*
#: setting (PYTHONPATH, PYTHONSTARTUP, PYTHONHOME, PYTHONBREAKPOINT...) and bash exported functions.
PROTECTED_PREFIXES = ("LD_", "DYLD_", "PYTHON", "BASH_FUNC_")


def is_protected(name: str) -> bool:
    """True when a secret must not set ``name`` unless the user allows it with --allow."""
    return name in PROTECTED_NAMES or name.startswith(PROTECTED_PREFIXES)
