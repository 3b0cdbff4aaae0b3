"""Hide secret values in a byte stream (``--mask``). Pure: bytes in, bytes out, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable

#: What every occurrence of a value becomes.
MASK = b"*****"

#: Values shorter than this many characters are not masked: masking ``true``, ``5432`` or ``prod``
#: would garble ordinary output and hide nothing worth hiding.
DEFAULT_MIN_LENGTH = 6


def _encode(value: str) -> bytes:
    # The bytes the child sees in its environment: os.environ decodes undecodable bytes to surrogates.
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


class Masker:
    """Replace every occurrence of any value with ``MASK`` in a stream fed chunk by chunk.

    Matches are chosen as one pass over the whole stream would: at the leftmost position where a value
    starts, the longest value that matches there wins, and the scan goes on after it. Feeding a stream in
    any split gives exactly what masking it in one piece gives. Bytes that cannot be the start of a value
    are returned at once; only a tail that could still become a value (at most the longest value's length
    minus one) is held back until more input or ``flush()`` decides it.
    """

    def __init__(self, values: Iterable[str], min_length: int = DEFAULT_MIN_LENGTH) -> None:
        """Mask ``values`` (UTF-8 encoded) that are at least ``min_length`` characters long."""
        minimum = max(min_length, 1)
        # Longest first: a regex alternation takes the first alternative that matches at a position.
        patterns = sorted({_encode(v) for v in values if len(v) >= minimum}, key=lambda p: (-len(p), p))
        self._regex = re.compile(b"|".join(re.escape(p) for p in patterns)) if patterns else None
        self._prefixes = frozenset(p[:i] for p in patterns for i in range(1, len(p)))
        self._max_len = len(patterns[0]) if patterns else 0
        self._tail = b""

    @property
    def active(self) -> bool:
        """Whether any value is masked at all (otherwise output can pass through untouched)."""
        return self._regex is not None

    @property
    def pending(self) -> int:
        """How many bytes are held back, waiting to show whether they start a value."""
        return len(self._tail)

    def feed(self, chunk: bytes) -> bytes:
        """Take the next chunk of the stream; return all the masked output that is already certain."""
        if self._regex is None:
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
        for i in range(max(0, len(buf) - self._max_len + 1), len(buf)):
            if buf[i:] in self._prefixes:
                return i
        return len(buf)

    def _scan(self, buf: bytes, end: int) -> tuple[bytes, int]:
        """Mask matches that start before ``end``; return the output and how much of ``buf`` it used.

        A match may run past ``end``; then the output covers it entirely.
        """
        parts: list[bytes] = []
        pos = 0
        if self._regex is not None:
            for m in self._regex.finditer(buf):
                if m.start() >= end:
                    break
                parts += (buf[pos : m.start()], MASK)
                pos = m.end()
        if pos < end:
            parts.append(buf[pos:end])
            pos = end
        return b"".join(parts), pos
