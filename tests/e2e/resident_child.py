"""A child for the resident-mode tests. argv: LOG_FILE MODE.

It appends "start PID TOKEN" to LOG_FILE, then by MODE: "trap" records SIGTERM/SIGINT/SIGHUP as
"signal NAME PID" and exits 0 on SIGTERM/SIGINT; "ignore" ignores SIGTERM; "plain" installs nothing.
"""

import os
import signal
import sys
import time

log, mode = sys.argv[1], sys.argv[2]


def write(line: str) -> None:
    with open(log, "a") as f:
        f.write(line + "\n")


def on_signal(signum: int, _frame: object) -> None:
    write(f"signal {signal.Signals(signum).name} {os.getpid()}")
    if signum != signal.SIGHUP:
        sys.exit(0)


if mode == "trap":
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
elif mode == "ignore":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
write(f"start {os.getpid()} {os.environ.get('TOKEN', '')}")
while True:
    time.sleep(0.05)
