"""The ``docker run --env-file`` format. Pure.

How docker reads it (docker/cli ``pkg/kvfile``, as released in docker 28): the file is split into lines
at ``\\n`` (a ``\\r`` before it is dropped), leading whitespace of each line is removed, empty lines and
lines starting with ``#`` are skipped, and each other line is cut at its first ``=``; the value is the
rest of the line verbatim: no quotes, no escapes, no interpolation, leading and trailing whitespace kept
(checked against the docker 28.2.2 client: the ``Env`` it sends to the daemon). Since every line starts
with the name, ``#`` or whitespace in a value needs nothing. So a value is written as it is, and refused
only when docker cannot hold it:

* a line feed or carriage return: the format is one line per variable, with no escape;
* a line over 65535 bytes: docker reads lines with Go's ``bufio.Scanner`` and fails with
  "token too long" beyond that.

Not handled: docker/cli#3630 proposes stripping one pair of matching outer quotes from values; were it
merged, a value such as ``"abc"`` would lose its quotes, and no encoding could be read the same by both.
``docker compose``'s ``env_file`` is a different, dotenv-like format: use the dotenv output for it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ...errors import SecretFormatError

#: Go's bufio.MaxScanTokenSize (64 KiB) holds a line and its line feed.
MAX_LINE_BYTES = 64 * 1024 - 1


class UnrepresentableError(SecretFormatError):
    """A value that an output format cannot hold. The message names the variable, never the value."""


def render(env: Mapping[str, str]) -> str:
    """One ``NAME=value`` line per variable, sorted by name; UnrepresentableError if docker cannot hold one."""
    lines = []
    for name in sorted(env):
        value = env[name]
        if "\n" in value or "\r" in value:
            raise UnrepresentableError(
                f"{name} contains a line break, which the docker env-file format cannot hold",
                hint="use another format (dotenv, json, shell), or pass it with docker run -e NAME",
            )
        line = f"{name}={value}"
        if len(line.encode("utf-8", "surrogatepass")) > MAX_LINE_BYTES:
            raise UnrepresentableError(
                f"{name} is too long for the docker env-file format (lines are limited to {MAX_LINE_BYTES} bytes)",
                hint="pass it with docker run -e NAME instead",
            )
        lines.append(line + "\n")
    return "".join(lines)
