"""Tags in a Java ``.properties`` file, as ``java.util.Properties.load`` reads it. Pure.

A tag in a key or a value is written as ``Properties.store`` writes one: ``\\``, blanks, ``=``, ``:``, ``#``
and ``!`` behind a backslash, tab, line feed, carriage return and form feed as ``\\t \\n \\r \\f``, and every
other character outside printable ASCII as ``\\uXXXX`` (UTF-16), so the file is ASCII and reads the same
through ``load(InputStream)`` (ISO 8859-1) and ``load(Reader)``. Refused places: a comment line (``#`` or ``!``
first), right after a backslash.
"""

from __future__ import annotations

from . import Write, refused

_NAMED = {"\\": "\\\\", " ": "\\ ", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\f": "\\f", "=": "\\=", ":": "\\:",
          "#": "\\#", "!": "\\!"}  # fmt: skip


def escape(value: str) -> str:
    """``value`` as a Java properties key or value."""
    out = []
    for ch in value:
        if ch in _NAMED:
            out.append(_NAMED[ch])
        elif " " < ch <= "~":
            out.append(ch)
        else:
            units = ch.encode("utf-16-be", "surrogatepass")
            out.extend(f"\\u{int.from_bytes(units[i : i + 2], 'big'):04X}" for i in range(0, len(units), 2))
    return "".join(out)


def scan(pieces: list[str], wheres: list[str]) -> list[Write]:
    """How each tag of a properties file is written, in order; ConfigError for a tag where nothing can be."""
    writes: list[Write] = []
    state = "start"  # start of a logical line, comment, text; "more": a continuation line's start
    for piece, where in zip(pieces, wheres, strict=False):
        backslashes, i = 0, 0
        while i < len(piece):
            c = piece[i]
            i += 1
            if c in "\r\n":
                i += c == "\r" and piece[i : i + 1] == "\n"  # \r\n ends one line
                state = "more" if state == "text" and backslashes % 2 == 1 else "start"
                backslashes = 0
            elif state in ("start", "more") and c in " \t\f":
                pass
            elif state == "start" and c in "#!":
                state = "comment"
            elif state != "comment":
                state = "text"
                backslashes = backslashes + 1 if c == "\\" else 0
        if state == "comment":
            raise refused(where, "in a comment", "put it in a key or a value")
        if backslashes % 2 == 1:
            raise refused(where, "right after a backslash", "remove the backslash")
        state = "text"
        writes.append(escape)
    return writes
