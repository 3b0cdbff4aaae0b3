"""Tags in a YAML file (``.yaml``, ``.yml``), as PyYAML and other YAML 1.1 and 1.2 readers read it. Pure.

What is written where a tag stands (YAML 1.2 chapters 6 and 7):

* a whole node (``key: {{ ... }}``, ``- {{ ... }}``, ``{{ ... }}: value``, an item of a flow collection): a
  double-quoted scalar, with every character YAML gives a meaning to, or that a YAML 1.1 reader does not take
  in a stream, written as an escape;
* inside a double-quoted scalar: the same escapes, without the quotes;
* inside a single-quoted scalar: each ``'`` doubled; a line break (folded into a space there) or a character
  that must be escaped (which single quotes cannot do) is refused;
* inside a plain scalar (``url: postgres://app:{{ ... | url }}@db``): only characters that cannot end or
  change it: no blank or line break, no ``#``, ``:``, ``,``, ``[``, ``]``, ``{``, ``}``, no character that
  needs an escape, and, at its start, none of the indicators ``-?:,[]{}#&*!|>'"%@`` and the backquote; else
  refused (PyYAML would cut the value at `` #`` or read ``: `` as a new key).

Refused places: a comment, a block scalar's content (``|``, ``>``), a directive, an anchor, alias or tag name,
after a quoted scalar, right after a backslash in a double-quoted scalar.

The scanner reads a line that starts deeper than the line a plain scalar started on as that scalar's
continuation, so it never mistakes a continuation for a new node; its errors lean to refusing.
"""

from __future__ import annotations

import functools
import re

from ..escaping import Unwritable
from . import Write, refused, scan_pieces


@functools.cache
def _unsafe() -> re.Pattern[str]:
    """What PyYAML (and YAML 1.1) will not take in a stream: written as escapes inside the double quotes.
    Compiled on first use: its classes span all of Unicode, a few ms of every start that renders no YAML."""
    return re.compile(
        "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"  # not printable
        '|[\\\\"\x85\u2028\u2029\ufeff\x09\x0a\x0d]'  # quotes, escapes and line breaks
    )


_NAMED = {"\\": "\\\\", '"': '\\"', "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x85": "\\N", "\u2028": "\\L",
          "\u2029": "\\P"}  # fmt: skip
#: What may stand inside a plain scalar: printable, and nothing that ends it, starts a comment or a collection.
_PLAIN_UNSAFE = re.compile("[\\s#:,\\[\\]{}\ufeff\x85\u2028\u2029]")
_INDICATORS = "-?:,[]{}#&*!|>'\"%@`"
_HINT = "make the tag the whole value (key: {{ ... }}), or put it inside double quotes"


def _escape(m: re.Match[str]) -> str:
    ch = m.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def scalar(value: str) -> str:
    """A double-quoted scalar."""
    return '"' + in_double_quotes(value) + '"'


def in_double_quotes(value: str) -> str:
    """The inside of a double-quoted scalar."""
    return _unsafe().sub(_escape, value)


#: What a single-quoted scalar cannot hold: a line break (folded into a space; YAML 1.1 breaks lines at NEL, LS
#: and PS too), what only an escape can write.
_SINGLE_UNSAFE = re.compile("[^\x09\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\ufeff\u2028\u2029]")


def in_single_quotes(value: str) -> str:
    """The inside of a single-quoted scalar."""
    if _SINGLE_UNSAFE.search(value):
        raise Unwritable("a line break or a character that needs an escape, which a single-quoted YAML scalar "
                         "cannot hold", _HINT)  # fmt: skip
    return value.replace("'", "''")


def in_plain(value: str) -> str:
    """A part of a plain scalar, after its first character."""
    if _PLAIN_UNSAFE.search(value) or _unsafe().search(value.replace("\\", "").replace('"', "")):
        raise Unwritable(
            "a blank, a line break or one of # : , [ ] { } (or a character that needs an escape), which would end "
            "or change a plain YAML scalar",
            _HINT + "; encode it ({{ ... | url }})",
        )
    return value


def plain_start(value: str) -> str:
    """The start of a plain scalar that the template's text goes on."""
    if value[:1] and value[0] in _INDICATORS:
        raise Unwritable(f"a first character ({value[0]}) that YAML reads as an indicator at the start of a "
                         "plain scalar", _HINT)  # fmt: skip
    return in_plain(value)


