"""The ``$GITHUB_ENV`` file format, and the ``::add-mask::`` commands that hide values in the log. Pure.

How the runner reads ``$GITHUB_ENV`` (actions/runner ``SetEnvFileCommand``): lines end at ``\\n``; empty
lines are skipped; ``NAME=value`` takes everything after the first ``=`` verbatim; ``NAME<<DELIM`` takes
the following lines up to the first line exactly equal to ``DELIM``, without the line feed before it.
A value with no ``\\r`` or ``\\n`` is written as ``NAME=value``; any other as a heredoc, with a random
delimiter that does not occur in the value. (A Windows runner also ends lines at ``\\r\\n``; there, a
value ending with ``\\r`` would lose it.)

Masks: the runner reads the step's output one line at a time, so a multiline value is masked line by line;
each line is stripped of surrounding whitespace (the masked text still covers it) and lines that are then
empty are skipped, as the runner refuses to mask whitespace.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# The workflow-command data escapes (actions/toolkit escapeData); the runner undoes them in this order.
_COMMAND_ESCAPES = str.maketrans({"%": "%25", "\r": "%0D", "\n": "%0A"})


def new_delimiter() -> str:
    """A fresh heredoc delimiter, unguessable, as actions/toolkit makes them."""
    import secrets  # on use: it loads hashlib, hmac and random, which a run that writes no export never needs

    return "ghadelimiter_" + secrets.token_hex(16)


def render(env: Mapping[str, str], *, delimiter: Callable[[], str] = new_delimiter) -> str:
    """``NAME=value`` lines, or ``NAME<<DELIM`` blocks for values with a line break, sorted by name."""
    out = []
    for name in sorted(env):
        value = env[name]
        if "\n" not in value and "\r" not in value:
            out.append(f"{name}={value}\n")
            continue
        delim = delimiter()
        # The value is a secret that someone else may control: never let it end the block early.
        while delim in value:
            delim = delimiter()
        out.append(f"{name}<<{delim}\n{value}\n{delim}\n")
    return "".join(out)


def mask_commands(env: Mapping[str, str]) -> str:
    """``::add-mask::`` workflow commands covering every line of every value, sorted by name, no duplicates."""
    masks: dict[str, None] = {}
    for name in sorted(env):
        for line in _LINE_BREAK.split(env[name]):
            if line.strip():
                masks[line.strip()] = None
    return "".join(f"::add-mask::{escape_data(mask)}\n" for mask in masks)


def escape_data(text: str) -> str:
    """``text`` escaped as workflow-command data."""
    return text.translate(_COMMAND_ESCAPES)
