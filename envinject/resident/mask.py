"""Hide secret values in a byte stream (``--mask``). Pure: bytes in, bytes out, no I/O.

:func:`masked_forms` says what is hidden (each value and the forms a program may print it in), :class:`Masker`
hides those byte strings in a stream.
"""

from __future__ import annotations

import base64
import bisect
import copy
import itertools
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import quote

#: What every occurrence of a value becomes.
MASK = b"*****"

#: Values shorter than this many characters are not masked: masking ``true``, ``5432`` or ``prod``
#: would garble ordinary output and hide nothing worth hiding.
DEFAULT_MIN_LENGTH = 6

#: Bytes per sampled gram (fewer when a value is shorter).
_GRAM = 4
#: The sampling index holds about this many grams (or one per value, if there are more values): the
#: stride, and so the speed, shrinks as the number of values grows, and memory stays linear in it. Sized so
#: that 20,000 values with four to six forms each are still sampled every 8 bytes.
_INDEX_BUDGET = 1 << 20
_MAX_STRIDE = 64
_WORD_SIZE = memoryview(bytes(4)).cast("I").itemsize
#: Up to this many values, each is looked for with find(), one pass over the input each.
_FIND_AT_MOST = 16
#: Runs of value bytes fewer than this many strides apart are read as one region: sampling the gap
#: costs less than another round of calls.
_JOIN_STRIDES = 64
#: After this many runs joined in a row, the rest of the input is read as one region.
_DENSE_RUNS = 32


def _encode(value: str | bytes) -> bytes:
    # The bytes the child sees in its environment: os.environ decodes undecodable bytes to surrogates.
    if isinstance(value, bytes):
        return value
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def _long_enough(value: str | bytes, minimum: int) -> bool:
    """Whether ``value`` has ``minimum`` characters (an undecodable byte is one). Characters are never more than
    bytes, and as many when all are ASCII: most values are decided without decoding them."""
    if isinstance(value, str) or len(value) < minimum or value.isascii():
        return len(value) >= minimum
    return len(value.decode("utf-8", "surrogateescape")) >= minimum


def masked_forms(values: Iterable[str | bytes], min_length: int = DEFAULT_MIN_LENGTH) -> set[bytes]:
    """What ``--mask`` hides: each value at least ``min_length`` characters long, and each of its forms below
    that is at least as long too (a shorter fragment would garble ordinary output).

    A value is a variable's value (encoded as the child's environment holds it) or a file secret's bytes. The
    forms follow the GitHub Actions runner's secret masker, and go further where a program is as likely to
    print the value so:

    - each line of a multi-line value (split as ``bytes.splitlines`` and ``str.splitlines`` split it), so a line
      of a PEM is hidden alone;
    - base64, standard and URL-safe, at each of the three byte alignments the value can have inside longer
      base64 text (``user:password`` in a Basic header): the digits that depend on the value's bytes alone;
      and the value encoded alone, each line of it wrapped at 76 (MIME, ``base64``) and at 64 digits (PEM);
    - percent-encoding as Python's ``quote`` (``/`` kept) and ``quote_plus``, Go's ``QueryEscape``, .NET's
      ``EscapeDataString`` and JavaScript's ``encodeURIComponent`` write it;
    - the inside of a JSON string, as Python (with and without ``ensure_ascii``), JavaScript, Go (``<``, ``>``
      and ``&`` escaped) and PHP (``/`` escaped) write it;
    - the inside of a Python ``repr()`` or ``ascii()`` of the value as text and as bytes, with ``'`` escaped or
      not (which depends on the quotes around the string it is part of).
    """
    minimum = max(min_length, 1)
    out: set[bytes] = set()
    for value in values:
        raw = _encode(value)
        if _long_enough(raw, minimum):
            forms = _base64_forms(raw) if _UNRESERVED.fullmatch(raw) else set(_forms(raw))
            out.update(form for form in forms if _long_enough(form, minimum))
    return out