class _Nodes:
    """Follows the YAML structure of the literal text between tags: quoting, comments, flow and block scalars."""

    def __init__(self) -> None:
        self.state = "start"
        self.before_comment = "start"
        self.flow = 0
        self.indent = 0
        self.line_start = True
        self.prev = "\n"
        #: How deep a line must start to go on with the plain scalar in progress (or ended by the last line): the
        #: indentation of its line when a `- `, `? ` or `: ` came before it there, else -1, since a scalar that
        #: starts a line may be the document itself or a value whose key is on a line above, any line deeper
        #: than the key going on with it.
        self.plain_owner: int | None = None
        self.indicator_seen = False
        #: How deep a line must start to be the content of the block scalar being read (as for a plain scalar).
        self.block_owner: int | None = None
        #: The owner of the block scalar whose header is on this line, from the next line on.
        self.block_next: int | None = None
        self.pending = False

    def begin_line(self) -> None:
        """At the first character of a line (or a tag) after its indentation: which node it belongs to."""
        self.line_start = False
        if self.block_owner is not None:
            if self.indent > self.block_owner:
                self.state = "block"
                return
            self.block_owner = None
        if self.flow:
            return  # inside [...] or {...}, a line goes on with what was open
        if self.plain_owner is not None and self.indent > self.plain_owner:
            self.state = "plain"  # a deeper line goes on with a multi-line plain scalar
            return
        self.plain_owner = None
        self.state = "start"

    def owner(self) -> int:
        """:attr:`plain_owner` for a plain scalar that starts here."""
        return self.indent if self.indicator_seen else -1

    def newline(self) -> None:
        """A line break outside a quoted scalar."""
        if self.block_next is not None:
            self.block_owner, self.block_next = self.block_next, None
        if self.state == "comment":
            self.state = self.before_comment
        self.state = {"directive": "start", "header": "start", "property": "start", "alias": "after"}.get(
            self.state, self.state
        )
        if self.state != "plain" and not self.flow:
            self.plain_owner = None
        self.indent, self.line_start, self.indicator_seen = 0, True, False

    def feed(self, text: str) -> None:
        self.pending = False
        i, n = 0, len(text)
        while i < n:
            c = text[i]
            nxt = text[i + 1] if i + 1 < n else ""
            blank_before = (text[i - 1] if i else self.prev) in " \t\r\n"
            i += 1
            state = self.state
            if state == "dq":
                if c == "\\":
                    self.pending = not nxt
                    i += 1
                elif c == '"':
                    self.state = "after"
                continue
            if state == "sq":
                if c == "'" and nxt == "'":
                    i += 1
                elif c == "'":
                    self.state = "after"
                continue
            if c in "\r\n":
                self.newline()
                continue
            if self.line_start:
                if c == " ":
                    self.indent += 1
                    continue
                self.begin_line()
                state = self.state
                if state == "start" and self.indent == 0 and not self.flow:
                    if c == "%":
                        self.state = "directive"
                        continue
                    if c in "-." and text[i : i + 2] == c * 2 and text[i + 2 : i + 3] in (" ", "\t", "\r", "\n"):
                        i += 2  # a document marker, --- or ...
                        continue
            if state in ("comment", "directive", "block", "header"):
                continue
            if state in ("property", "alias"):
                if c in " \t" or (self.flow and c in ",[]{}"):
                    self.state = "start" if state == "property" else "after"
                    i -= 1
                continue
            # An indicator is one when a blank, a line break (or, in a flow collection, a flow indicator) follows;
            # a tag following is not one, so `key:{{ x }}` is a plain scalar, as YAML reads it.
            ends = nxt in (" ", "\t", "\n", "\r") or (self.flow > 0 and nxt in (",", "[", "]", "{", "}"))
            if c == "#" and blank_before:
                self.state, self.before_comment = "comment", state
            elif state == "start":
                if c in " \t" or (c == "," and self.flow):
                    pass
                elif c in "-?:" and ends:
                    self.indicator_seen = True
                elif c == '"':
                    self.state = "dq"
                elif c == "'":
                    self.state = "sq"
                elif c in "|>" and not self.flow:
                    self.state, self.block_next = "header", self.owner()
                elif c in "[{":
                    self.flow += 1
                elif c in "]}" and self.flow:
                    self.flow -= 1
                    self.state = "after"
                elif c in "&!":
                    self.state = "property"
                elif c == "*":
                    self.state = "alias"
                else:
                    self.state, self.plain_owner = "plain", self.owner()
            elif (c == ":" and ends) or (self.flow and c == ","):  # in a plain scalar or after a node
                self.state, self.indicator_seen = "start", True
            elif self.flow and c in "]}":
                self.flow -= 1
                self.state = "after"
        if text:
            self.prev = text[-1]

    def place(self, where: str, after: str, last: bool) -> Write:
        if self.line_start:
            self.begin_line()
        self.prev = "x"  # what the tag writes is not a blank
        if self.pending:
            raise refused(where, "right after a backslash", "remove the backslash")
        state = self.state
        if state == "dq":
            return in_double_quotes
        if state == "sq":
            return in_single_quotes
        if state == "plain":
            return in_plain
        if state == "start":
            rest = after.lstrip(" \t")
            key = rest.startswith(":") and rest[1:2] in ("", " ", "\t", "\n", "\r")
            whole = (
                (rest == "" and last)
                or rest[:1] in ("\n", "\r")
                or (rest.startswith("#") and rest != after)
                or (key and (rest[1:2] != "" or last))
                or (self.flow > 0 and rest[:1] in (",", "]", "}", ":"))
            )
            if whole:
                self.state = "after"
                return scalar
            self.state, self.plain_owner = "plain", self.owner()
            return plain_start
        place = {
            "comment": "in a comment",
            "directive": "in a directive",
            "block": "in a block scalar (| or >)",
            "header": "in a block scalar's header",
            "property": "in an anchor or tag name",
            "alias": "in an alias",
            "after": "after a quoted scalar or a collection",
        }[state]
        raise refused(where, place, _HINT)


def scan(pieces: list[str], wheres: list[str]) -> list[Write]:
    """How each tag of a YAML file is written, in order; ConfigError for a tag where nothing can be."""
    return scan_pieces(_Nodes(), pieces, wheres)
