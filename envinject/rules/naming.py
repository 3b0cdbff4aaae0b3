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


#: Names a secret may not set without --allow: each changes how programs load code, find binaries or
#: choose a program to run, so whoever can write the secret could take over the command. One list, shown in
#: the README; an entry with ``*`` is a pattern (``LD_*``: every name that starts with ``LD_``; ``*PAGER``:
#: every name that ends with ``PAGER``), as in sudo's own list. It is anchored in lists others maintain:
PROTECTED = (
    # 1. sudo's default env_delete list (initial_badenv_table in plugins/sudoers/env.c), platform-only
    #    entries included. Its PYTHON*, *_OPTIONS and GIT_CONFIG_* names are covered by the patterns below;
    #    its "*=()*" (bash functions) and "__BASH_FUNC<*" are covered by BASH_FUNC_* and by the rule that a
    #    name must be a valid shell name.
    "IFS", "CDPATH", "LOCALDOMAIN", "HOSTALIASES", "NLSPATH", "PATH_LOCALE", "LD_*", "_RLD*", "SHLIB_PATH",
    "LDR_*", "LIBPATH", "AUTHSTATE", "DYLD_*", "KRB5_CONFIG*", "KRB5_KTNAME", "VAR_ACE", "USR_ACE", "DLC_ACE",
    "TERMINFO", "TERMINFO_DIRS", "TERMPATH", "TERMCAP", "ENV", "BASH_ENV", "PS4", "GLOBIGNORE", "BASHOPTS",
    "SHELLOPTS", "CLASSPATH", "PERLIO_DEBUG", "PERLLIB", "PERL5LIB", "PERL5OPT", "PERL5DB", "FPATH", "NULLCMD",
    "READNULLCMD", "ZDOTDIR", "TMPPREFIX", "RUBYLIB", "RUBYOPT", "NODE_PATH", "GIT_SSH_COMMAND", "GCONV_PATH",
    "BASH_FUNC_*",
    # 2. glibc's unsecure-environment list (UNSECURE_ENVVARS in sysdeps/generic/unsecvars.h), which the
    #    dynamic loader removes for setuid programs; the names sudo also lists are above.
    "GETCONF_DIR", "GLIBC_TUNABLES", "LOCPATH", "MALLOC_TRACE", "NIS_PATH", "RESOLV_HOST_CONF", "TMPDIR", "TZDIR",
    # 3. git's documented variables that give it configuration (core.fsmonitor, core.pager... run commands),
    #    a repository or a program to run (git(1) and git-config(1), "ENVIRONMENT"): GIT_CONFIG,
    #    GIT_CONFIG_GLOBAL/_SYSTEM/_NOSYSTEM, GIT_CONFIG_COUNT/_KEY_<n>/_VALUE_<n>, GIT_CONFIG_PARAMETERS.
    "GIT_CONFIG*", "GIT_EXTERNAL_DIFF", "GIT_EXEC_PATH", "GIT_TEMPLATE_DIR", "GIT_DIR", "GIT_COMMON_DIR",
    "GIT_SSH", "GIT_PROXY_COMMAND", "GIT_ALLOW_PROTOCOL",
    # 4. language runtimes' startup hooks: variables read at start-up that load code or add options.
    #    Python reads every PYTHON* name; JVMs and their launchers take options (-javaagent loads code) from
    #    JAVA_TOOL_OPTIONS, _JAVA_OPTIONS, JDK_JAVA_OPTIONS, JAVA_OPTS, MAVEN_OPTS, GRADLE_OPTS..., as Node
    #    does from NODE_OPTIONS and Erlang from ELIXIR_ERL_OPTIONS: hence *_OPTIONS and *_OPTS.
    "PYTHON*", "*_OPTIONS", "*_OPTS", "NODE_REPL_EXTERNAL_MODULE", "GEM_HOME", "GEM_PATH", "BUNDLE_GEMFILE",
    "LUA_INIT*", "LUA_PATH*", "LUA_CPATH*", "PHPRC", "PHP_INI_SCAN_DIR", "R_PROFILE*", "R_ENVIRON*",
    "TCLLIBPATH", "DOTNET_STARTUP_HOOKS", "DOTNET_ADDITIONAL_DEPS", "CORECLR_PROFILER*", "COR_PROFILER*",
    "ERL_AFLAGS", "ERL_FLAGS", "ERL_ZFLAGS", "GOFLAGS",
    # 5. the program search path, the shell's own start-up, and programs that other programs run by name:
    #    PAGER, MANPAGER, GIT_PAGER, AWS_PAGER...; EDITOR, GIT_EDITOR...; SSH_ASKPASS, GIT_ASKPASS...
    "PATH", "PROMPT_COMMAND", "SHELL", "*PAGER", "*EDITOR", "VISUAL", "BROWSER", "LESSOPEN", "LESSCLOSE",
    "*ASKPASS",
)  # fmt: skip

_PROTECTED = re.compile("|".join(re.escape(p).replace(r"\*", ".*") for p in PROTECTED))


def is_protected(name: str) -> bool:
    """True when a secret must not set ``name`` unless the user allows it with --allow."""
    return _PROTECTED.fullmatch(name) is not None