#: For a value that starts ``k`` bytes into a group of three, the base64 digits before its own: the digits that
#: also depend on the bytes before it.
_LEAD_DIGITS = (0, 2, 3)
_URL_SAFE = bytes.maketrans(b"+/", b"-_")
#: Line widths of wrapped base64: MIME and base64(1) (76), PEM and ``openssl base64`` (64); the narrowest last.
_WRAP_WIDTHS = (76, 64)
#: Characters that no percent-encoding, JSON or repr escapes, and that split no line.
_UNRESERVED = re.compile(rb"[A-Za-z0-9._~-]*")
#: What Go's encoding/json escapes besides what every JSON encoder does (it keeps HTML-safe output).
_GO_JSON = str.maketrans({c: f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"})


def _base64_forms(raw: bytes) -> set[bytes]:
    """The value and its base64 forms: all the forms of a value made only of letters, digits and ``-._~`` (most
    tokens), which no line break splits and no percent-encoding, JSON or repr escapes."""
    out = {raw}
    for lead in range(3):
        # Digits of the value alone: after the ones shared with the bytes before it, up to the last one whose six
        # bits all come from the value (the next depends on the bytes after it, or is padding).
        digits = base64.b64encode(bytes(lead) + raw)[_LEAD_DIGITS[lead] : (lead + len(raw)) * 8 // 6]
        out.add(digits)
        out.add(digits.translate(_URL_SAFE))
        if lead == 0 and len(digits) > _WRAP_WIDTHS[-1]:  # alone, wrapped as base64(1) (76 a line) and PEM (64)
            out.update(digits[i : i + width] for width in _WRAP_WIDTHS for i in range(0, len(digits), width))
    return out


def _forms(raw: bytes) -> Iterator[bytes]:
    """The value and every encoded form of it (some of them equal, some short: the caller sorts that out)."""
    yield from _base64_forms(raw)
    text = raw.decode("utf-8", "surrogateescape")
    # Lines as most programs split them (\n, \r\n, \r) and as Python's str.splitlines does (\v, \f, \x1c-\x1e,
    # \x85, \u2028, \u2029 too).
    yield from raw.splitlines()
    yield from map(_encode, text.splitlines())
    # Every byte but letters, digits and -._~ escaped (.NET's EscapeDataString), then what each other encoder keeps:
    # a %XX comes only from escaping, so replacing it back is exact (and one quote() is most of the cost).
    escaped = quote(raw, safe="")
    yield escaped.encode()
    yield escaped.replace("%2F", "/").encode()  # quote()
    yield escaped.replace("%20", "+").encode()  # quote_plus(), Go's QueryEscape
    yield _unescape(escaped, "!'()*").encode()  # encodeURIComponent
    ascii_json = json.dumps(text)[1:-1]
    native_json = json.dumps(text, ensure_ascii=False)[1:-1]
    yield ascii_json.encode()
    yield ascii_json.replace("/", "\\/").encode()
    yield _encode(native_json)
    yield _encode(native_json.translate(_GO_JSON))
    for quote_escaped in ("'", "\\'"):
        yield _encode(quote_escaped.join(repr(piece)[1:-1] for piece in text.split("'")))
        yield quote_escaped.join(ascii(piece)[1:-1] for piece in text.split("'")).encode()
        yield quote_escaped.encode().join(repr(piece)[2:-1].encode() for piece in raw.split(b"'"))


def _unescape(escaped: str, keep: str) -> str:
    """Percent-encoded text with the characters ``keep`` written as they are."""
    for c in keep:
        escaped = escaped.replace(f"%{ord(c):02X}", c)
    return escaped


class Masker:
    """Replace every occurrence of any value with ``MASK`` in a stream fed chunk by chunk.

    Matches are chosen as one pass over the whole stream would: at the leftmost position where a value
    starts, the longest value that matches there wins, and the scan goes on after it. Feeding a stream in
    any split gives exactly what masking it in one piece gives. Bytes that cannot be the start of a value
    are returned at once; only a tail that could still become a value (at most the longest value's length
    minus one) is held back until more input or ``flush()`` decides it.
    """

    def __init__(self, values: Iterable[str | bytes], min_length: int = DEFAULT_MIN_LENGTH) -> None:
        """Mask ``values`` (text UTF-8 encoded, bytes as they are) that are at least ``min_length`` characters
        long, exactly as given (:func:`masked_forms` gives what ``--mask`` hides)."""
        minimum = max(min_length, 1)
        self._values = sorted({_encode(v) for v in values if _long_enough(v, minimum)})
        self._max_len = max(map(len, self._values), default=0)
        self._candidates = _Candidates(self._values)
        self._tail = b""

    @property
    def active(self) -> bool:
        """Whether any value is masked at all (otherwise output can pass through untouched)."""
        return bool(self._values)

    def fresh(self, continuing: Masker | None = None) -> Masker:
        """A masker for another stream with the same values: the tables are shared, not built again.

        Given ``continuing`` (a masker of fewer values), the new one goes on with that one's stream instead, so
        that values added while a stream runs are masked from then on: what ``continuing`` held back is still
        held, and checked against every value at the next ``feed()``.
        """
        other = copy.copy(self)
        other._tail = continuing._tail if continuing is not None else b""
        return other

    def feed(self, chunk: bytes) -> bytes:
        """Take the next chunk of the stream; return all the masked output that is already certain."""
        if not self._values:
            return bytes(chunk)
        buf = self._tail + chunk
        parts: list[bytes] = []
        while True:
            end = self._undecided_from(buf)
            out, used = self._scan(buf, end)
            parts.append(out)
            buf = buf[used:]
            if used <= end:
                break
            # A match ran past the undecided tail and consumed its start: what follows the match is a new
            # stream, whose own certain part must not be held back.
        self._tail = buf
        return b"".join(parts)

    def flush(self) -> bytes:
        """End of stream: return what was held back, masked. The masker can then start a new stream."""
        out, _ = self._scan(self._tail, len(self._tail))
        self._tail = b""
        return out

    def _undecided_from(self, buf: bytes) -> int:
        """The first position whose rest of ``buf`` is a proper prefix of a value (or ``len(buf)``).

        Before it, every value either fits entirely in ``buf`` or already differs, so the match there is
        known; from it on, more input could still complete a value.
        """
        size, gram = len(buf), self._candidates.gram
        for i in range(max(0, size - self._max_len + 1), size):
            if size - i >= gram and buf[i : i + gram] not in self._candidates.firsts:
                continue  # the cheap test first: no value starts with these bytes
            rest = buf[i:]
            j = bisect.bisect_right(self._values, rest)  # the first value greater than rest, if any
            if j < len(self._values) and self._values[j].startswith(rest):
                return i
        return size

    def _longest_at(self, buf: bytes, start: int) -> int:
        """The length of the longest value that ``buf`` holds at ``start``, or 0."""
        window = buf[start : start + self._max_len]
        values = self._values
        while window:
            i = bisect.bisect_right(values, window) - 1  # the greatest value <= window
            if i < 0:
                return 0
            value = values[i]
            if window.startswith(value):
                return len(value)
            # Any shorter value that is a prefix of window is also a prefix of what the two share.
            same = 0
            while value[same] == window[same]:
                same += 1
            window = window[:same]
        return 0

    def _scan(self, buf: bytes, end: int) -> tuple[bytes, int]:
        """Mask matches that start before ``end``; return the output and how much of ``buf`` it used.

        A match may run past ``end``; then the output covers it entirely.
        """
        parts: list[bytes] = []
        pos = 0
        for start in self._candidates.starts(buf) if self._values else ():
            if start >= end:
                break
            if start < pos:
                continue
            length = self._longest_at(buf, start)
            if length:
                parts += (buf[pos:start], MASK)
                pos = start + length
        if pos < end:
            parts.append(buf[pos:end])
            pos = end
        return b"".join(parts), pos


class _Candidates:
    """Where values may start in a buffer: a superset of the true starts, found fast with many values.

    How it stays fast with many values (a sampled q-gram filter, in the spirit of Wu-Manber): every value
    is at least ``m`` bytes long, so a gram of ``q`` bytes read every ``h <= m - q + 1`` bytes of the input
    lands inside the first ``q + h - 1`` bytes of every occurrence. The index maps each gram found at
    offsets ``0 .. h-1`` of a value to those offsets. The sampling reads only runs of bytes that values
    contain (found with translate() and find()), takes the grams with a strided memoryview (or a regex
    when values are short), and lets a dict lookup, mapped in C, discard the grams no value has; only the
    few hits are checked in Python, against the sorted values with a binary search. (A few values are
    simply found with find(), one pass each.) Memory: the sorted values, their first bytes, and at most
    ``max(_INDEX_BUDGET, number of values)`` index entries, all linear in the values' total length.
    """

    def __init__(self, values: Sequence[bytes]) -> None:
        """Index ``values``: distinct, sorted, non-empty byte strings."""
        self._values = values
        shortest = min(map(len, values), default=1)
        self._gram = min(_GRAM, shortest)
        budget = max(1, _INDEX_BUDGET // max(1, len(values)))
        self._stride = max(1, min(shortest - self._gram + 1, budget, _MAX_STRIDE))
        # Four-byte grams are read as machine words when the stride is a whole number of words: a strided
        # memoryview gives them without making a bytes object for each, about twice as fast as findall.
        self._words = self._gram == 4 and self._stride >= 4 and _WORD_SIZE == 4
        if self._words:
            self._stride -= self._stride % 4
        self._head = self._gram + self._stride - 1  # bytes of each value the grams come from
        self._heads = frozenset(v[: self._head] for v in values)
        #: The first gram of every value: a cheap test that no value starts somewhere.
        self.firsts = frozenset(v[: self._gram] for v in values)
        self.gram = self._gram
        self._index = self._build_index(values)
        # Zero-width lookahead reads a gram, then the stride is consumed: findall yields the gram at
        # 0, h, 2h, ... and stops where fewer than q bytes are left.
        self._sampler = re.compile(b"(?s)(?=(.{%d})).{1,%d}" % (self._gram, self._stride))
        # An occurrence lies inside a run of bytes that values contain, at least as long as the shortest
        # value: in ordinary output (words, numbers, punctuation) such runs are rare, and the sampling
        # need only read them. translate() marks those bytes 1 and the others 0; find() of `shortest` ones
        # then skips through the output at C speed. None when values use every byte.
        alphabet = set(b"".join(values))
        self._marks = bytes(int(c in alphabet) for c in range(256)) if len(alphabet) < 256 else None
        self._run = b"\1" * shortest

    def _build_index(self, values: Sequence[bytes]) -> dict[bytes | int, tuple[int, ...]]:
        """Each gram at offsets ``0 .. h-1`` of a value -> the offsets where a value has it.

        Built an offset at a time with dict operations that run in C (a value loop in Python was most of the
        time a masker took to build, with many values): every value is at least ``q + h - 1`` bytes long, so
        the grams at one offset are one slice of each value.
        """
        index: dict[bytes | int, tuple[int, ...]] = {}
        shared: dict[tuple[int, ...], tuple[int, ...]] = {}  # one copy of each tuple of offsets
        size = self._gram
        for offset in range(self._stride):
            pieces = b"".join([v[offset : offset + size] for v in values])
            grams: list[bytes] | list[int]
            if self._words:
                grams = memoryview(pieces).cast("I").tolist()  # the machine words, as starts() reads them
            else:
                grams = [pieces[i : i + size] for i in range(0, len(pieces), size)]
            fresh: dict[bytes | int, tuple[int, ...]] = dict.fromkeys(grams, (offset,))
            # A gram some value has at an earlier offset keeps that offset too (rare: one set operation finds them).
            merged = {g: index[g] + (offset,) for g in index.keys() & fresh.keys()}
            index.update(fresh)
            index.update({g: shared.setdefault(t, t) for g, t in merged.items()})
        return index

    def starts(self, buf: bytes) -> list[int]:
        """Every position of ``buf`` where a value may start, ascending (a superset; checked later)."""
        if len(self._values) <= _FIND_AT_MOST:  # find() beats any sampling at a few values (one and its forms)
            found: set[int] = set()
            for value in self._values:
                at = buf.find(value)
                while at >= 0:
                    found.add(at)
                    at = buf.find(value, at + 1)
            return sorted(found)
        index, stride, heads, head = self._index, self._stride, self._heads, self._head
        starts: set[int] = set()
        words = memoryview(buf)[: len(buf) - len(buf) % 4].cast("I") if self._words else None
        for lo, hi in self._regions(buf):
            grams: Sequence[bytes | int]
            if words is not None:
                first = lo - lo % 4  # the word that holds lo: one sample more, never one less
                grams = words[first // 4 : (hi - 4) // 4 + 1 : stride // 4]
            else:
                first, grams = lo, self._sampler.findall(buf, lo, hi)
            for k in itertools.compress(range(len(grams)), map(index.__contains__, grams)):
                at, offsets = first + k * stride, index[grams[k]]
                for offset in offsets:
                    start = at - offset
                    if start >= lo and buf[start : start + head] in heads:
                        starts.add(start)
        return sorted(starts)

    def _regions(self, buf: bytes) -> list[tuple[int, int]]:
        """Spans of ``buf`` that hold every occurrence: runs of value bytes, joined when close together."""
        if self._marks is None:
            return [(0, len(buf))]
        marked, run, join = buf.translate(self._marks), self._run, _JOIN_STRIDES * self._stride
        regions: list[tuple[int, int]] = []
        joined = 0
        lo = marked.find(run)
        while lo >= 0:
            hi = marked.find(b"\0", lo + len(run))
            hi = len(buf) if hi < 0 else hi
            if regions and lo - regions[-1][1] < join:
                regions[-1] = (regions[-1][0], hi)
                joined += 1
                if joined > _DENSE_RUNS:  # runs everywhere: the rest is one region, not one call per run
                    regions[-1] = (regions[-1][0], len(buf))
                    break
            else:
                regions.append((lo, hi))
                joined = 0
            lo = marked.find(run, hi)
        return regions
