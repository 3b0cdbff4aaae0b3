"""envinject's own stdio: closed streams, a reader that goes away (EPIPE) and a full disk (/dev/full)."""

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ENVINJECT, base_env
from tests.emulator import Emulator

CANARY = "sk-canary-stdio-5d1e"
#: Values long enough that their export cannot fit in a pipe's buffer, each short enough for exec.
BIG = {"token": CANARY, **{f"big{i}": "x" * 100_000 for i in range(3)}}
#: Records that it ran, the value it got and whether its stdout and stderr were open, in the file argv[1].
REPORTER = [
    sys.executable,
    "-c",
    "import os, sys, json; json.dump([os.environ.get('TOKEN'), os.path.exists('/proc/self/fd/1'), "
    "os.path.exists('/proc/self/fd/2')], open(sys.argv[1], 'w'))",
]


@pytest.fixture
def secret(sm: Any) -> None:
    sm.create_secret(Name="app", SecretString=json.dumps(BIG))


def envinject(emulator: Emulator, cwd: Path, *args: str, redirect: str = "", **popen: Any) -> subprocess.Popen[bytes]:
    """The installed envinject, started by sh with ``redirect`` applied to it (``>&-``, ``>/dev/full``)."""
    script = f'exec "$@" {redirect}'
    return subprocess.Popen(["sh", "-c", script, "sh", ENVINJECT, *args], env=base_env(emulator), cwd=cwd, **popen)


@pytest.mark.parametrize(
    ("redirect", "still_open"), [(">&-", [False, True]), ("2>&-", [True, False]), (">&- 2>&-", [False, False])]
)
def test_the_command_runs_with_a_closed_stdout_or_stderr(
    secret: None, emulator: Emulator, tmp_path: Path, redirect: str, still_open: list[bool]
) -> None:
    # GNU env runs the command and leaves the closed descriptor closed; so does envinject.
    report = tmp_path / "report.json"
    p = envinject(emulator, tmp_path, "-s", "app", "--", *REPORTER, str(report), redirect=redirect)
    assert p.wait(timeout=60) == 0
    token, *open_ = json.loads(report.read_text())
    assert token == CANARY
    assert open_ == still_open


def test_a_failure_with_stderr_closed_still_exits_125(emulator: Emulator, tmp_path: Path) -> None:
    p = envinject(emulator, tmp_path, "-s", "nosuchsecret", "--", "true", redirect="2>&-", stdout=subprocess.PIPE)
    out, _ = p.communicate(timeout=60)
    assert (p.returncode, out) == (125, b"")


@pytest.mark.parametrize(
    "args",
    [
        ["export", "-s", "app"],
        ["export", "-s", "app", "-f", "github", "--github-mask"],
        ["-s", "app", "--dry-run", "--", "true"],
        ["check", "-s", "app"],
        ["--help"],
    ],
)
def test_a_reader_that_went_away_ends_envinject_quietly_by_sigpipe(
    secret: None, emulator: Emulator, tmp_path: Path, args: list[str]
) -> None:
    # As `envinject export | head -c 100`: the coreutils convention, killed by SIGPIPE (141 in a shell). A short
    # output fits in the pipe, so the reader goes before envinject has started writing (it takes >100 ms to).
    p = envinject(emulator, tmp_path, *args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert p.stdout is not None and p.stderr is not None
    if args[0] == "export":
        assert p.stdout.read(100)
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(timeout=60) == -signal.SIGPIPE
    assert err == b""


#: Secrets with so many keys that a dry run or a check lists far more than a pipe holds (each under the
#: 64 KiB a SecretString may have).
MANY = [f"names{n}" for n in range(6)]
#: Every command whose own output can be large, each made to write several pipe buffers' worth.
LARGE = {
    **{f"export {fmt}": ["export", "-s", "app", "-f", fmt] for fmt in ("dotenv", "shell", "json", "github")},
    # docker holds no line over 64 KiB: many short ones instead.
    "export docker": ["export", *(a for name in MANY for a in ("-s", name)), "-f", "docker"],
    "export github --github-mask": ["export", "-s", "app", "-f", "github", "--github-mask"],
    "render": ["render", "big.json"],
    "dry-run": [*(a for name in MANY for a in ("-s", name)), "--dry-run", "--", "true"],
    "check": ["check", *(a for name in MANY for a in ("-s", name))],
}


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "PYTHONUNBUFFERED"])
@pytest.mark.parametrize("args", list(LARGE.values()), ids=list(LARGE))
def test_a_reader_that_leaves_in_the_middle_of_a_large_write_gets_141(
    secret: None, sm: Any, emulator: Emulator, tmp_path: Path, args: list[str], unbuffered: str
) -> None:
    # `envinject export | head -c 100` with an output of several pipe buffers: the pipe takes a part of the write,
    # then its reader is gone. The rest must not be dropped as if written: 141 (SIGPIPE), never 0. Container
    # images often set PYTHONUNBUFFERED=1, under which Python's text layer itself drops what a write left.
    for name in MANY:
        keys = {f"{name.upper()}_{i:04d}_" + "k" * 80: "v" for i in range(600)}
        sm.create_secret(Name=name, SecretString=json.dumps(keys))
    (tmp_path / "big.json").write_text("[" + ", ".join(f"{{{{ sm://app#big{i} }}}}" for i in range(3)) + "]")
    script = 'set -o pipefail; "$@" | head -c 100 >/dev/null; echo "${PIPESTATUS[0]}"'
    env = {**base_env(emulator), "PYTHONUNBUFFERED": unbuffered}
    whole = subprocess.run([ENVINJECT, *args], env=env, cwd=tmp_path, capture_output=True, timeout=120)
    assert whole.returncode in (0, 1) and len(whole.stdout) > 4 * 65536, whole.stderr  # check says 1: names only
    r = subprocess.run(["bash", "-c", script, "bash", ENVINJECT, *args], env=env, cwd=tmp_path, capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.stdout == "141\n"
    assert r.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ["export", "-s", "app"],
        ["export", "-s", "app", "-f", "github", "--github-mask"],
        ["-s", "app", "--dry-run", "--", "true"],
        ["check", "-s", "app"],
        ["policy", "-s", "app", "--account", "123456789012"],
        ["--help"],
        ["--version"],
    ],
)
def test_a_full_disk_is_one_line_and_125(secret: None, emulator: Emulator, tmp_path: Path, args: list[str]) -> None:
    p = envinject(emulator, tmp_path, *args, redirect=">/dev/full", stderr=subprocess.PIPE)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 125
    assert err.decode() == (
        "envinject: cannot write to stdout: No space left on device; check the disk or the file it goes to\n"
    )
    assert CANARY.encode() not in err


def test_the_command_gets_sigpipe_and_sigxfsz_back(secret: None, emulator: Emulator, tmp_path: Path) -> None:
    # Python ignores both, and exec keeps an ignored signal ignored: `envinject -- yes | head` must end `yes`.
    p = envinject(emulator, tmp_path, "--", "grep", "^SigIgn:", "/proc/self/status", stdout=subprocess.PIPE)
    out, _ = p.communicate(timeout=60)
    ignored = int(out.split()[1], 16)
    assert ignored & (1 << (signal.SIGPIPE - 1)) == 0
    assert ignored & (1 << (signal.SIGXFSZ - 1)) == 0
    yes = envinject(emulator, tmp_path, "-s", "app", "--", "yes", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert yes.stdout is not None and yes.stderr is not None
    yes.stdout.read(10)
    yes.stdout.close()
    assert yes.wait(timeout=60) == -signal.SIGPIPE
    assert yes.stderr.read() == b""
