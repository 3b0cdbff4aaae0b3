"""envinject's own standard streams; each case runs in a fresh interpreter, whose descriptors it may close."""

import json
import subprocess
import sys

PROBE = """
import json, os, sys
from envinject.system.stdio import open_closed
{setup}
open_closed()
sys.stdout.write("to nowhere"); sys.stdout.flush()  # must not fail, wherever it goes
report = [os.path.exists(f"/proc/self/fd/{{fd}}") and os.readlink(f"/proc/self/fd/{{fd}}") for fd in (0, 1, 2)]
report += [os.get_inheritable(fd) for fd in (0, 1, 2)]
with open(sys.argv[1], "w") as f:
    json.dump(report, f)
"""


def probe(tmp_path: object, setup: str, redirect: str) -> list[object]:
    out = f"{tmp_path}/report.json"
    code = PROBE.format(setup=setup)
    subprocess.run(["sh", "-c", f'exec "$@" {redirect}', "sh", sys.executable, "-c", code, out], check=True)
    with open(out) as f:
        return list(json.load(f))


def test_closed_descriptors_get_a_stand_in_the_command_does_not_inherit(tmp_path: object) -> None:
    report = probe(tmp_path, "", "<&- >&- 2>&-")
    assert report == ["/dev/null", "/dev/null", "/dev/null", False, False, False]


def test_a_stream_python_found_closed_writes_nowhere_even_if_its_number_was_taken(tmp_path: object) -> None:
    # Python saw fd 1 closed at start (sys.stdout is None); something has since opened a file as fd 1.
    setup = "assert sys.stdout is None; taken = os.open(os.devnull, os.O_WRONLY); assert taken == 1"
    report = probe(tmp_path, setup, ">&-")
    assert report[1] == "/dev/null"


def test_every_byte_reaches_a_slow_non_blocking_reader() -> None:
    # A descriptor left non-blocking by whoever started envinject takes a part of a large write, then refuses
    # (EAGAIN) until the reader makes room: the rest is written then, not dropped.
    code = (
        "import os, sys\n"
        "os.set_blocking(1, False)\n"
        "from envinject.system.stdio import write_stdout\n"
        "write_stdout('0123456789abcdé\\n' * 100_000)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env={"PYTHONUNBUFFERED": "1"})
    assert p.stdout is not None
    chunks = []
    while chunk := p.stdout.read(4096):
        chunks.append(chunk)
    assert p.wait(timeout=60) == 0
    assert b"".join(chunks) == "0123456789abcdé\n".encode() * 100_000
