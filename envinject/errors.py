"""One error type for everything envinject reports to a user, and the escaping of what a message quotes.

Messages name secrets, files, keys and variables, never a secret value. A name or reference that came from
outside (a secret's keys, a reference, a file) is put in a message through :func:`quote`; whatever a message
holds, it is printed through :func:`one_line`, so it is always one printable line.
"""

from __future__ import annotations

#: The longest piece of input a message quotes, in characters; the rest is cut and counted.
QUOTE_LIMIT = 200
#: The longest line a message is printed as, in characters.
LINE_LIMIT = 2000

#: Exit status for envinject's own failures, as GNU env uses it.
EXIT_FAILURE = 125
#: The command was found but could not be run.
EXIT_CANNOT_RUN = 126
#: The command was not found.
EXIT_NOT_FOUND = 127


class EnvinjectError(Exception):
    """A failure with a one-line message for the user and the exit status to end with."""

    exit_code: int = EXIT_FAILURE
    #: What went wrong, for `envinject check` (not_found, denied, not_json, key_missing, protected, ...).
    kind: str = "error"
    #: The secret or parameter (a Locator) a source failed to fetch, so a caller can say where it was asked for.
    subject: object = None

    def __init__(
        self, message: str, *, hint: str | None = None, exit_code: int | None = None, kind: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code
        if kind is not None:
            self.kind = kind

    def __str__(self) -> str:
        return f"{self.message}; {self.hint}" if self.hint else self.message


class RefError(EnvinjectError):
    """A secret reference that cannot be parsed."""


class SecretFormatError(EnvinjectError):
    """A secret whose content cannot become environment variables."""


class NamingError(EnvinjectError):
    """A variable name that is invalid, collides, or is protected."""


class FetchError(EnvinjectError):
    """AWS could not give us a secret: not found, denied, no credentials, unreachable..."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str = "",
        denied_action: str | None = None,
        kind: str | None = None,
    ) -> None:
        default = "denied" if denied_action else "not_found" if code == "ResourceNotFoundException" else "error"
        super().__init__(message, hint=hint, kind=kind or default)
        self.code = code
        self.denied_action = denied_action


class ConfigError(EnvinjectError):
    """Bad options, environment or configuration."""


class CommandError(EnvinjectError):
    """The command could not be started (126) or was not found (127)."""


def printable(text: str) -> str:
    """``text`` with every character that is not printable (newlines, escape sequences, other controls,
    lone surrogates, bidirectional overrides) written as its Python escape: ``\\n``, ``\\x1b``, ``\\u202e``."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` quoted for a message, as ``repr`` does, cut to ``limit`` characters:
    ``'a\\nb'``, ``'xxxx...'... (1048576 characters)``."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text)} characters)"


def one_line(message: str) -> str:
    """The last guard before a message reaches a terminal: printable, one line, at most LINE_LIMIT characters."""
    text = printable(message)
    if len(text) <= LINE_LIMIT:
        return text
    keep = LINE_LIMIT // 2
    return f"{text[:keep]} ... {text[-keep:]}"
