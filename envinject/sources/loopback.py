"""One HTTP/1.1 GET to a server on this machine, over a plain socket: what the local agent needs, and nothing that
loads ``ssl`` (``http.client`` imports it, a tenth of a start) or botocore.

The answer is read as hostile input: a status line that is no HTTP status, headers longer than
:data:`MAX_HEADERS`, a body longer than :data:`MAX_BODY`, a length that disagrees with itself, broken chunks or a
connection closed early are each a :class:`LoopbackError` whose reason quotes nothing the server sent.
"""

from __future__ import annotations

import re
import socket
import time

from ..records import record

#: The most header bytes an answer may have (the agent sends a few short lines).
MAX_HEADERS = 16 * 1024
#: The most body bytes: a secret is at most 64 KiB, and its answer carries it once (base64 for a binary one).
MAX_BODY = 1024 * 1024
_STATUS = re.compile(rb"HTTP/1\.[01] ([1-5][0-9][0-9])(?: [^\r\n]*)?")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,8})(?:;[^\r\n]*)?")


@record(frozen=True)
class Answer:
    status: int
    #: The body, as sent (not decoded): it may hold a value.
    body: bytes = b""


class LoopbackError(Exception):
    """No usable answer. ``reason`` is ours ("connection refused", "no answer in time", "a malformed answer"),
    never the server's text; ``connecting`` is True when no connection was made."""

    def __init__(self, reason: str, *, connecting: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.connecting = connecting


def get(
    host: str, port: int, target: str, headers: dict[str, str], *, connect_timeout: float, timeout: float
) -> Answer:
    """``GET target`` from ``host:port``, with ``headers`` (values checked by the caller: visible ASCII only),
    ``Connection: close``; ``timeout`` bounds the whole exchange after connecting."""
    started = time.monotonic()
    try:
        sock = socket.create_connection((host, port), timeout=connect_timeout)
    except TimeoutError:
        raise LoopbackError("connection timed out", connecting=True) from None
    except ConnectionRefusedError:
        raise LoopbackError("connection refused", connecting=True) from None
    except OSError as e:
        raise LoopbackError(_os_reason(e), connecting=True) from None
    with sock:
        lines = [f"GET {target} HTTP/1.1", f"Host: {host}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
        request = "\r\n".join([*lines, "Connection: close", "", ""]).encode("ascii")
        reader = _Reader(sock, started + timeout)
        try:
            sock.sendall(request)
            return reader.answer()
        except TimeoutError:
            raise LoopbackError("no answer in time", connecting=False) from None
        except OSError as e:
            raise LoopbackError(_os_reason(e), connecting=False) from None


def _os_reason(e: OSError) -> str:
    import os

    return os.strerror(e.errno).lower() if e.errno else "connection failed"


class _Reader:
    """The answer on a socket, read to a deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline
        self._buffer = b""
        self._closed = False

    def _more(self) -> bool:
        """Read what has arrived into the buffer; False once the server has closed."""
        if self._closed:
            return False
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        self._sock.settimeout(left)
        data = self._sock.recv(65536)
        if not data:
            self._closed = True
        self._buffer += data
        return bool(data)

    def _line(self, limit: int) -> bytes:
        while b"\r\n" not in self._buffer[:limit]:
            if len(self._buffer) >= limit:
                raise LoopbackError("a malformed answer (a line too long)", connecting=False)
            if not self._more():
                raise LoopbackError("the connection closed in the middle of an answer", connecting=False)
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def _exactly(self, n: int) -> bytes:
        while len(self._buffer) < n:
            if not self._more():
                raise LoopbackError("the connection closed in the middle of an answer", connecting=False)
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def answer(self) -> Answer:
        while b"\r\n\r\n" not in self._buffer:
            if len(self._buffer) > MAX_HEADERS:
                raise LoopbackError(f"a malformed answer (headers over {MAX_HEADERS} bytes)", connecting=False)
            if not self._more():
                raise LoopbackError("the connection closed before an answer", connecting=False)
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        if len(head) > MAX_HEADERS:
            raise LoopbackError(f"a malformed answer (headers over {MAX_HEADERS} bytes)", connecting=False)
        status_line, *header_lines = head.split(b"\r\n")
        status = _STATUS.fullmatch(status_line)
        if status is None:
            raise LoopbackError("an answer that is not HTTP", connecting=False)
        fields: dict[bytes, list[bytes]] = {}
        for line in header_lines:
            name, colon, value = line.partition(b":")
            if not colon or not name or name != name.strip():
                raise LoopbackError("a malformed answer (a header line)", connecting=False)
            fields.setdefault(name.lower(), []).append(value.strip())
        body = self._body(fields)
        return Answer(int(status.group(1)), body)

    def _body(self, fields: dict[bytes, list[bytes]]) -> bytes:
        encodings = b",".join(fields.get(b"transfer-encoding", [])).lower().replace(b" ", b"")
        if encodings:
            if encodings != b"chunked":
                raise LoopbackError("a malformed answer (an unknown transfer encoding)", connecting=False)
            return self._chunks()
        lengths = set(fields.get(b"content-length", []))
        if len(lengths) > 1:
            raise LoopbackError("a malformed answer (two lengths)", connecting=False)
        if lengths:
            length = lengths.pop()
            if not length.isdigit() or len(length) > 9 or int(length) > MAX_BODY:
                raise LoopbackError(f"a malformed answer (a length that is no number up to {MAX_BODY})",
                                    connecting=False)  # fmt: skip
            return self._exactly(int(length))
        while self._more():  # no length: the body ends where the connection does
            if len(self._buffer) > MAX_BODY:
                raise LoopbackError(f"an answer over {MAX_BODY} bytes", connecting=False)
        if len(self._buffer) > MAX_BODY:
            raise LoopbackError(f"an answer over {MAX_BODY} bytes", connecting=False)
        return self._buffer

    def _chunks(self) -> bytes:
        body = b""
        while True:
            size = _CHUNK_SIZE.fullmatch(self._line(1024))
            if size is None:
                raise LoopbackError("a malformed answer (a chunk size)", connecting=False)
            n = int(size.group(1), 16)
            if n == 0:
                while self._line(MAX_HEADERS):  # trailers, up to the empty line
                    pass
                return body
            if len(body) + n > MAX_BODY:
                raise LoopbackError(f"an answer over {MAX_BODY} bytes", connecting=False)
            body += self._exactly(n)
            if self._exactly(2) != b"\r\n":
                raise LoopbackError("a malformed answer (a chunk's end)", connecting=False)
