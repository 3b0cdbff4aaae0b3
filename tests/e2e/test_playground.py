"""`make try`: the playground after the demo, as a reader uses it: a shell where the examples work, settings to
paste elsewhere, and an emulator that stops when the playground ends."""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

from tests.e2e.conftest import ENVINJECT
from tests.e2e.test_completion import Terminal

ROOT = Path(__file__).parents[2]
PLAYGROUND = [str(Path(ENVINJECT).with_name("python")), str(ROOT / "examples" / "playground.py")]


def port_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as s:
        return s.connect_ex((host, int(port))) == 0


def test_make_try_runs_the_playground() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^try: \$\(DEMO_STAMP\)\n\t\$\(BIN\)/python examples/playground.py$", makefile, re.M)


def test_a_command_runs_in_the_playground(tmp_path: Path) -> None:
    r = subprocess.run([*PLAYGROUND, "--", "bash", "-c", "envinject -s APIKEYS -- python bot.py && envinject check "
                        "-s prod/db -s ssm:///myapp/prod/ | tail -1"], capture_output=True, text=True, timeout=120,
                       cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout == "bot: OPENAI = sk-...34\nbot: ANTHROPIC = sk-...78\nok: everything would work\n"


def test_the_shell_has_envinject_and_the_emulator_stops_with_it(tmp_path: Path) -> None:
    term = Terminal([*PLAYGROUND], tmp_path)
    try:
        text = term.wait_for(r"a shell with envinject on PATH", timeout=60)
        url = re.search(r"emulator on (http://127\.0\.0\.1:\d+)", text)
        assert url is not None, text
        term.type("command -v envinject; envinject -s APIKEYS -- python bot.py\n")
        shown = term.wait_for(r"bot: ANTHROPIC = sk-\.\.\.78")
        assert ENVINJECT in shown
        assert port_open(url.group(1))
        term.type("exit\n")
        assert term.proc.wait(timeout=30) == 0
        deadline = time.monotonic() + 10
        while port_open(url.group(1)):
            assert time.monotonic() < deadline, "the emulator still runs after the playground ended"
            time.sleep(0.05)
    finally:
        term.close()


def test_print_gives_settings_to_paste_and_ctrl_c_stops_it(tmp_path: Path) -> None:
    p = subprocess.Popen([*PLAYGROUND, "--print"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=tmp_path)  # fmt: skip
    assert p.stdout is not None
    lines = []
    while not lines or not lines[-1].startswith("cd "):
        lines.append(p.stdout.readline())
        assert lines[-1], "the playground ended early"
    env = dict(shlex.split(line)[1].split("=", 1) for line in lines if line.startswith("export "))
    assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
    folder = shlex.split(lines[-1])[1]
    pasted = subprocess.run(["bash", "-c", "envinject -s APIKEYS -- python bot.py"], env={**os.environ, **env},
                            cwd=folder, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert pasted.stdout == "bot: OPENAI = sk-...34\nbot: ANTHROPIC = sk-...78\n", pasted.stderr
    p.send_signal(signal.SIGINT)
    assert p.wait(timeout=30) == 0
    assert not port_open(env["AWS_ENDPOINT_URL"])
