"""What every escaper shares: a value that its reader cannot be given. Pure.

An escaper (an export format's, a template context's) that finds no text its reader would read back as the
value raises :class:`Unwritable` with the reason in words: what kind of character the value holds, never the
value. The caller puts the name of the variable, or the template's file and line, in front of it.
"""

from __future__ import annotations


class Unwritable(ValueError):
    """No text of the format gives its reader this value. ``reason`` completes "NAME contains ..." or
    "FILE:LINE: the value contains ..."; ``hint`` says what to do instead."""

    def __init__(self, reason: str, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint
