"""Tags in a POSIX shell script (``.sh``, ``.bash``, ``.envrc``), as bash and dash read it. Pure.

What is written where a tag stands (POSIX XCU 2.2 Quoting; bash and dash read it the same way):

* unquoted (a word, an assignment's value): one single-quoted word, each ``'`` written ``'\\''``; nothing is
  special between single quotes;
* inside double quotes: the value with ``\\``, ``$``, a backquote and ``"`` each preceded by a backslash (the
  only characters a backslash escapes there); a line feed as it is;
* inside single quotes: the value with each ``'`` written ``'\\''`` (close, an escaped quote, reopen).

Refused, because no escaping exists there or the text around the tag would change it: a comment, a
here-document (body or delimiter), a command substitution (``$(...)``, backquotes), an arithmetic expansion or
command (``$((...))``, ``((...))``, ``$[...]``), a parameter expansion (``${...}``), a ``$'...'`` string, and a
tag right after a backslash or a ``$``. A ``case`` inside ``$(...)``, or a quote inside ``${...}``,
``$((...))``, is where this scanner stops following: every later tag is refused.

What a command does with the word it is given (``eval``, ``sh -c``, ``let``, ``source``) is the template's own.
"""

from __future__ import annotations

from ..escaping import Unwritable
from . import Write, refused

_WORD_BREAK = " \t\n;&|()<>"
_DQ_SPECIAL = str.maketrans({"\\": "\\\\", "$": "\\$", "`": "\\`", '"': '\\"'})
_HINT = 'write the value into a variable first (NAME={{ ... }}) and use "$NAME" there'
#: Frames where a tag is refused, and how the refusal names the place.
_PLACES = {
    "cmd": "inside a command substitution $(...)",
    "bq": "inside a backquoted command substitution",
    "arith": "inside an arithmetic expansion",
    "brack": "inside an arithmetic expansion",
    "param": "inside a parameter expansion ${...}",
    "ansi": "inside a $'...' string",
    "comment": "in a comment",
    "heredoc": "in a here-document",
    "delim": "in a here-document's delimiter",
}


def _nul(value: str) -> None:
    if "\0" in value:
        raise Unwritable("a NUL byte, which a shell cannot hold")


def word(value: str) -> str:
    """A single-quoted word, for an unquoted place."""
    _nul(value)
    return "'" + value.replace("'", "'\\''") + "'"


def in_double_quotes(value: str) -> str:
    """The inside of a double-quoted string."""
    _nul(value)
    return value.translate(_DQ_SPECIAL)


def in_single_quotes(value: str) -> str:
    """The inside of a single-quoted string."""
    _nul(value)
    return value.replace("'", "'\\''")


class _Lexer:
    """Follows the quoting of a shell script through the literal text between tags."""

    def __init__(self) -> None:
        #: Frames: top, dq, sq, ansi, bq, cmd, arith, param, comment, heredoc, delim.
        self.stack: list[str] = ["top"]
        self.depth: list[int] = [0]
        self.word_start = True
        #: A backslash or $ that ended a piece, so it applies to whatever comes next.
        self.pending = ""
        #: Here-documents announced on this line: (delimiter, strip leading tabs).
        self.heredocs: list[tuple[str, bool]] = []
        self.delimiter = ""
        self.delimiter_tabs = False
        self.body_line = ""
        self.lost = ""

    @property
    def frame(self) -> str:
        return self.stack[-1]

    def push(self, frame: str, depth: int = 0) -> None:
        self.stack.append(frame)
        self.depth.append(depth)

    def pop(self) -> None:
        self.stack.pop()
        self.depth.pop()

    def place(self, where: str) -> Write:
        if self.lost:
            raise refused(where, f"after {self.lost}, which envinject does not follow", _HINT)
        if self.pending == "\\":
            raise refused(where, "right after a backslash", "remove the backslash")
        if self.pending == "$":
            raise refused(where, "right after a $", _HINT)
        for frame in self.stack:
            if frame in _PLACES:
                raise refused(where, _PLACES[frame], _HINT)
        if self.frame == "top":
            self.word_start = False
            return word
        return in_double_quotes if self.frame == "dq" else in_single_quotes

    def feed(self, text: str) -> None:
        self.pending = ""
        i, n = 0, len(text)
        while i < n and not self.lost:
            i = self.step(text, i)

    def step(self, text: str, i: int) -> int:
        """Read the character at ``i`` (and what it introduces); return where to go on."""
        c, frame = text[i], self.frame
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if frame == "sq":
            if c == "'":
                self.pop()
            return i + 1
        if frame == "comment":
            if c == "\n":
                self.pop()
                return self.newline(text, i)
            return i + 1
        if frame == "heredoc":
            return self.body(text, i)
        if frame == "delim":
            return self.delimiter_char(text, i)
        if frame in ("ansi", "bq"):
            if c == "\\":
                return self.escape(text, i)
            if c == ("'" if frame == "ansi" else "`"):
                self.pop()
            return i + 1
        if frame in ("arith", "brack", "param"):
            if c in "'\"`":
                self.lost = "a quote inside " + ("${...}" if frame == "param" else "an arithmetic expansion")
                return i + 1
            pair = {"arith": "()", "brack": "[]", "param": "{}"}[frame]
            opening, closing = pair[0], pair[1]
            if c == "\\":
                return self.escape(text, i)
            if c == "$":
                return self.dollar(text, i)
            if c == opening:
                self.depth[-1] += 1
            elif c == closing:
                self.depth[-1] -= 1
                if self.depth[-1] <= 0:
                    self.pop()
            return i + 1
        if frame == "dq":
            if c == "\\":
                if nxt in ('"', "\\", "$", "`", "\n"):
                    return i + 2
                if not nxt:
                    self.pending = "\\"
                return i + 1
            if c == '"':
                self.pop()
            elif c == "`":
                self.push("bq")
            elif c == "$":
                return self.dollar(text, i)
            return i + 1
        # Unquoted: the top level or inside $(...).
        start = self.word_start
        self.word_start = c in _WORD_BREAK
        if c == "\\":
            self.word_start = False
            return self.escape(text, i)
        if c == "'":
            self.push("sq")
        elif c == '"':
            self.push("dq")
        elif c == "`":
            self.push("bq")
        elif c == "$":
            return self.dollar(text, i)
        elif c == "#" and start:
            self.push("comment")
        elif c == "\n":
            return self.newline(text, i)
        elif c == "<" and nxt == "<" and text[i + 2 : i + 3] != "<":
            return self.heredoc_operator(text, i + 2)
        elif c == "(" and nxt == "(" and start:
            self.push("arith", 2)
            return i + 2
        elif frame == "cmd" and c == "(":
            self.depth[-1] += 1
        elif frame == "cmd" and c == ")":
            if self.depth[-1] == 0:
                self.pop()
                self.word_start = False
            else:
                self.depth[-1] -= 1
        elif frame == "cmd" and start and text.startswith("case", i) and text[i + 4 : i + 5] in ("", *_WORD_BREAK):
            self.lost = "a case inside $(...)"
        return i + 1

    def escape(self, text: str, i: int) -> int:
        if i + 1 >= len(text):
            self.pending = "\\"
            return i + 1
        return i + 2

    def dollar(self, text: str, i: int) -> int:
        nxt = text[i + 1 : i + 2]
        if not nxt:
            self.pending = "$"
            return i + 1
        self.word_start = False
        if nxt == "(":
            if text[i + 2 : i + 3] == "(":
                self.push("arith", 2)
                return i + 3
            self.push("cmd")
            self.word_start = True  # a command starts here
            return i + 2
        if nxt == "[":
            self.push("brack", 1)
            return i + 2
        if nxt == "{":
            self.push("param", 1)
            return i + 2
        if nxt == "'" and self.frame != "dq":
            self.push("ansi")
            return i + 2
        if nxt == '"' and self.frame != "dq":
            self.push("dq")
            return i + 2
        return i + 1

    def heredoc_operator(self, text: str, i: int) -> int:
        self.delimiter_tabs = text[i : i + 1] == "-"
        i += self.delimiter_tabs
        while i < len(text) and text[i] in " \t":
            i += 1
        self.delimiter = ""
        self.push("delim")
        return i

    def delimiter_char(self, text: str, i: int) -> int:
        c = text[i]
        if c in _WORD_BREAK:
            self.pop()
            if not self.delimiter:
                self.lost = "a here-document with no delimiter"
                return i
            self.heredocs.append((self.delimiter, self.delimiter_tabs))
            return i  # the top level reads the break itself
        if c in "'\"":
            end = text.find(c, i + 1)
            if end < 0:
                self.lost = "a quoted here-document delimiter cut by a tag"
                return len(text)
            self.delimiter += text[i + 1 : end]
            return end + 1
        if c == "\\":
            self.delimiter += text[i + 1 : i + 2]
            return i + 2
        self.delimiter += c
        return i + 1

    def newline(self, text: str, i: int) -> int:
        self.word_start = True
        if self.heredocs:
            self.push("heredoc")
            self.body_line = ""
        return i + 1

    def body(self, text: str, i: int) -> int:
        end = text.find("\n", i)
        if end < 0:
            self.body_line += text[i:]
            return len(text)
        line, self.body_line = self.body_line + text[i:end], ""
        delimiter, tabs = self.heredocs[0]
        if (line.lstrip("\t") if tabs else line) == delimiter:
            self.heredocs.pop(0)
            if not self.heredocs:
                self.pop()
        return end + 1


def scan(pieces: list[str], wheres: list[str]) -> list[Write]:
    """How each tag of a shell script is written, in order; ConfigError for a tag where nothing can be."""
    lexer = _Lexer()
    writes: list[Write] = []
    for piece, where in zip(pieces, wheres, strict=False):
        lexer.feed(piece)
        writes.append(lexer.place(where))
    return writes
