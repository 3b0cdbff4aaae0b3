"""Shell completion, in real shells: an interactive bash and zsh on a pseudo-terminal, with the script that
`envinject --show-completion` prints loaded the way the README says, and fish's own completion machinery."""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ENVINJECT

BIN = str(Path(ENVINJECT).parent)
FORMATS = ["dotenv", "shell", "json", "docker", "github"]


@pytest.mark.parametrize(("shell", "marker"), [("bash", "complete -o default -F _envinject_completion envinject"),
                                               ("zsh", "#compdef envinject")])  # fmt: skip
def test_completion_script(shell: str, marker: str) -> None:
    # typer guesses the shell from the parent process unless told not to; then --show-completion takes one.
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    r = subprocess.run([ENVINJECT, f"--show-completion={shell}"], capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == 0, r.stderr
    assert marker in r.stdout


class Terminal:
    """An interactive shell on a pseudo-terminal: type into it, and read what it echoes back."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.fd, slave = pty.openpty()
        env = {"PATH": f"{BIN}:{os.environ['PATH']}", "HOME": str(cwd), "TERM": "dumb", "LANG": "C.UTF-8",
               "PS1": "$ ", "PROMPT": "$ "}  # fmt: skip
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
                                     start_new_session=True)  # fmt: skip
        os.close(slave)
        self.seen = b""

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait_for(self, pattern: str, since: int = 0, timeout: float = 20.0) -> str:
        """What was echoed from ``since`` (a :meth:`mark`) on, once it matches ``pattern`` (a regex over the
        text without escapes)."""
        deadline = time.monotonic() + timeout
        while not re.search(pattern, self.text()[since:]):
            left = deadline - time.monotonic()
            assert left > 0, f"no {pattern!r} in {self.text()!r}"
            if select.select([self.fd], [], [], left)[0]:
                try:
                    self.seen += os.read(self.fd, 65536)
                except OSError:
                    break
        return self.text()[since:]

    def text(self) -> str:
        # Without cursor movement and colour escapes, and with the carriage returns zsh redraws with.
        plain = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[=>]|\x07|\r", b"", self.seen)
        return plain.decode(errors="replace")

    def mark(self) -> int:
        return len(self.text())

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()
        os.close(self.fd)


@pytest.fixture(params=["bash", "zsh"])
def terminal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Terminal]:
    shell = request.param
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed (CI installs it)")
    if shell == "bash":
        term = Terminal(["bash", "--norc", "--noprofile", "-i"], tmp_path)
        # One TAB lists the choices when there are several, as zsh does by default (bash wants two otherwise).
        term.type("bind 'set show-all-if-ambiguous on'; bind 'set bell-style none'\n")
        term.type('eval "$(envinject --show-completion bash)"; echo lo""aded\n')
    else:
        term = Terminal(["zsh", "-f", "-i"], tmp_path)
        # No end-of-line mark (% or #) before a prompt: the output is what completion printed, nothing else.
        term.type("unsetopt prompt_sp\n")
        term.type('autoload -Uz compinit && compinit -u; eval "$(envinject --show-completion zsh)"; echo lo""aded\n')
    term.wait_for(r"loaded\n")
    yield term
    term.close()


def test_a_command_name_completes(terminal: Terminal) -> None:
    terminal.type("envinject exp\t")
    terminal.wait_for(r"envinject export $")


def test_an_option_completes(terminal: Terminal) -> None:
    terminal.type("envinject export --fo\t")
    terminal.wait_for(r"envinject export --for$")  # two options start so: the line grows to what they share
    at = terminal.mark()
    terminal.type("\t")
    # and the next TAB lists both; a slow machine may show one line before the other
    terminal.wait_for(r"(?s)(?=.*--force)(?=.*--format)", since=at)


def test_a_format_lists_the_formats(terminal: Terminal) -> None:
    at = terminal.mark()
    terminal.type("envinject export --format \t")
    shown = terminal.wait_for(FORMATS[-1], since=at)
    assert all(name in shown for name in FORMATS), shown


def test_a_secret_name_completes_to_nothing_silently(terminal: Terminal) -> None:
    at = terminal.mark()
    terminal.type("envinject --secret \t")
    # Ctrl-U clears the line (Ctrl-C would also flush what was typed ahead), then a command that prints done:
    # when it has run, everything the TAB printed has been read. Its echo as typed does not hold that word.
    terminal.type("\x15echo 'do'ne\n")
    shown = terminal.wait_for(r"done\n", since=at)
    before = shown.split("echo 'do'ne")[0]
    assert "not supported" not in shown and "Error" not in shown
    # What the terminal echoed of the typed line is not a completion: a TAB typed ahead is echoed as it is,
    # and zsh may redraw the line with blanks and backspaces. Nothing printable is left besides.
    left = re.sub(r"[\s\x08]|\^C|\$", "", before.replace("envinject --secret", ""))
    assert left == "", before


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (CI installs it)")
@pytest.mark.parametrize(
    ("line", "wanted"),
    [("envinject exp", ["export"]), ("envinject export --fo", ["--format", "--force"]),
     ("envinject export --format ", FORMATS), ("envinject --secret ", [])],
)  # fmt: skip
def test_fish_completes_with_its_own_machinery(tmp_path: Path, line: str, wanted: list[str]) -> None:
    script = subprocess.run([ENVINJECT, "--show-completion=fish"], capture_output=True, text=True, check=True).stdout
    (tmp_path / "envinject.fish").write_text(script)
    empty = tmp_path / "empty"  # fish, like bash, offers file names when a command offers nothing
    empty.mkdir()
    env = {"PATH": f"{BIN}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    r = subprocess.run(["fish", "--no-config", "-c", f"source {tmp_path / 'envinject.fish'}; complete -C '{line}'"],
                       capture_output=True, text=True, env=env, cwd=empty, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    got = [row.split("\t")[0] for row in r.stdout.splitlines()]
    assert sorted(got) == sorted(wanted), r.stdout
    assert "not supported" not in r.stderr
