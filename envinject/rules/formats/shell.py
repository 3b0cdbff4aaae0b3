"""POSIX shell ``export`` lines, for ``eval "$(envinject export ...)"`` or ``.``. Pure.

Single quotes are the one shell quoting with no special character inside, so every value is written
between them and each ``'`` becomes ``'\\''`` (close, an escaped quote, reopen). Bash and dash read that
back byte for byte, newlines included. A shell variable cannot hold NUL; values never contain one.

Some names belong to the shell: bash keeps ``UID`` or ``SHELLOPTS`` read-only (the assignment fails on
stderr and the old value stays), and sets ``RANDOM``, ``LINENO`` or ``_`` itself on every read or command.
No quoting gets a value into those, so they are refused, naming the variable. The list is what bash 5 and
dash do: the tests assign every variable those shells know and read it back.

Other names the shell keeps but acts on: the prompts (``PS1``'s ``$(...)`` runs at every prompt of bash and dash),
``PROMPT_COMMAND``, the history file, ``ENV`` and ``BASH_ENV`` (sourced by the next shell it starts), ``IFS``,
``CDPATH``, ``PATH``... An export line eval'd into an interactive shell would hand that shell to whoever wrote
the secret, so these are refused too: every variable that bash(1), dash(1) or zshparam(1) documents as used by
the shell (zsh reads the same ``export`` lines when a macOS user evals them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache

from .docker import UnrepresentableError

#: Variables that bash (interactive or not) or dash keeps read-only or sets itself, so that an ``export`` of
#: them does not give the shell the value; the integer ones (OPTIND, MAILCHECK, SECONDS) drop any other text, and
#: PIPESTATUS and _ are overwritten by the next command.
SHELL_OWNED = frozenset(
    {
        "_", "BASH_ARGC", "BASH_ARGV", "BASH_COMMAND", "BASH_LINENO", "BASH_SOURCE", "BASH_SUBSHELL",
        "BASH_VERSINFO", "BASHOPTS", "BASHPID", "DIRSTACK", "EPOCHREALTIME", "EPOCHSECONDS", "EUID", "FUNCNAME",
        "GROUPS", "HISTCMD", "LINENO", "MAILCHECK", "OPTIND", "PIPESTATUS", "PPID", "RANDOM", "SECONDS",
        "SHELLOPTS", "SRANDOM", "UID",
    }
)  # fmt: skip


#: Variables that bash, dash or zsh read and act on, which an ``export`` line would change in the shell it is
#: eval'd in. ``*`` stands for any characters.
SHELL_READ = (
    # bash(1), "Shell Variables": the variables used by the shell; BASH_* for every bash variable (functions in
    # BASH_FUNC_*, BASH_LOADABLES_PATH for `enable -f`, BASH_XTRACEFD, BASH_ALIASES, BASH_CMDS...); and those
    # it sets but then acts on (cd - reads OLDPWD, children get SHLVL, completion reads COMP_WORDBREAKS);
    # TEXTDOMAIN/TEXTDOMAINDIR choose the catalogs $"..." reads; fc and readline run FCEDIT, EDITOR or VISUAL.
    "BASH_*", "CDPATH", "CHILD_MAX", "COLUMNS", "COMPREPLY", "COMP_WORDBREAKS", "EMACS", "ENV", "EXECIGNORE",
    "FCEDIT", "FIGNORE", "FUNCNEST", "GLOBIGNORE", "HISTCONTROL", "HISTFILE", "HISTFILESIZE", "HISTIGNORE",
    "HISTSIZE", "HISTTIMEFORMAT", "HOME", "HOSTFILE", "IFS", "IGNOREEOF", "INPUTRC", "INSIDE_EMACS", "LANG",
    "LC_*", "LINES", "MAIL", "MAILPATH", "OPTERR", "PATH", "POSIXLY_CORRECT", "PROMPT*", "PS0", "PS1", "PS2",
    "PS3", "PS4", "SHELL", "TIMEFORMAT", "TMOUT", "TMPDIR", "auto_resume", "histchars", "OLDPWD", "PWD", "SHLVL",
    "TEXTDOMAIN", "TEXTDOMAINDIR", "EDITOR", "VISUAL",
    # dash(1), ENVIRONMENT: the same Bourne names, and TERM.
    "TERM",
    # zshparam(1), "Parameters Used By The Shell" (the lower-case arrays are tied to the upper-case names:
    # `export path=...` sets PATH); zsh assigns GID and EGID with setgid.
    "ARGV0", "BAUD", "cdpath", "CORRECT_IGNORE*", "DIRSTACKSIZE", "fignore", "fpath", "FPATH", "HISTCHARS",
    "HISTORY_IGNORE", "KEYBOARD_HACK", "KEYTIMEOUT", "LISTMAX", "mailpath", "manpath", "MANPATH", "module_path",
    "MODULE_PATH", "NULLCMD", "path", "POSTEDIT", "prompt", "psvar", "PSVAR", "READNULLCMD", "REPORTMEMORY",
    "REPORTTIME", "RPROMPT*", "RPS1", "RPS2", "SAVEHIST", "SPROMPT", "STTY", "TERMINFO", "TERMINFO_DIRS", "TIMEFMT",
    "TMPPREFIX", "TMPSUFFIX", "WATCH", "watch", "WATCHFMT", "WORDCHARS", "ZBEEP", "ZDOTDIR", "zle_*", "ZLE_*", "GID",
    "EGID",
)  # fmt: skip


@cache
def _acted_on() -> re.Pattern[str]:
    return re.compile("|".join(re.escape(p).replace(r"\*", ".*") for p in SHELL_READ))


def acted_on(name: str) -> bool:
    """True for a variable that bash, dash or zsh reads and acts on (:data:`SHELL_READ`)."""
    return _acted_on().fullmatch(name) is not None


#: The most names one refusal lists; the rest are counted.
_SHOWN = 20


def _refused(names: Sequence[str], what: str) -> str:
    shown = ", ".join(names[:_SHOWN]) + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")
    return f"{shown} {'is a variable' if len(names) == 1 else 'are variables'} {what}"


def quote(value: str) -> str:
    """``value`` as one single-quoted shell word."""
    return "'" + value.replace("'", "'\\''") + "'"


def render(env: Mapping[str, str]) -> str:
    """One ``export NAME='value'`` line per variable, sorted by name; UnrepresentableError naming every name the
    shell owns (:data:`SHELL_OWNED`) or acts on (:data:`SHELL_READ`)."""
    owned = sorted(SHELL_OWNED.intersection(env))
    read = sorted(n for n in env if n not in SHELL_OWNED and acted_on(n))
    parts = []
    if owned:
        it = "it" if len(owned) == 1 else "them"
        what = f"that bash or dash keeps read-only or sets itself, so an export line cannot give {it} a value"
        parts.append(_refused(owned, what))
    if read:
        what = (
            "that a shell acts on (a prompt, a start-up or history file, the search path, word splitting...), so an "
            "export line would change the shell it is eval'd in"
        )
        parts.append(_refused(read, what))
    if parts:
        it = "it" if len(owned) + len(read) == 1 else "them"
        raise UnrepresentableError(
            "; ".join(parts),
            hint=f"name {it} otherwise (--prefix, or VAR=NAME#KEY), or use another format (dotenv, json)",
        )
    return "".join(f"export {name}={quote(env[name])}\n" for name in sorted(env))
