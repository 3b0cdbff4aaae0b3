"""A child for the --mask tests: prints values in the forms programs print them in. argv: SOURCE [SOURCE...].

A SOURCE is ``env:NAME`` (the variable's value) or ``file:NAME`` (the content of the file whose path NAME holds).
It prints ``round PID N`` and then, for each source, one line per form (see ``forms``); again on each SIGHUP,
reading every value anew. It runs until SIGTERM.
"""

import base64
import json
import os
import signal
import sys
import time
from urllib.parse import quote, quote_plus


def forms(value: bytes) -> list[tuple[str, bytes]]:
    """(label, what a program prints): the value itself and the encodings programs write it in."""
    text = value.decode("utf-8", "surrogateescape")
    out = [("raw", value)]
    out += [(f"line{i}", line) for i, line in enumerate(value.splitlines())]
    for prefix in (b"", b"u:", b"us:", b"use:"):  # each alignment inside longer base64 (a Basic header)
        out.append((f"b64-{len(prefix)}", base64.b64encode(prefix + value)))
        out.append((f"b64url-{len(prefix)}", base64.urlsafe_b64encode(prefix + value)))
    out += [("quote", quote(value).encode()), ("quote_plus", quote_plus(value).encode())]
    out += [
        ("json", json.dumps(text).encode()),
        ("json-native", json.dumps(text, ensure_ascii=False).encode("utf-8", "surrogateescape")),
    ]
    out += [("repr", repr(text).encode("utf-8", "surrogateescape")), ("repr-bytes", repr(value).encode())]
    out += [("dict", str({"k": text, "q": "'"}).encode("utf-8", "surrogateescape"))]
    return out


def read(source: str) -> bytes:
    kind, name = source.split(":", 1)
    if kind == "env":
        return os.environb[name.encode()]
    with open(os.environ[name], "rb") as f:
        return f.read()


rounds = 0


def report(*_: object) -> None:
    global rounds
    rounds += 1
    lines = [f"round {os.getpid()} {rounds}".encode()]
    for source in sys.argv[1:]:
        lines += [label.encode() + b" " + form for label, form in forms(read(source))]
    sys.stdout.buffer.write(b"\n".join(lines) + b"\n")
    sys.stdout.buffer.flush()


signal.signal(signal.SIGHUP, report)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
report()
while True:
    time.sleep(0.05)
